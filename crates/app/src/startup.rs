//! Building and running the server. `serve` takes a bound listener and a shutdown signal,
//! so tests start it on port 0 and stop it when they are done.

use crate::config::Config;
use anyhow::Context;
use leadrouter_core::clock::Clock;
use leadrouter_core::secret::Secret;
use leadrouter_core::ssrf::AllowList;
use leadrouter_delivery::client::{ClientSettings, Sender};
use leadrouter_delivery::dns::{Resolve, SystemResolver};
use leadrouter_delivery::facebook::GraphClient;
use leadrouter_delivery::outbound::Outbound;
use leadrouter_delivery::postmark::PostmarkClient;
use leadrouter_engine::mail::{MailContext, Mailing};
use leadrouter_engine::{Driver, Engine, EngineParts, EngineSettings};
use leadrouter_store::clock::SystemClock;
use leadrouter_store::outbox::Sending;
use leadrouter_store::Store;
use leadrouter_web::{AppDeps, AppState, WebSettings};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;

/// Connects to the database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("DATABASE_URL {}", config.database_url))?;
    store.migrate().await.context("applying migrations")?;
    // The first lead's commit does not checkpoint what the migrations (or a bulk load)
    // left in the log.
    store
        .truncate_log()
        .await
        .context("checkpointing the log")?;
    let sealer = config
        .secret_key
        .as_ref()
        .map(|k| leadrouter_core::sealed::Sealer::from_config(k.expose()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("LEADROUTER_SECRET_KEY {e}"))?;
    let store = store.with_sealer(sealer);
    let shared = store.backend() == leadrouter_store::Backend::Postgres;
    if shared && config.secret_key.is_none() && !config.allow_cleartext_secrets {
        anyhow::bail!(
            "LEADROUTER_SECRET_KEY is not set: on PostgreSQL (a deployment) every stored secret \
             would be readable in the database and in every dump. Set it to 32 random bytes in \
             base64 (openssl rand -base64 32; render.yaml generates one), or start with \
             LEADROUTER_ALLOW_CLEARTEXT_SECRETS=1 to accept that"
        );
    }
    match store.check_secret_key().await {
        Ok(leadrouter_store::secrets::KeyCheck::NoKey) => tracing::warn!(
            "LEADROUTER_SECRET_KEY is not set: partners' credentials and signing secrets, Facebook tokens and the contact-hash key are stored unencrypted"
        ),
        Ok(leadrouter_store::secrets::KeyCheck::Opens { sealed_now }) => {
            tracing::info!(sealed_now, "stored credentials are sealed with LEADROUTER_SECRET_KEY")
        }
        Err(e) => anyhow::bail!("{e}"),
    }
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
    /// Filled with the engine's driver once it starts (tests drive the loops with it).
    pub driver: Arc<OnceLock<Driver>>,
}

impl Default for Services {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            resolver: Arc::new(SystemResolver),
            driver: Arc::default(),
        }
    }
}

/// What mails say, and whether they are sent (a Postmark token is set) or only recorded.
fn mailing(config: &Config, sending: bool) -> Mailing {
    Mailing {
        ctx: MailContext {
            public_url: config.public_url.clone(),
            alert_emails: config.alert_emails.clone(),
        },
        sending: if sending { Sending::On } else { Sending::Off },
    }
}

