//! Statements over many rows at once.
//!
//! Every statement is a round trip (on SQLite a hand-off to the connection's thread and
//! back), so the hot paths write a batch with a few multi-row statements instead of a few
//! statements per row. Row lists are cut into chunks of [`CHUNK`]: full chunks reuse one
//! prepared statement; only the remainder is prepared afresh.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

/// Rows per multi-row statement.
pub(crate) const CHUNK: usize = 64;

/// `$first, $first+1, ...`: `n` placeholders.
pub(crate) fn params(n: usize, first: usize) -> String {
    let mut s = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('$');
        s.push_str(&(first + i).to_string());
    }
    s
}

/// `($1, $2), ($3, $4), ...`: `rows` tuples of `cols` placeholders, numbered from `$first`.
pub(crate) fn tuples(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        s.push_str(&params(cols, first + r * cols));
        s.push(')');
    }
    s
}

/// A statement for a list of `n` rows: kept prepared when `n` is a full chunk (the usual
/// shape under load), prepared once and dropped otherwise.
pub(crate) fn query(sql: &str, n: usize) -> Query<'_, Any, AnyArguments<'_>> {
    sqlx::query(sql).persistent(n == CHUNK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(params(3, 2), "$2, $3, $4");
        assert_eq!(tuples(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(tuples(1, 3, 5), "($5, $6, $7)");
    }
}
