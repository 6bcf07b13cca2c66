//! The command line as an operator uses it: real binary, real exit codes, real output.

use crate::support::process::{self, Server};
use crate::support::TestApp;
use leadrouter_store::Store;
use serde_json::Value;

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// An error is one line on stderr, never a panic or a backtrace.
fn assert_one_line_error(out: &std::process::Output, expected: &str) {
    assert!(!out.status.success(), "should fail: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(expected), "{stderr}");
}

both_backends! {
    async fn migrate_applies_every_migration_and_can_run_again(db) {
        let url = db.url.expose().to_string();
        for _ in 0..2 {
            let out = process::run(&["migrate"], &[("DATABASE_URL", &url)]);
            assert!(out.status.success(), "{out:?}");
            assert!(out.stdout.is_empty());
        }
        let store = Store::connect(&db.url).await.unwrap();
        assert_eq!(
            store.applied_migrations().await.unwrap(),
            Store::known_migrations(store.backend())
        );
        assert_eq!(store.list_markets().await.unwrap().len(), 7);
        store.close().await;
    }
}

both_backends! {
    async fn create_token_prints_only_a_token_that_works(db) {
        let url = db.url.expose().to_string();
        let app = TestApp::spawn(db).await;
        let out = process::run(&["admin", "create-token", "--name", "deploy"], &[("DATABASE_URL", &url)]);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<_> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{stdout}");
        let token = lines[0];
        assert!(token.starts_with("lra_") && token.len() == 44, "{token}");

        let r = app.client.get(app.url("/api/admin/markets")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        // Stored hashed: the plain token is nowhere in the table.
        let stored = app.store.use_admin_token(&leadrouter_core::token::hash_secret(token), 0).await;
        assert_eq!(stored.unwrap().unwrap().name, "deploy");
        app.stop().await;
    }
}

both_backends! {
    async fn create_user_hashes_with_argon2id_and_refuses_duplicates(db) {
        let url = db.url.expose().to_string();
        let env = [("DATABASE_URL", url.as_str())];
        let args = ["admin", "create-user", "--email", "Ops@Example.com", "--password", "a long passphrase"];
        let out = process::run(&args, &env);
        assert!(out.status.success(), "{out:?}");

        let store = Store::connect(&db.url).await.unwrap();
        let user = store.admin_user_by_email("ops@example.com").await.unwrap().expect("stored lower-cased");
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(leadrouter_web::password::verify("a long passphrase", &user.password_hash));
        store.close().await;

        assert_one_line_error(&process::run(&args, &env), "already exists");
        assert_one_line_error(
            &process::run(&["admin", "create-user", "--email", "b@example.com", "--password", "short"], &env),
            "at least 12 characters",
        );
        assert_one_line_error(
            &process::run(&["admin", "create-user", "--email", "nobody", "--password", "a long passphrase"], &env),
            "--email",
        );
        // A viewer, by --role; an unknown role is refused.
        let out = process::run(&["admin", "create-user", "--email", "look@example.com", "--password", "a long passphrase", "--role", "viewer"], &env);
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("viewer user"), "{out:?}");
        let store = Store::connect(&db.url).await.unwrap();
        let viewer = store.admin_user_by_email("look@example.com").await.unwrap().unwrap();
        assert_eq!(viewer.role, leadrouter_core::role::Role::Viewer);
        assert_eq!(store.admin_user_by_email("ops@example.com").await.unwrap().unwrap().role, leadrouter_core::role::Role::Admin, "admin by default");
        store.close().await;
        let out = process::run(&["admin", "create-user", "--email", "x@example.com", "--password", "a long passphrase", "--role", "root"], &env);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("must be admin or viewer"), "{out:?}");
    }
}