/// Every client that leaves this server: the same roots, no proxy, no redirects. The
/// partner sender adds its guarded resolver and allow-list.
fn outbound_clients(
    config: &Config,
    resolver: Arc<dyn Resolve>,
) -> anyhow::Result<(Sender, GraphClient, Option<PostmarkClient>)> {
    let extra_roots = match &config.extra_root_certs {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let outbound = Outbound {
        timeout: config.delivery_timeout,
        extra_root_certs: extra_roots,
    };
    let graph = GraphClient {
        http: outbound.client()?,
        base_url: config.facebook_graph_url.clone(),
    };
    let postmark = match &config.postmark {
        Some(p) => Some(PostmarkClient {
            http: outbound.client()?,
            base_url: config.postmark_api_url.trim_end_matches('/').to_string(),
            token: p.server_token.clone(),
            from: p.from_email.clone(),
        }),
        None => None,
    };
    let sender = Sender::new(
        &ClientSettings {
            outbound,
            allow: AllowList::new(config.webhook_allow_cidrs.clone()),
        },
        resolver,
    )?;
    Ok((sender, graph, postmark))
}

pub async fn serve_with(
    config: Config,
    listener: TcpListener,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Services {
        clock,
        resolver,
        driver,
    } = services;
    // What the first lead would otherwise load on its way (phone metadata), read meanwhile.
    let warm = tokio::task::spawn_blocking(leadrouter_core::phone::warm_up);
    let store = open_store(&config).await?;
    let (sender, graph, postmark) = outbound_clients(&config, Arc::clone(&resolver))?;
    let mailing = mailing(&config, postmark.is_some());
    // What the store queues is sent, or only recorded, as the installation says.
    let store = store.with_mail(mailing.sending);
    store
        .load_contact_key_now()
        .await
        .context("reading the contact key")?;
    // Before any loop runs: nothing is done before the server can take a signal to stop.
    warm.await.context("reading the phone metadata")?;
    let (engine, mut tasks) = Engine::start(
        EngineParts {
            store: store.clone(),
            clock: Arc::clone(&clock),
            sender: sender.clone(),
            graph,
            postmark,
        },
        &EngineSettings {
            dedupe_window: config.dedupe_window,
            hold_max: config.hold_max,
            attempt_body_retention: config.attempt_body_retention,
            retention: config.retention,
            retry_schedule: config.retry_schedule.clone(),
            delivery_timeout: config.delivery_timeout,
            pause_after_failures: config.pause_after_failures,
            delivery_enabled: config.delivery_enabled,
            routing_enabled: config.routing_enabled,
            mailing: mailing.clone(),
        },
    );
    let _ = driver.set(engine.driver());
    let setup_token = setup_token(&config, &store).await?;
    let state = AppState::new(AppDeps {
        store: store.clone(),
        clock,
        resolver,
        ingestor: engine.ingestor.clone(),
        signals: engine.signals.clone(),
        sender,
        mailing,
        settings: WebSettings {
            public_url: config.public_url.clone(),
            allow: AllowList::new(config.webhook_allow_cidrs.clone()),
            session_key: config.session_secret.cookie_key(),
            metrics_token: config.metrics_token.clone(),
            metrics_public: config.metrics_public,
            return_window_ms: config.return_window.as_millis() as i64,
            trusted_proxies: AllowList::new(config.trusted_proxies.clone()),
            setup_token,
            currency: config.currency.clone(),
            hold_max: config.hold_max,
            timezone: config.timezone.clone(),
            instances: config.instances,
        },
    });
    drop(engine);
    // The markets and niches every lead is read against, loaded before the first lead.
    state
        .catalog()
        .await
        .context("reading the markets and niches")?;
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
        Some(stopped) = tasks.set.join_next() => {
            let _ = tasks.stop().await;
            match stopped {
                Ok(name) => anyhow::bail!("{name} stopped unexpectedly"),
                Err(e) => anyhow::bail!("a background task failed: {e}"),
            }
        }
    }
    // Every request has been answered: the loops stop, the ingest writer commits what it
    // holds once the last handle to it is gone.
    tasks.stop().await.context("background task")?;
    store.close().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// What the first-run setup form wants: `LEADROUTER_SETUP_TOKEN`, or a token made now
/// and written to the log while no operator exists (whoever runs the server reads its
/// log; whoever only reaches its port does not). Once an operator exists, it opens
/// nothing.
async fn setup_token(config: &Config, store: &Store) -> anyhow::Result<Secret> {
    if let Some(t) = &config.setup_token {
        return Ok(t.clone());
    }
    let made = Secret::new(leadrouter_web::secrets::random_token());
    if store
        .count_admin_users()
        .await
        .context("counting operators")?
        == 0
    {
        tracing::warn!(
            setup_token = made.expose(),
            "no operator exists yet: open /admin/setup and give this setup token (or set \
             LEADROUTER_SETUP_TOKEN, or run `leadrouter admin create-user`)"
        );
    }
    Ok(made)
}

/// Resolves on SIGTERM (what Render and most supervisors send) or ctrl-c. The SIGTERM
/// handler is installed when this is called, not when the future is first awaited: a
/// supervisor's stop that comes while the server is still starting is a graceful stop too.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
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
}
