use crate::support::TestApp;
use serde_json::{json, Value};

both_backends! {
    async fn healthz_and_readyz_answer_ok(db) {
        let app = TestApp::spawn(db).await;
        let r = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
        let r = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        app.stop().await;
    }
}

both_backends! {
    async fn unknown_path_gets_a_json_404(db) {
        let app = TestApp::spawn(db).await;
        let r = app.client.get(app.url("/no/such/thing")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["code"], "not_found");
        app.stop().await;
    }
}

/// Readiness must say no when the database is gone, so a load balancer stops sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_when_the_postgres_database_is_gone() {
    use sqlx::{Connection, Executor};
    let Some(db) = leadrouter_store::testing::TestDatabase::postgres().await else {
        return;
    };
    let name = db.url.expose().rsplit('/').next().unwrap().to_string();
    let app = TestApp::spawn(db).await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let admin_url = std::env::var(leadrouter_store::testing::POSTGRES_URL_VAR).unwrap();
    let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    conn.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();

    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "unavailable");
    // Liveness is about the process, which is fine.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
