//! Test harness: [`TestApp`] runs the real server in-process; [`process`] runs the binary.

pub mod browser;
pub mod console;
pub mod fake_graph;
pub mod fake_postmark;
pub mod process;
pub mod receiver;

use leadrouter::config::Config;
use leadrouter_core::clock::ManualClock;
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Defines `mod NAME { sqlite, postgres }`: the same test body against each backend.
macro_rules! both_backends {
    (async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: leadrouter_store::testing::TestDatabase) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(leadrouter_store::testing::TestDatabase::sqlite()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = leadrouter_store::testing::TestDatabase::postgres().await {
                    run(db).await
                }
            }
        }
    };
}

/// Waits (up to 30 s) until `check` returns something: for work done by background tasks.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(std::time::Duration::from_secs(30), what, check).await
}

pub async fn eventually_within<T, F, Fut>(limit: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The setup token of test servers (`LEADROUTER_SETUP_TOKEN`).
pub const SETUP_TOKEN: &str = "test-setup-token-of-this-server";

/// The configuration a test server runs with: the documented defaults plus `vars`.
pub fn test_config(url: &leadrouter_store::DatabaseUrl, vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("DATABASE_URL".into(), url.expose().to_string());
    // Test partners' host names map to public addresses that must never be contacted from
    // here, so only tests with local HTTPS receivers switch delivery on.
    map.entry("LEADROUTER_DELIVERY".into())
        .or_insert_with(|| "off".into());
    map.entry("LEADROUTER_SETUP_TOKEN".into())
        .or_insert_with(|| SETUP_TOKEN.into());
    // Tests that look at what is stored set a secret key themselves.
    if !map.contains_key("LEADROUTER_SECRET_KEY") {
        map.entry("LEADROUTER_ALLOW_CLEARTEXT_SECRETS".into())
            .or_insert_with(|| "1".into());
    }
    Config::from_lookup(|k| map.get(k).cloned()).expect("test configuration is valid")
}

/// The DNS test servers see (DNS is the outside service we cannot run here): the guide's
/// partner hosts have public addresses, one name points into a private network, `localhost`
/// is loopback, `*.test` names are local receivers, and nothing else resolves. Tests may
/// change answers while the server runs (DNS rebinding).
#[derive(Clone)]
pub struct TestDns(Arc<std::sync::RwLock<HashMap<String, Vec<std::net::IpAddr>>>>);

impl TestDns {
    pub fn set(&self, name: &str, ips: &[&str]) {
        let ips = ips.iter().map(|s| s.parse().unwrap()).collect();
        self.0.write().unwrap().insert(name.to_string(), ips);
    }
}

impl leadrouter_delivery::dns::Resolve for TestDns {
    fn resolve(&self, host: &str) -> leadrouter_delivery::dns::ResolveFuture {
        let answer = self.0.read().unwrap().get(&host.to_lowercase()).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such host"))
        })
    }
}

