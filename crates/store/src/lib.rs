//! leadrouter's database: one [`Store`] over SQLite (the embedded default) or PostgreSQL,
//! chosen once from `DATABASE_URL`.
//!
//! The same SQL text (with `$1` placeholders, through sqlx's `Any` driver) serves both
//! backends; what really differs between them lives in [`dialect`]. The hot paths (ingest,
//! routing, delivered outcomes) build multi-row statements with `many::Marks`, which
//! writes `?` on SQLite, and run them as one script there (`many::run`).

pub mod admin;
pub mod analytics;
pub mod attempts;
pub mod audit;
mod backend;
mod backup;
pub mod clock;
pub mod consent;
pub mod console;
mod contact_key;
pub mod conversions;
pub mod deliveries;
pub mod erasure;
pub mod erasure_notices;
mod error;
pub mod facebook;
mod intake;
mod json;
pub mod known_contacts;
pub mod lead_search;
pub mod leads;
pub mod listen;
pub mod markets;
pub mod outbox;
pub mod partners;
pub mod portal;
pub mod portal_reads;
pub mod postbacks;
pub mod redelivery;
pub mod retention;
pub mod returns;
pub mod routing;
pub mod secrets;
#[cfg(feature = "testing")]
pub mod seed;
pub mod sessions;
pub mod sources;
mod states;
mod supplier_caps;
pub mod supplier_reads;
#[cfg(feature = "testing")]
pub mod testing;
mod transition;
pub mod work;

pub use backend::dialect;
pub use backend::gate::Priority;
pub(crate) use backend::{gate, many};

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

pub use backend::url::{Backend, DatabaseUrl, DatabaseUrlError, DEFAULT_DATABASE_URL};
pub use error::StoreError;

/// Connection pools to the one database.
///
/// On SQLite all writes go through a single connection: SQLite admits one writer at a time
/// anyway, and serialising in the pool (rather than in SQLite's busy handler) means a write
/// transaction never fails with `SQLITE_BUSY` halfway through. Reads use their own pool and,
/// thanks to WAL, never wait for the writer. On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    backend: Backend,
    /// Where the pools connect (a listener connects there too).
    url: DatabaseUrl,
    /// Order of turns on SQLite's single writer.
    gate: std::sync::Arc<gate::WriteGate>,
    /// Seals stored credentials (`LEADROUTER_SECRET_KEY`), when set.
    sealer: Option<std::sync::Arc<leadrouter_core::sealed::Sealer>>,
    /// Whether queued mail is sent or only recorded: the installation's (a mail service is
    /// configured or not), the same for every mail an event queues.
    sending: outbox::Sending,
    /// The key of erased leads' contact hashes, read (or made) on first use.
    contact_key: std::sync::Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

#[derive(Clone, Debug)]
pub struct PoolSizes {
    pub sqlite_readers: u32,
    pub postgres: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self {
            sqlite_readers: 4,
            postgres: 16,
        }
    }
}

impl Store {
    /// Opens the database (creating an SQLite file if missing). Does not migrate.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        Self::connect_with(url, &PoolSizes::default()).await
    }

    pub async fn connect_with(url: &DatabaseUrl, sizes: &PoolSizes) -> Result<Self, StoreError> {
        let (write, read) = backend::connect::open(url, sizes).await?;
        Ok(Store {
            write,
            read,
            backend: url.backend(),
            url: url.clone(),
            gate: Default::default(),
            sealer: None,
            sending: outbox::Sending::Off,
            contact_key: Default::default(),
        })
    }

    /// This store with stored credentials sealed by `sealer` (see [`secrets`]).
    pub fn with_sealer(mut self, sealer: Option<leadrouter_core::sealed::Sealer>) -> Store {
        self.sealer = sealer.map(std::sync::Arc::new);
        self
    }

    /// This store with queued mail sent (a mail service is configured) or only recorded.
    pub fn with_mail(mut self, sending: outbox::Sending) -> Store {
        self.sending = sending;
        self
    }

    pub(crate) fn sealer(&self) -> Option<&leadrouter_core::sealed::Sealer> {
        self.sealer.as_deref()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every migration not yet applied. Safe to run from several instances at once
    /// (PostgreSQL takes an advisory lock; SQLite serialises on its single writer).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        backend::migrator(self.backend)
            .run(&self.write)
            .await
            .map_err(StoreError::Migrate)
    }

    /// On SQLite: moves the write-ahead log into the database file and truncates it, so
    /// that the next commit does not pay for pages written before (at start: by the
    /// migrations or a bulk load, which the first lead's commit would otherwise checkpoint;
    /// after an erasure: the pages as they were). PostgreSQL has nothing of the kind.
    pub async fn truncate_log(&self) -> Result<(), StoreError> {
        if let Some(sql) = crate::dialect::truncate_log_sql(self.backend) {
            sqlx::query(sql)
                .execute(self.write(Priority::Background).await.pool())
                .await?;
        }
        Ok(())
    }

    /// The versions of the migrations this binary carries, in order.
    pub fn known_migrations(backend: Backend) -> Vec<i64> {
        backend::migrator(backend)
            .iter()
            .map(|m| m.version)
            .collect()
    }

    /// The versions recorded as applied in this database.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r: &AnyRow| r.try_get::<i64, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Answers whether the database is reachable and answering queries.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.read).await?;
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// The writer, for a write of this priority: on SQLite it waits for its turn and holds
    /// it until the [`gate::Writer`] (or the transaction begun from it) is dropped, so every
    /// write states its priority and none can skip the gate. PostgreSQL has many
    /// connections and needs no turns.
    pub(crate) async fn write(&self, priority: Priority) -> gate::Writer<'_> {
        let turn = self.gate.turn(self.backend, priority).await;
        gate::Writer::new(&self.write, turn)
    }

    /// A write transaction of this priority, holding its turn until commit or drop.
    pub(crate) async fn begin(&self, priority: Priority) -> Result<gate::WriteTx<'_>, StoreError> {
        Ok(self.write(priority).await.begin().await?)
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }
}
