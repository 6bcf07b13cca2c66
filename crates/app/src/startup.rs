//! Building and running the server. `serve` takes a bound listener and a shutdown signal,
//! so tests start it on port 0 and stop it when they are done.

use crate::config::Config;
use crate::router::{Handoff, Router};
use anyhow::Context;
use leadrouter_core::clock::Clock;
use leadrouter_core::ssrf::AllowList;
use leadrouter_delivery::client::{ClientSettings, Sender};
use leadrouter_delivery::dns::{Resolve, SystemResolver};
use leadrouter_delivery::facebook::FacebookFetcher;
use leadrouter_delivery::outbound::Outbound;
use leadrouter_delivery::worker::{DeliveryWorker, WorkerSettings};
use leadrouter_store::clock::SystemClock;
use leadrouter_store::ingest::{IngestSettings, Ingestor};
use leadrouter_store::{Backend, Store};
use leadrouter_web::{AppDeps, AppState, WebSettings};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Connects to the database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("DATABASE_URL {}", config.database_url))?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Binds the configured address.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    let addr = std::net::SocketAddr::new(config.bind, config.port);
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Runs everything `leadrouter serve` runs until `shutdown` resolves, then stops accepting
/// and lets in-flight requests finish.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(config, listener, Services::default(), shutdown).await
}

/// The outside world as the server sees it: replaceable so that tests can control time
/// and give test partners' host names fixed addresses.
#[derive(Clone)]
pub struct Services {
    pub clock: Arc<dyn Clock>,
    pub resolver: Arc<dyn Resolve>,
}

impl Default for Services {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            resolver: Arc::new(SystemResolver),
        }
    }
}

pub async fn serve_with(
    config: Config,
    listener: TcpListener,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Services { clock, resolver } = services;
    let store = open_store(&config).await?;
    let router_wake = Arc::new(Notify::new());
    let assigned = Arc::new(Notify::new());
    let (ingestor, ingest_writer) = Ingestor::start(
        store.clone(),
        IngestSettings {
            dedupe_window_ms: config.dedupe_window.as_millis() as i64,
            writers: match store.backend() {
                Backend::Sqlite => 1,
                Backend::Postgres => 4,
            },
            ..IngestSettings::default()
        },
        Arc::clone(&router_wake),
    );
    let facebook_wake = Arc::new(Notify::new());
    let background = CancellationToken::new();
    let extra_roots = match &config.extra_root_certs {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    // Every client that leaves this server: the same roots, no proxy, no redirects.
    let outbound = Outbound {
        timeout: config.delivery_timeout,
        extra_root_certs: extra_roots,
    };
    let http = outbound.client()?;
    // Background tasks: each returns its name when it ends, which before shutdown is a fault.
    let mut tasks: JoinSet<&'static str> = JoinSet::new();
    let fetcher = FacebookFetcher {
        store: store.clone(),
        ingestor: ingestor.clone(),
        clock: Arc::clone(&clock),
        http,
        graph_url: config.facebook_graph_url.clone(),
        retry_schedule: config.retry_schedule.clone(),
        wake: Arc::clone(&facebook_wake),
    }
    .run(background.clone());
    tasks.spawn(async move {
        fetcher.await;
        "the Facebook fetcher"
    });
    let worker_settings = WorkerSettings {
        retry_schedule: config.retry_schedule.clone(),
        timeout: config.delivery_timeout,
        pause_after_failures: config.pause_after_failures,
        max_in_flight: 256,
        max_per_partner: 32,
        retry_after_cap: Duration::from_secs(3600),
        drain_deadline: config.delivery_timeout + Duration::from_secs(1),
    };
    // Routed leads go straight to this instance's delivery worker.
    let (handoff_tx, handoff_rx) = tokio::sync::mpsc::channel(4);
    let router = Router {
        store: store.clone(),
        clock: Arc::clone(&clock),
        wake: Arc::clone(&router_wake),
        assigned: Arc::clone(&assigned),
        hold_max: config.hold_max,
        handoff: config.delivery_enabled.then(|| Handoff {
            tx: handoff_tx,
            lease: worker_settings.lease(),
        }),
    }
    .run(background.clone());
    tasks.spawn(async move {
        router.await;
        "the router"
    });
    let sender = Sender::new(
        &ClientSettings {
            outbound,
            allow: AllowList::new(config.webhook_allow_cidrs.clone()),
        },
        Arc::clone(&resolver),
    )?;
    let worker = DeliveryWorker {
        store: store.clone(),
        clock: Arc::clone(&clock),
        sender: sender.clone(),
        settings: worker_settings,
        wake: Arc::clone(&assigned),
        router_wake: Arc::clone(&router_wake),
        handoff: Some(handoff_rx),
    }
    .run(background.clone());
    if config.delivery_enabled {
        tasks.spawn(async move {
            worker.await;
            "the delivery worker"
        });
    } else {
        tracing::info!("LEADROUTER_DELIVERY=off: this instance delivers nothing");
    }
    let state = AppState::new(AppDeps {
        store: store.clone(),
        clock,
        resolver,
        ingestor,
        facebook_wake,
        router_wake,
        delivery_wake: Arc::clone(&assigned),
        sender,
        settings: WebSettings {
            public_url: config.public_url.clone(),
            allow: AllowList::new(config.webhook_allow_cidrs.clone()),
        },
    });
    let addr = listener.local_addr().context("listener address")?;
    tracing::info!(
        %addr,
        backend = %store.backend(),
        database = %config.database_url,
        "leadrouter listening"
    );
    let server =
        crate::http_server::serve(listener, leadrouter_web::app(state), config.http, shutdown);
    // Every task is watched: one that stops on its own is an error, never silence.
    tokio::select! {
        served = server => served.context("HTTP server")?,
        Some(stopped) = tasks.join_next() => {
            background.cancel();
            match stopped {
                Ok(name) => anyhow::bail!("{name} stopped unexpectedly"),
                Err(e) => anyhow::bail!("a background task failed: {e}"),
            }
        }
    }
    background.cancel();
    while let Some(done) = tasks.join_next().await {
        done.context("background task")?;
    }
    // Every request has been answered and the router (and with it the last handle to the
    // ingest writer) dropped: the writer commits what it holds and stops.
    ingest_writer.await.context("ingest writer")?;
    store.close().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Resolves on SIGTERM (what Render and most supervisors send) or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight work");
}
