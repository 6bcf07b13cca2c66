//! Statements over many rows at once.
//!
//! Every statement is a round trip (on SQLite a hand-off to the connection's thread and
//! back), so the hot paths write a batch with a few multi-row statements instead of a few
//! statements per row. Row lists are cut into chunks of [`CHUNK`]: full chunks reuse one
//! prepared statement; only the remainder is prepared afresh.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use crate::Backend;

/// Rows per multi-row statement.
pub(crate) const CHUNK: usize = 64;

/// Placeholders, written in the order their values are bound: anonymous `?` on SQLite,
/// `$1, $2, ...` on PostgreSQL. (Numbered parameters cost SQLite a search of every name
/// per parameter, when parsing and again when binding: quadratic in a statement of a
/// thousand values.)
pub(crate) struct Marks {
    backend: Backend,
    n: usize,
}

impl Marks {
    pub(crate) fn new(backend: Backend) -> Self {
        Marks { backend, n: 0 }
    }

    /// The next placeholder.
    pub(crate) fn next(&mut self) -> String {
        self.n += 1;
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.n),
        }
    }

    /// `n` placeholders, comma-separated.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }

    /// `rows` tuples of `cols` placeholders: `(?, ?), (?, ?)`.
    pub(crate) fn tuples(&mut self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The first column of every row, as ids, ascending.
pub(crate) fn sorted_ids(rows: &[sqlx::any::AnyRow]) -> Result<Vec<i64>, crate::StoreError> {
    use sqlx::Row;
    let mut ids = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<i64>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
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
    fn placeholders_follow_the_binding_order() {
        let mut pg = Marks::new(Backend::Postgres);
        assert_eq!(pg.next(), "$1");
        assert_eq!(pg.tuples(2, 2), "($2, $3), ($4, $5)");
        assert_eq!(pg.list(2), "$6, $7");
        let mut lite = Marks::new(Backend::Sqlite);
        assert_eq!(lite.tuples(2, 2), "(?, ?), (?, ?)");
        assert_eq!(lite.list(3), "?, ?, ?");
    }
}
