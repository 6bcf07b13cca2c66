//! `leadrouter backup FILE`: a consistent online copy of an SQLite database (`VACUUM INTO`
//! reads one snapshot, so the copy holds every transaction committed before it began and
//! none half-done, while the server goes on writing). PostgreSQL has its own tools.

use crate::{dialect, Store, StoreError};

impl Store {
    pub async fn backup_to(&self, file: &std::path::Path) -> Result<(), StoreError> {
        let Some(sql) = dialect::online_copy_sql(self.backend()) else {
            return Err(StoreError::Unsupported(
                "backup copies SQLite databases; for PostgreSQL use pg_dump (for example \
                 pg_dump --format=custom \"$DATABASE_URL\" > leadrouter.dump) and pg_restore"
                    .into(),
            ));
        };
        let path = file.to_string_lossy().into_owned();
        sqlx::query(sql).bind(path).execute(self.reader()).await?;
        Ok(())
    }
}
