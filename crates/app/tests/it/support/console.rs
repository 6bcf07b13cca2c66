//! A browser-less console client: keeps the session cookie, follows nothing by itself (so
//! that tests see each 303), and reads forms' CSRF tokens out of the pages.

use crate::support::TestApp;
use reqwest::redirect::Policy;
use scraper::{Html, Selector};

pub struct Console {
    pub base: String,
    pub client: reqwest::Client,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The text of the first element matching `css`.
    pub fn text(&self, css: &str) -> Option<String> {
        let sel = Selector::parse(css).expect("selector");
        self.html()
            .select(&sel)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let sel = Selector::parse(css).expect("selector");
        self.html()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(name).map(str::to_string))
    }

    /// The error shown beside the input labelled `label` (in the same field block).
    pub fn error_beside(&self, label: &str) -> Option<String> {
        let doc = self.html();
        let labels = Selector::parse("label").unwrap();
        let l = doc
            .select(&labels)
            .find(|l| l.text().collect::<String>().trim() == label)?;
        let block = l.parent().and_then(scraper::ElementRef::wrap)?;
        let errs = Selector::parse(".field-error").unwrap();
        block
            .select(&errs)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
    }

    /// The value of the input labelled `label`.
    pub fn value_of(&self, label: &str) -> Option<String> {
        let doc = self.html();
        let labels = Selector::parse("label").unwrap();
        let l = doc
            .select(&labels)
            .find(|l| l.text().collect::<String>().trim() == label)?;
        let id = l.value().attr("for")?;
        self.attr(&format!("#{id}"), "value")
    }

    pub fn csrf(&self) -> String {
        self.attr("input[name=_csrf]", "value")
            .expect("a form with a CSRF token on the page")
    }
}

impl Console {
    pub fn new(app: &TestApp) -> Console {
        Console {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let r = req.send().await.expect("request");
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap().to_string();
            if pair.ends_with('=') || v.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        Page {
            status,
            location,
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// A form post with extra headers (what a browser says of where the post came from,
    /// the address a proxy saw).
    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = self.client.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Creates the first operator through the setup page (the console is then logged in).
    pub async fn first_run(&mut self, email: &str, password: &str) -> Page {
        self.post(
            "/admin/setup",
            &[
                ("setup_token", crate::support::SETUP_TOKEN),
                ("email", email),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Page {
        self.post("/admin/login", &[("email", email), ("password", password)])
            .await
    }

    /// Any page's CSRF token (they are the session's).
    pub async fn csrf(&mut self) -> String {
        self.get("/admin/settings").await.csrf()
    }
}
