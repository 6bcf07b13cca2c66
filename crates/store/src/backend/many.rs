//! Statements over many rows at once.
//!
//! Every statement is a round trip (on SQLite a hand-off to the connection's thread and
//! back), so the hot paths write a batch with a few multi-row statements instead of a few
//! statements per row, cut into chunks of [`CHUNK`] rows, and [`run`] sends them to SQLite
//! as one script. Batched reads ([`query`]) keep full chunks prepared.

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

/// A value bound to a [`Statement`].
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

/// One statement of a [`run`], with its values in placeholder order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Statement {
    pub(crate) fn new(sql: String) -> Self {
        Statement {
            sql,
            values: Vec::new(),
        }
    }

    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.values.push(v.into());
        self
    }
}

/// What one statement of a [`run`] did.
#[derive(Default)]
pub(crate) struct Done {
    pub rows: Vec<sqlx::any::AnyRow>,
    pub affected: u64,
}

/// Runs statements in order inside the caller's transaction. On SQLite they go to the
/// connection's thread as one script, one hand-off for all of them (its driver binds
/// anonymous `?` values statement after statement); on PostgreSQL one by one.
pub(crate) async fn run(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    statements: &[Statement],
) -> Result<Vec<Done>, crate::StoreError> {
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    match backend {
        Backend::Sqlite => {
            let sql = statements
                .iter()
                .map(|s| s.sql.as_str())
                .collect::<Vec<_>>()
                .join(";\n");
            let values: Vec<&Value> = statements.iter().flat_map(|s| &s.values).collect();
            let done = collect(conn, &sql, &values).await?;
            if done.len() != statements.len() {
                return Err(crate::StoreError::Corrupt(format!(
                    "a script of {} statements reported {}",
                    statements.len(),
                    done.len()
                )));
            }
            Ok(done)
        }
        Backend::Postgres => {
            let mut out = Vec::with_capacity(statements.len());
            for s in statements {
                let values: Vec<&Value> = s.values.iter().collect();
                out.extend(collect(conn, &s.sql, &values).await?);
            }
            Ok(out)
        }
    }
}

/// Statements to run together, each part known by the handle its addition returned, so
/// that results are read by name, never by position arithmetic.
#[derive(Default)]
pub(crate) struct Script {
    statements: Vec<Statement>,
}

/// Where one added part's statements stand in the script.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    start: usize,
    end: usize,
}

/// What each part of a script did.
pub(crate) struct Results(Vec<Done>);

impl Script {
    pub(crate) fn add(&mut self, st: Statement) -> Part {
        self.add_all([st])
    }

    pub(crate) fn add_all(&mut self, sts: impl IntoIterator<Item = Statement>) -> Part {
        let start = self.statements.len();
        self.statements.extend(sts);
        Part {
            start,
            end: self.statements.len(),
        }
    }

    pub(crate) async fn run(
        self,
        conn: &mut sqlx::AnyConnection,
        backend: Backend,
    ) -> Result<Results, crate::StoreError> {
        run(conn, backend, &self.statements).await.map(Results)
    }
}

impl Results {
    /// The results of every statement of `part`, in order.
    pub(crate) fn of(&self, part: Part) -> &[Done] {
        &self.0[part.start..part.end]
    }

    /// The result of a part that is one statement.
    pub(crate) fn one(&self, part: Part) -> &Done {
        &self.0[part.start]
    }
}

/// Executes `sql` (one statement or several) and gathers each statement's rows and count.
#[allow(deprecated)] // `fetch_many`: several statements in one call are SQLite's alone.
async fn collect(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    values: &[&Value],
) -> Result<Vec<Done>, crate::StoreError> {
    use futures::TryStreamExt;
    use sqlx::Executor;
    let mut q = sqlx::query(sql).persistent(false);
    for v in values {
        q = match v {
            Value::Int(i) => q.bind(*i),
            Value::Text(t) => q.bind(t.as_deref()),
        };
    }
    let mut out = Vec::new();
    let mut rows = Vec::new();
    let mut stream = conn.fetch_many(q);
    while let Some(item) = stream.try_next().await? {
        match item {
            sqlx::Either::Left(result) => out.push(Done {
                rows: std::mem::take(&mut rows),
                affected: result.rows_affected(),
            }),
            sqlx::Either::Right(row) => rows.push(row),
        }
    }
    Ok(out)
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
