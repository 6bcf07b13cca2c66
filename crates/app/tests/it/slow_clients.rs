//! Slow and greedy clients: no storage involved, so on the default backend only.

use crate::support::TestApp;
use leadrouter_store::testing::TestDatabase;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn app(vars: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(TestDatabase::sqlite(), vars).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection; `None` if it is still
/// open after 20 s (the bound of the test, not a measurement).
async fn until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_trickled_past_the_deadline_end_the_connection() {
    let app = app(&[("LEADROUTER_HTTP_HEADER_TIMEOUT", "1s")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (mut rd, mut wr) = stream.into_split();
    // One header byte every 100 ms, never ending the headers.
    let trickle = tokio::spawn(async move {
        for _ in 0..300 {
            if wr.write_all(b"X").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a trickling client kept its connection");
    trickle.abort();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = app(&[("LEADROUTER_HTTP_HEADER_TIMEOUT", "1s")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let seen = until_closed(&mut stream)
        .await
        .expect("idle connection closed");
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_are_refused() {
    let app = app(&[]).await;
    let mut stream = connect(&app).await;
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(500 * 1024)
    );
    let _ = stream.write_all(big.as_bytes()).await;
    let seen = until_closed(&mut stream).await.expect("closed");
    assert!(seen.starts_with("HTTP/1.1 431"), "{seen:.80}");
    // A request of ordinary size still works.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-fine", "a".repeat(4000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_given_up_on() {
    let app = app(&[("LEADROUTER_HTTP_BODY_TIMEOUT", "1s")]).await;
    let (_, token) = app
        .source(serde_json::json!({"name": "S", "kind": "webhook"}))
        .await;
    let mut stream = connect(&app).await;
    let head = format!("POST /api/webhook/{token} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"email\":");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
        .await
        .expect("an answer before the rest of the body")
        .unwrap();
    let seen = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        seen.starts_with("HTTP/1.1 422") || seen.starts_with("HTTP/1.1 408"),
        "{seen}"
    );
    // Recorded like any other refusal.
    let (_, r) = app.get("/api/admin/rejected-submissions").await;
    assert_eq!(
        r["rejected_submissions"].as_array().unwrap().len(),
        1,
        "{r}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_told_to_come_back() {
    let app = app(&[("LEADROUTER_HTTP_MAX_CONNECTIONS", "4")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s); // kept alive: each holds a slot
    }
    let mut fifth = connect(&app).await;
    let seen = until_closed(&mut fifth).await.expect("refused at once");
    assert!(seen.starts_with("HTTP/1.1 503"), "{seen}");
    assert!(
        seen.to_ascii_lowercase().contains("retry-after: 1"),
        "{seen}"
    );
    // One leaves; the next one is served.
    drop(held.pop());
    crate::support::eventually("a slot freed", || async {
        let mut s = connect(&app).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let seen = until_closed(&mut s).await?;
        seen.starts_with("HTTP/1.1 200").then_some(())
    })
    .await;
    drop(held);
    app.stop().await;
}
