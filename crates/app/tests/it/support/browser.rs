//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`),
//! finding things as a person does: by their labels and the text on their buttons. Every
//! screenshot goes to `target/screenshots/`.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub c: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where screenshots go: the workspace's `target/screenshots/`.
pub fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots directory");
    dir
}

impl Browser {
    /// A fresh browser, or `None` (said on stderr) where Chromium is not installed, unless
    /// `LEADROUTER_TEST_REQUIRE_BROWSER=1` (CI), which makes its absence a failure.
    pub async fn start() -> Option<Browser> {
        let present =
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !present {
            assert!(
                std::env::var("LEADROUTER_TEST_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "the browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            );
            eprintln!("SKIPPED: no Chromium here ({CHROMIUM}, {CHROMEDRIVER})");
            return None;
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1440,1000",
                    format!("--user-data-dir={}", profile.path().display())]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen: try to connect until it does (10 s at most).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let c = loop {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "chromedriver did not start: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Some(Browser {
            c,
            driver,
            _profile: profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.c.goto(url).await.expect("goto");
    }

    pub async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_string()
    }

    /// The input, select or textarea labelled `label`.
    pub async fn field(&self, label: &str) -> Element {
        let l = self
            .c
            .find(Locator::XPath(&format!(
                "//label[normalize-space(.)='{label}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("no field labelled {label:?}"));
        let id = l.attr("for").await.unwrap().expect("label has for=");
        self.c.find(Locator::Id(&id)).await.unwrap()
    }

    pub async fn fill(&self, label: &str, text: &str) {
        let f = self.field(label).await;
        f.clear().await.unwrap();
        f.send_keys(text).await.unwrap();
    }

    pub async fn choose(&self, label: &str, option: &str) {
        self.field(label)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("{label}: {option}: {e}"));
    }

    /// Types into the `n`th (from 0) input named `name` (rows of repeated inputs).
    pub async fn fill_nth(&self, name: &str, n: usize, text: &str) {
        let all = self
            .c
            .find_all(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap();
        let f = all.get(n).unwrap_or_else(|| panic!("no {name} #{n}"));
        f.clear().await.unwrap();
        f.send_keys(text).await.unwrap();
    }

    /// Picks `option` in the `n`th (from 0) select named `name`.
    pub async fn choose_nth(&self, name: &str, n: usize, option: &str) {
        let all = self
            .c
            .find_all(Locator::Css(&format!("select[name='{name}']")))
            .await
            .unwrap();
        all.get(n)
            .unwrap_or_else(|| panic!("no {name} #{n}"))
            .clone()
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("{name} #{n}: {option}: {e}"));
    }

    pub async fn value(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    async fn button(&self, text: &str) -> Element {
        self.c
            .find(Locator::XPath(&format!(
                "//button[normalize-space(.)='{text}'] | //a[normalize-space(.)='{text}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("no button or link {text:?}"))
    }

    /// Clicks the button (or link) showing `text`, and waits for the page it leads to: the
    /// old page's document goes stale, the new one is complete.
    pub async fn press(&self, text: &str) {
        let old = self.c.find(Locator::Css("html")).await.unwrap();
        self.button(text).await.click().await.unwrap();
        self.next_page(old, text).await;
    }

    /// Clicks the button showing `text`, accepts the question it asks (`data-confirm`), and
    /// waits for the page it leads to.
    pub async fn press_and_confirm(&self, text: &str) {
        let old = self.c.find(Locator::Css("html")).await.unwrap();
        self.button(text).await.click().await.unwrap();
        self.c.accept_alert().await.expect("a question to confirm");
        self.next_page(old, text).await;
    }

    /// Waits until `old` (the page's document before `text` was pressed) is gone and the
    /// new one is complete.
    async fn next_page(&self, old: Element, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while old.tag_name().await.is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "{text:?} led to no new page"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.loaded().await;
    }

    /// The console's first run: the first admin user, logged in.
    pub async fn first_admin(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/admin")).await;
        self.fill("Setup token", crate::support::SETUP_TOKEN).await;
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.fill("Confirm password", password).await;
        self.press("Create admin").await;
    }

    /// Clicks a button that updates part of the page (htmx) and waits for `css` to appear.
    pub async fn press_partial(&self, text: &str, css: &str) {
        self.button(text).await.click().await.unwrap();
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("{text:?} showed no {css}"));
    }

    /// Waits until the current document has loaded.
    pub async fn loaded(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let state = self.c.execute("return document.readyState", vec![]).await;
            if matches!(state, Ok(serde_json::Value::String(s)) if s == "complete") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the page did not finish loading"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.c
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.c.screenshot().await.expect("screenshot");
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    }
}