pub fn test_dns() -> TestDns {
    let ip = |s: &str| s.parse().unwrap();
    TestDns(Arc::new(std::sync::RwLock::new(HashMap::from([
        ("fxpartners.com".to_string(), vec![ip("93.184.216.34")]),
        ("germanfx.com".to_string(), vec![ip("93.184.216.35")]),
        (
            "recovery-es.com".to_string(),
            vec![ip("93.184.216.36"), ip("2606:2800:220:1::36")],
        ),
        (
            "internal.partner.example".to_string(),
            vec![ip("93.184.216.37"), ip("10.0.0.7")],
        ),
        ("localhost".to_string(), vec![ip("127.0.0.1"), ip("::1")]),
        ("partner.test".to_string(), vec![ip("127.0.0.1")]),
        ("second.test".to_string(), vec![ip("127.0.0.1")]),
    ]))))
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    db_url: leadrouter_store::DatabaseUrl,
    pub clock: Option<Arc<ManualClock>>,
    pub dns: TestDns,
    driver: Arc<std::sync::OnceLock<leadrouter_engine::Driver>>,
    _db: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn(db: TestDatabase) -> TestApp {
        Self::spawn_with(db, &[]).await
    }

    pub async fn spawn_with(db: TestDatabase, vars: &[(&str, &str)]) -> TestApp {
        let url = db.url.clone();
        Self::start(&url, vars, None, Some(db)).await
    }

    /// A server whose clock only moves when the test moves it.
    pub async fn spawn_at(
        db: TestDatabase,
        vars: &[(&str, &str)],
        clock: Arc<ManualClock>,
    ) -> TestApp {
        let url = db.url.clone();
        Self::start(&url, vars, Some(clock), Some(db)).await
    }

    /// A second server on the same database (as a second instance sharing PostgreSQL).
    pub async fn another_instance(&self, vars: &[(&str, &str)]) -> TestApp {
        Self::start(&self.db_url, vars, self.clock.clone(), None).await
    }

    async fn start(
        url: &leadrouter_store::DatabaseUrl,
        vars: &[(&str, &str)],
        clock: Option<Arc<ManualClock>>,
        db: Option<TestDatabase>,
    ) -> TestApp {
        let config = test_config(url, vars);
        let store = leadrouter::startup::open_store(&config)
            .await
            .expect("open store");
        let admin_token = leadrouter_web::secrets::new_admin_token();
        store
            .create_admin_token(
                "test",
                &hash_secret(&admin_token),
                &display_prefix(&admin_token),
                0,
                &leadrouter_store::audit::Actor::system("test setup"),
            )
            .await
            .expect("admin token");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let dns = test_dns();
        let mut services = leadrouter::startup::Services {
            resolver: Arc::new(dns.clone()),
            ..Default::default()
        };
        if let Some(c) = &clock {
            services.clock = c.clone();
        }
        let driver = Arc::clone(&services.driver);
        let server = tokio::spawn(leadrouter::startup::serve_with(
            config,
            listener,
            services,
            async {
                let _ = rx.await;
            },
        ));
        TestApp {
            base,
            client: reqwest::Client::new(),
            admin_token,
            store,
            shutdown: Some(tx),
            server: Some(server),
            db_url: url.clone(),
            clock,
            dns,
            driver,
            _db: db,
        }
    }

    /// Lets every loop of this instance run until nothing is left to do now (the
    /// engine's own idle report; no polling). A test that hangs here fails after 30 s.
    pub async fn run_until_idle(&self) {
        let driver = self.driver.get().expect("the engine has started").clone();
        // A deadline, not a wait: idle is reported as soon as it is reached. Generous, as a
        // loaded CI machine (the browser tests beside) once took over 30 s here.
        let done =
            tokio::time::timeout(std::time::Duration::from_secs(90), driver.run_until_idle()).await;
        match done {
            Ok(r) => r.expect("looking for work"),
            Err(_) => panic!(
                "the engine did not become idle within 90 s; still there: {}",
                self.store.work_left_for_tests().await
            ),
        }
    }

    /// Runs until idle, then `check` must hold: what a user would see once the system
    /// has done all it can do now.
    pub async fn after_idle<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        self.run_until_idle().await;
        check()
            .await
            .unwrap_or_else(|| panic!("once idle, expected: {what}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET as an operator.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .expect("request")
    }

    /// A request as an operator; returns the status and the JSON body.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        (status, json)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.admin(Method::GET, path, None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(Method::PATCH, path, Some(body)).await
    }

    /// Creates a source; returns its id and its (only-once) token.
    pub async fn source(&self, spec: Value) -> (i64, String) {
        let (status, s) = self.post("/api/admin/sources", spec).await;
        assert_eq!(status, 201, "{s}");
        (
            s["id"].as_i64().unwrap(),
            s["token"].as_str().unwrap().to_string(),
        )
    }

    /// Sends a lead as a source would, as JSON; returns the status and the JSON answer.
    pub async fn send_lead(&self, token: &str, lead: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(&format!("/api/webhook/{token}")))
            .json(&lead)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Stops this instance's server (and its router) but keeps the test database alive, for
    /// a later `another_instance`.
    pub async fn stop_tasks_only(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Stops the server and waits until it has shut down cleanly.
    pub async fn stop(mut self) {
        self.stop_tasks_only().await;
        self.store.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
