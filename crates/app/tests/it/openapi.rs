//! The API's contract: `/api/openapi.json` (OpenAPI 3.1, generated from the handlers'
//! annotations and their answer types) documents every JSON route there is, and nothing
//! that is not there; schemathesis, run against the live server, finds no server error and
//! no answer outside its documented status, content type or schema.

use crate::support::process::Server;
use crate::support::TestApp;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The HTML console's and portals' routes: pages, not JSON (the contract leaves them out).
fn is_json_route(path: &str) -> bool {
    path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.route(...)` call of the web crate: (file, its path literal if it has one, the
/// methods it registers).
fn routes_in_source() -> Vec<(String, Option<String>, Vec<String>)> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(&src).unwrap().display().to_string();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            // The call's arguments, up to its closing parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let args = &call[..end];
            let first = args.trim_start();
            let path = first
                .strip_prefix('"')
                .and_then(|p| p.split('"').next())
                .map(str::to_owned);
            let methods = ["get", "post", "patch", "put", "delete"]
                .iter()
                .filter(|m| {
                    args.match_indices(&format!("{m}(")).any(|(i, _)| {
                        i == 0
                            || !args.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && args.as_bytes()[i - 1] != b'_'
                    })
                })
                .map(|m| m.to_string())
                .collect();
            routes.push((name.clone(), path, methods));
            rest = &call[end..];
        }
    }
    routes
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| matches!(k.as_str(), "get" | "post" | "patch" | "put" | "delete"))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect()
}

both_backends! {
    async fn every_json_route_is_documented_and_every_documented_route_is_served(db) {
        let app = TestApp::spawn(db).await;
        let (status, doc) = app.get("/api/openapi.json").await;
        assert_eq!(status, 200);
        assert_eq!(doc["openapi"], "3.1.0");
        let documented = operations(&doc);

        // Each route the code registers, by its literal path, is in the document.
        let mut undocumented = Vec::new();
        let mut unread = BTreeSet::new();
        for (file, path, methods) in routes_in_source() {
            match path {
                Some(path) if is_json_route(&path) => {
                    for m in methods {
                        if !documented.contains(&(m.clone(), path.clone())) {
                            undocumented.push(format!("{} {path} ({file})", m.to_uppercase()));
                        }
                    }
                }
                Some(_) => {}
                None => {
                    unread.insert(file);
                }
            }
        }
        assert!(undocumented.is_empty(), "routes without a documented shape: {undocumented:#?}");
        // Routes whose path is not a literal: the portals' users (documented per portal,
        // checked below) and the console's own pages.
        let expected: BTreeSet<String> = ["admin/portal_users.rs", "ui/members.rs", "ui/seats.rs"].map(String::from).into();
        assert!(unread.is_subset(&expected), "routes whose path this test cannot read: {unread:?}");
        for base in ["/api/admin/partners/{id}/users", "/api/admin/sources/{id}/users"] {
            for (m, p) in [("post", base.to_string()), ("get", base.to_string()),
                           ("delete", format!("{base}/{{user_id}}")), ("post", format!("{base}/{{user_id}}/reinvite"))] {
                assert!(documented.contains(&(m.to_string(), p.clone())), "{m} {p} undocumented");
            }
        }

        // Each documented operation is served: the answer is its handler's, never the
        // fallback's "no such endpoint" nor 405.
        for (method, path) in &documented {
            let concrete = path.replace("{id}", "1").replace("{user_id}", "1").replace("{partner_id}", "1")
                .replace("{lead_id}", "1").replace("{decision}", "approve").replace("{token}", "not-a-token");
            let r = app.client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .bearer_auth(&app.admin_token)
                .send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path}");
            assert!(!(status == 404 && body["error"]["message"] == "no such endpoint"), "{method} {path} is documented but not served");
        }
        // Each answer type is in the document with its fields.
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [("LeadView", "email"), ("PartnerView", "daily_limit"), ("SourceView", "kind"), ("Failure", "error")] {
            assert!(schemas[schema]["properties"][field].is_object(), "{schema}.{field}: {}", schemas[schema]);
        }
        app.stop().await;
    }
}

/// schemathesis's `st`: `LEADROUTER_TEST_SCHEMATHESIS`, else the one `scripts/test`
/// installs under `target/schemathesis`.
fn schemathesis() -> Option<PathBuf> {
    let st = std::env::var_os("LEADROUTER_TEST_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/schemathesis/bin/st")
        });
    if st.exists() {
        return Some(st);
    }
    assert!(
        std::env::var("LEADROUTER_TEST_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
        "schemathesis is required but {} does not exist (scripts/test installs it)",
        st.display()
    );
    eprintln!(
        "SKIPPED: schemathesis is not installed at {} (scripts/test installs it)",
        st.display()
    );
    None
}

/// Runs schemathesis over the operations `include` selects, with `header`; its output.
fn fuzz(st: &Path, base: &str, header: &str, include: &[&str]) -> String {
    // schemathesis keeps a cache in its working directory: a throwaway one.
    let cwd = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(st)
        .current_dir(cwd.path())
        .args(["run", &format!("{base}/api/openapi.json"), "-H", header])
        .args(include)
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "30",
            "--seed", "31",
            "--generation-database", "none",
            "--no-color",
            "--request-timeout", "20",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    text
}

both_backends! {
    async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_contract(db) {
        let Some(st) = schemathesis() else { return };
        let url = db.url.expose().to_string();
        let dir = tempfile::tempdir().unwrap();
        let out = crate::support::process::run(&["admin", "create-token", "--name", "schemathesis"], &[("DATABASE_URL", &url)]);
        let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();
        // Rate limits of the partner API are part of what is checked (429 is documented).
        let server = Server::start(&[("DATABASE_URL", &url), ("RUST_LOG", "warn,leadrouter::startup=info")], dir.path());
        let client = reqwest::Client::new();
        let post = |path: &str, body: Value| client.post(format!("{}{path}", server.base)).bearer_auth(&admin).json(&body).send();
        // Stored data, so that lists and reports answer with real objects to check.
        let partner: Value = post("/api/admin/partners", json!({"name": "Contract FX", "country": "germany",
            "niche": "forex", "daily_limit": 10, "webhook_url": "https://partner.invalid/hook"})).await.unwrap().json().await.unwrap();
        let key = partner["api_key"].as_str().unwrap().to_string();
        let source: Value = post("/api/admin/sources", json!({"name": "Contract source", "kind": "webhook"})).await.unwrap().json().await.unwrap();
        for i in 0..5 {
            let r = client.post(format!("{}/api/webhook/{}", server.base, source["token"].as_str().unwrap()))
                .json(&json!({"email": format!("contract{i}@example.com"), "country": "de", "niche": "forex", "first_name": "Ada"}))
                .send().await.unwrap();
            assert_eq!(r.status(), 202);
        }
        let base = server.base.clone();
        let (partner_run, admin_run) = tokio::task::spawn_blocking(move || {
            // The partner API with the partner's key first (the admin run may rotate it).
            let p = fuzz(&st, &base, &format!("x-api-key: {key}"), &["--include-tag", "partner API"]);
            let a = fuzz(&st, &base, &format!("Authorization: Bearer {admin}"),
                &["--exclude-tag", "partner API"]);
            (p, a)
        })
        .await
        .unwrap();
        for (what, text) in [("partner API", &partner_run), ("everything else", &admin_run)] {
            let summary: Vec<&str> = text.lines().filter(|l| l.contains("generated") || l.contains("Tested:")).collect();
            eprintln!("schemathesis, {what}: {}", summary.join("; ").trim());
        }
        drop(server);
    }
}

both_backends! {
    async fn a_path_a_query_or_a_body_that_cannot_be_read_is_answered_in_the_error_shape(db) {
        // Each was a plain-text 400 from the framework until schemathesis found it.
        let app = TestApp::spawn(db).await;
        let client = &app.client;
        let auth = |r: reqwest::RequestBuilder| r.bearer_auth(&app.admin_token);
        let cases = [
            (auth(client.get(app.url("/api/admin/partners/9223372036854775808/users"))), 404, "not_found", None),
            (auth(client.delete(app.url("/api/admin/sources/1/users/x"))), 404, "not_found", None),
            (client.post(app.url("/api/webhook/%FF")).json(&json!({})), 404, "not_found", None),
            (auth(client.get(app.url("/api/admin/leads?source_id=1&source_id=2"))), 422, "validation_failed", Some("query")),
            (auth(client.post(app.url("/api/admin/returns/1/approve")).header("content-type", "application/json").body("[null, null]")),
                422, "validation_failed", Some("body")),
        ];
        for (request, status, code, field) in cases {
            let r = request.send().await.unwrap();
            assert_eq!(r.status().as_u16(), status);
            assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], code, "{body}");
            if let Some(field) = field {
                assert!(body["error"]["fields"][field].is_string(), "{body}");
            }
        }
        app.stop().await;
    }
}
