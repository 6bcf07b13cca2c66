use super::many::{self, Statement};
use super::url::Backend;
use crate::StoreError;
use sqlx::Row;

/// New lead ids. SQLite has one writer, so the ids after the highest ever used are ours
/// (AUTOINCREMENT's sequence counts deleted rows too); PostgreSQL hands them out from the
/// identity's sequence.
pub(crate) fn ids_statement(backend: Backend, n: usize) -> Statement {
    match backend {
        Backend::Sqlite => Statement::new(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0), \
             COALESCE((SELECT MAX(id) FROM leads), 0))"
                .into(),
        ),
        Backend::Postgres => {
            let mut st = Statement::new(
                "SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, $1)"
                    .into(),
            );
            st.bind(n as i64);
            st
        }
    }
}

/// `n` new lead ids, ascending, from the answer to [`ids_statement`].
pub(crate) fn read_ids(
    backend: Backend,
    done: &many::Done,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    match backend {
        Backend::Sqlite => {
            let last: i64 = match done.rows.first() {
                Some(r) => r.try_get(0)?,
                None => 0,
            };
            Ok((1..=n as i64).map(|i| last + i).collect())
        }
        Backend::Postgres => many::sorted_ids(&done.rows),
    }
}