#[test]
fn bad_configuration_exits_non_zero_with_one_line_per_problem() {
    let out = process::run(
        &["serve"],
        &[
            ("DATABASE_URL", "mysql://u@h/db"),
            ("PORT", "eighty"),
            ("SESSION_SECRET", "short"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr_lines(&out),
        [
            "error: DATABASE_URL: unsupported scheme \"mysql\" (use sqlite://PATH or postgres://...)",
            "error: PORT: \"eighty\" is not a port number (0-65535)",
            "error: SESSION_SECRET: must be at least 32 characters (it has 5)",
        ]
    );
}

#[test]
fn an_unreachable_database_is_a_clear_error_not_a_panic() {
    let out = process::run(
        &["migrate"],
        &[("DATABASE_URL", "postgres://nobody:pw@127.0.0.1:1/x")],
    );
    assert_one_line_error(&out, "DATABASE_URL postgres://nobody:***@127.0.0.1:1/x");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(":pw@"),
        "password hidden"
    );

    let out = process::run(
        &["migrate"],
        &[("DATABASE_URL", "sqlite:///nonexistent-dir/x/leads.db")],
    );
    assert_one_line_error(&out, "DATABASE_URL sqlite:///nonexistent-dir/x/leads.db");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = process::binary();
    let out = cmd
        .args(["serve"])
        .env("PORT", &port)
        .env("LEADROUTER_BIND", "127.0.0.1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_one_line_error(&out, &format!("cannot listen on 127.0.0.1:{port}"));
}

/// The README's run command on a fresh checkout: no configuration at all beyond the port,
/// an SQLite file appears in the working directory, `/healthz` answers, SIGTERM stops it.
#[tokio::test]
async fn serve_with_no_configuration_runs_on_sqlite_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[], dir.path());
    let r = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
    assert!(dir.path().join("leadrouter.db").exists());
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("shutdown complete"), "{log}");
    assert!(
        log.contains("SESSION_SECRET is not set"),
        "warned about the random secret: {log}"
    );
}

both_backends! {
    async fn tokens_can_be_listed_revoked_and_made_to_expire(db) {
        let url = db.url.expose().to_string();
        let app = TestApp::spawn(db).await;
        let env = [("DATABASE_URL", url.as_str())];
        let create = |args: &[&str]| {
            let out = process::run(args, &env);
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let laptop = create(&["admin", "create-token", "--name", "laptop"]);
        let ci = create(&["admin", "create-token", "--name", "ci", "--expires-in", "90d"]);
        // Expired a millisecond after it was made: long gone by the time it is used.
        let brief = create(&["admin", "create-token", "--name", "brief", "--expires-in", "1ms"]);
        let status = |token: String| {
            let app = &app;
            async move {
                app.client.get(app.url("/api/admin/markets")).bearer_auth(token).send().await.unwrap().status().as_u16()
            }
        };
        assert_eq!(status(laptop.clone()).await, 200);
        assert_eq!(status(ci.clone()).await, 200);
        assert_eq!(status(brief.clone()).await, 401, "an expired token is refused");

        let listing = create(&["admin", "list-tokens"]);
        let row = |name: &str| listing.lines().find(|l| l.split('\t').nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{listing}")).to_string();
        assert!(row("laptop").ends_with("\tactive"), "{listing}");
        assert!(row("ci").ends_with("\tactive"), "{listing}");
        assert!(!row("ci").split('\t').nth(5).unwrap().starts_with('-'), "expiry shown: {listing}");
        assert!(row("brief").ends_with("\texpired"), "{listing}");
        assert!(!listing.contains(&laptop) && !listing.contains(&ci), "tokens never listed");

        let laptop_id = row("laptop").split('\t').next().unwrap().to_string();
        let out = create(&["admin", "revoke-token", &laptop_id]);
        assert_eq!(out, format!("admin token {laptop_id} revoked"));
        assert_eq!(status(laptop.clone()).await, 401, "revoked at once");
        assert_eq!(status(ci.clone()).await, 200, "the others keep working");
        assert!(create(&["admin", "list-tokens"]).lines().any(|l| l.starts_with(&format!("{laptop_id}\t")) && l.ends_with("\trevoked")));
        let again = process::run(&["admin", "revoke-token", &laptop_id], &env);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("no live admin token"));
        let bad = process::run(&["admin", "create-token", "--name", "x", "--expires-in", "soon"], &env);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--expires-in"));
        app.stop().await;
    }
}
