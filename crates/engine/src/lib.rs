//! The running system: the ingest writer (group commit), the router, the delivery worker
//! with its settler, the Facebook fetcher, the scheduler of timed jobs, the signals
//! between them, and the actions that loops and HTTP handlers share. `store` keeps the data, `delivery` talks HTTP; the loops
//! that move leads between them live here.

pub mod actions;
pub mod dispatch;
pub mod facebook;
pub mod ingest;
mod listen;
pub mod mail;
pub mod metrics;
mod outage;
pub mod outbox;
pub mod outcomes;
pub mod postbacks;
pub mod privacy;
pub mod router;
pub mod scheduler;
pub mod secrets;
pub mod signals;

use crate::dispatch::{DeliveryWorker, WorkerSettings};
use crate::facebook::FacebookFetcher;
use crate::ingest::{IngestSettings, Ingestor};
use crate::router::{Handoff, Router};
use crate::scheduler::Scheduler;
use crate::signals::Signals;
use leadrouter_core::clock::Clock;
use leadrouter_delivery::client::Sender;
use leadrouter_delivery::facebook::GraphClient;
use leadrouter_store::work::WorkQuery;
use leadrouter_store::{Backend, Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the engine runs (from the configuration).
#[derive(Clone)]
pub struct EngineSettings {
    /// 0 disables dedupe.
    pub dedupe_window: Duration,
    pub hold_max: Duration,
    /// How long attempts keep their response excerpt and body sent (zero: for ever).
    pub attempt_body_retention: Duration,
    /// How long leads keep their personal data (`LEADROUTER_RETENTION`; zero: for ever).
    pub retention: Duration,
    pub retry_schedule: Vec<Duration>,
    pub delivery_timeout: Duration,
    pub pause_after_failures: i64,
    /// `false`: take leads in and route them, deliver nothing.
    pub delivery_enabled: bool,
    /// `false`: take leads in, route nothing (another instance on the same database routes
    /// them, woken by the notification each insert of leads makes).
    pub routing_enabled: bool,
    /// What mails say and whether they are sent (a Postmark client is given) or recorded.
    pub mailing: mail::Mailing,
}

impl EngineSettings {
    fn worker(&self) -> WorkerSettings {
        WorkerSettings {
            retry_schedule: self.retry_schedule.clone(),
            timeout: self.delivery_timeout,
            pause_after_failures: self.pause_after_failures,
            // Twice what one partner may take: a partner at its limit leaves half to the rest.
            max_in_flight: 2 * leadrouter_core::partner::MAX_CONCURRENCY as usize,
            retry_after_cap: Duration::from_secs(3600),
            drain_deadline: self.delivery_timeout + Duration::from_secs(1),
        }
    }
}

/// What the outside world gives the engine.
pub struct EngineParts {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub sender: Sender,
    pub graph: GraphClient,
    /// Sends the outbox's mail; `None`: mail is only recorded.
    pub postmark: Option<leadrouter_delivery::postmark::PostmarkClient>,
}

/// The handles the HTTP layer uses.
#[derive(Clone)]
pub struct Engine {
    pub ingestor: Ingestor,
    pub signals: Signals,
    idle: Arc<IdleProbe>,
}

/// Drives the loops from outside (tests): holds no ingest handle, so keeping it does not
/// keep the ingest writer alive at shutdown.
#[derive(Clone)]
pub struct Driver {
    signals: Signals,
    idle: Arc<IdleProbe>,
}

/// What [`Engine::run_until_idle`] looks at.
struct IdleProbe {
    store: Store,
    clock: Arc<dyn Clock>,
    hold_max: Duration,
    deliveries: bool,
    routing: bool,
}

/// The engine's tasks. Each returns its name when it ends, which before [`Tasks::stop`] is a
/// fault for the caller to report; the ingest writer is one of them.
pub struct Tasks {
    pub set: JoinSet<&'static str>,
    cancel: CancellationToken,
}

impl Tasks {
    /// The router (unless routing is off here) and the delivery worker (unless delivery is
    /// off here); the router hands the leads it routes to the worker when both run.
    fn route_and_deliver(
        &mut self,
        store: Store,
        clock: Arc<dyn Clock>,
        sender: Sender,
        signals: &Signals,
        settings: &EngineSettings,
    ) {
        let worker_settings = settings.worker();
        let (handoff_tx, handoff_rx) = tokio::sync::mpsc::channel(4);
        let both = settings.routing_enabled && settings.delivery_enabled;
        if settings.routing_enabled {
            let router = Router {
                store: store.clone(),
                clock: Arc::clone(&clock),
                signals: signals.clone(),
                hold_max: settings.hold_max,
                handoff: both.then(|| Handoff {
                    tx: handoff_tx,
                    lease: worker_settings.lease(),
                }),
            };
            self.watch("the router", router.run(self.cancel.clone()));
        } else {
            tracing::info!("LEADROUTER_ROUTING=off: this instance routes nothing");
        }
        if settings.delivery_enabled {
            let worker = DeliveryWorker {
                store,
                clock,
                sender,
                settings: worker_settings,
                signals: signals.clone(),
                mailing: settings.mailing.clone(),
                handoff: both.then_some(handoff_rx),
            };
            self.watch("the delivery worker", worker.run(self.cancel.clone()));
        } else {
            tracing::info!("LEADROUTER_DELIVERY=off: this instance delivers nothing");
        }
    }

    /// Runs a loop as one of the engine's tasks, known by `name` when it ends.
    fn watch(&mut self, name: &'static str, run: impl Future<Output = ()> + Send + 'static) {
        self.set.spawn(async move {
            run.await;
            name
        });
    }

    /// Asks the loops to stop (the delivery worker finishes what is in flight, up to its
    /// deadline) and waits for all of them; the ingest writer stops once every
    /// [`Ingestor`] handle is dropped, after committing what it holds.
    pub async fn stop(mut self) -> Result<(), tokio::task::JoinError> {
        self.cancel.cancel();
        while let Some(done) = self.set.join_next().await {
            done?;
        }
        Ok(())
    }
}

impl Engine {
    pub fn start(parts: EngineParts, settings: &EngineSettings) -> (Engine, Tasks) {
        let EngineParts {
            store,
            clock,
            sender,
            graph,
            postmark,
        } = parts;
        let signals = Signals::default();
        let idle = Arc::new(IdleProbe {
            store: store.clone(),
            clock: Arc::clone(&clock),
            hold_max: settings.hold_max,
            deliveries: settings.delivery_enabled,
            routing: settings.routing_enabled,
        });
        let mut tasks = Tasks {
            set: JoinSet::new(),
            cancel: CancellationToken::new(),
        };
        let (ingestor, ingest_writer) = Ingestor::start(
            store.clone(),
            IngestSettings {
                dedupe_window_ms: settings.dedupe_window.as_millis() as i64,
                writers: match store.backend() {
                    Backend::Sqlite => 1,
                    Backend::Postgres => 4,
                },
                ..IngestSettings::default()
            },
            signals.clone(),
        );
        tasks.watch("the ingest writer", async move {
            // A panic in the writer is a fault too, not a discarded join.
            if let Err(e) = ingest_writer.await {
                tracing::error!(error = %e, "the ingest writer failed");
            }
        });
        let fetcher = FacebookFetcher {
            store: store.clone(),
            ingestor: ingestor.clone(),
            clock: Arc::clone(&clock),
            graph,
            retry_schedule: settings.retry_schedule.clone(),
            signals: signals.clone(),
        };
        tasks.watch("the Facebook fetcher", fetcher.run(tasks.cancel.clone()));
        let scheduler = Scheduler {
            store: store.clone(),
            clock: Arc::clone(&clock),
            signals: signals.clone(),
            jobs: jobs(settings, &signals),
        };
        tasks.watch("the scheduler", scheduler.run(tasks.cancel.clone()));
        let notices = privacy::NoticeSender {
            store: store.clone(),
            clock: Arc::clone(&clock),
            sender: sender.clone(),
            schedule: settings.retry_schedule.clone(),
            signals: signals.clone(),
            lease: settings.delivery_timeout + Duration::from_secs(20),
        };
        tasks.watch(
            "the erasure notice sender",
            notices.run(tasks.cancel.clone()),
        );
        if let Some(postmark) = postmark {
            let mailer = mail::Mailer {
                store: store.clone(),
                clock: Arc::clone(&clock),
                postmark,
                signals: signals.clone(),
                settings: mail::MailerSettings {
                    retry_schedule: settings.retry_schedule.clone(),
                    lease: settings.delivery_timeout + Duration::from_secs(20),
                },
            };
            tasks.watch("the mailer", mailer.run(tasks.cancel.clone()));
        }
        let listener = listen::Listener {
            store: store.clone(),
            signals: signals.clone(),
        };
        tasks.watch(
            "the listener for other instances' leads",
            listener.run(tasks.cancel.clone()),
        );
        tasks.route_and_deliver(store, clock, sender, &signals, settings);
        let engine = Engine {
            ingestor,
            signals,
            idle,
        };
        (engine, tasks)
    }

    pub fn driver(&self) -> Driver {
        Driver {
            signals: self.signals.clone(),
            idle: Arc::clone(&self.idle),
        }
    }
}

impl Driver {
    /// Wakes every loop and returns once none has anything left to do now: no lead queued
    /// or being routed, nothing held that is due for a look or past its limit, no
    /// Facebook fetch due, no delivery due or in flight, and no loop in a pass. Work
    /// scheduled for later (a retry in a minute, a partner that opens at 9) is not waited
    /// for; a test moves its clock and calls this again. Waits on the loops' own
    /// reports, never on a timer.
    pub async fn run_until_idle(&self) -> Result<(), StoreError> {
        // Timed jobs run once now (expiry, summaries due at this time), not at every look.
        let forced = self.signals.run_jobs_now();
        loop {
            let ended = self.signals.pass_ended();
            tokio::pin!(ended);
            ended.as_mut().enable();
            let before = self.signals.passes();
            if before.running == 0 && self.signals.jobs_run() > forced {
                let now = self.idle.clock.now_ms();
                let due = self
                    .idle
                    .store
                    .work_due(&WorkQuery {
                        now,
                        expire_received_before: now - self.idle.hold_max.as_millis() as i64,
                        deliveries: self.idle.deliveries,
                        routing: self.idle.routing,
                    })
                    .await?;
                // Idle only if no pass began while we looked: one that did may have taken
                // work out of sight before our query saw it.
                if !due && self.signals.passes() == before {
                    return Ok(());
                }
                if !due {
                    continue;
                }
            }
            self.signals.everyone_look();
            ended.await;
        }
    }
}

/// The scheduler's timed jobs.
fn jobs(settings: &EngineSettings, signals: &Signals) -> Vec<scheduler::Job> {
    let mut jobs = vec![
        scheduler::expire_held(settings.hold_max, signals.clone()),
        scheduler::roll_figures(),
        scheduler::index_lead_search(),
        scheduler::purge_logins(),
        privacy::forget_contact_hashes(settings.dedupe_window),
        postbacks::feed(signals.clone()),
        mail::jobs::daily_summaries(signals.clone()),
        mail::jobs::operator_alerts(settings.mailing.clone(), signals.clone()),
    ];
    if !settings.retention.is_zero() {
        jobs.push(privacy::retention(settings.retention));
    }
    if !settings.attempt_body_retention.is_zero() {
        jobs.push(scheduler::clear_attempt_bodies(
            settings.attempt_body_retention,
        ));
    }
    jobs
}
