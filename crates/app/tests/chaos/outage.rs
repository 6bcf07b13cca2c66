//! PostgreSQL crashes for ten seconds in the middle of a stream of leads: while it is down
//! the inbound answers 503 at once (never a 2xx for a lead it could not store, never a
//! hang); when it is back the server takes leads again by itself, and every lead it
//! acknowledged, before or after, reaches the partner.

use crate::partner::{Act, ChaosPartner};
use crate::postgres::OwnPostgres;
use crate::*;
use leadrouter_store::Store;
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_for_ten_seconds_no_lead_acknowledged_unstored_and_all_delivered_after() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(pg) = OwnPostgres::start() else {
        return;
    };
    let url = pg.admin_url();
    let partner = ChaosPartner::start(|_, _, _| Act::ok(), 0, Duration::ZERO).await;
    let env = server_env(
        &url,
        &[
            ("LEADROUTER_DELIVERY_TIMEOUT", "2s"),
            ("LEADROUTER_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s"),
        ],
    );
    let admin = admin_token(&url);
    let dir = tempfile::tempdir().unwrap();
    let server = start(&env, dir.path());
    add_partner(
        &server.base,
        &admin,
        "Steady FX",
        &partner.url("/steady"),
        json!({}),
    )
    .await;
    let inbound = format!("{}{}", server.base, source(&server.base, &admin).await);

    let stream = Stream::start(vec![inbound], 100, None);
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.crash();
    let down_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg.up();
    let up_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sent = stream.stop().await;

    // Answers while it was down: 503 (or a 2xx from a batch committed just before).
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut down_answers = Vec::new();
    for s in sent.iter().filter(|s| s.at > down_at && s.at < up_at) {
        *statuses.entry(s.status).or_default() += 1;
        down_answers.push(s.took);
    }
    let recovered_after = sent
        .iter()
        .filter(|s| s.at > up_at && s.lead_id.is_some())
        .map(|s| s.at.duration_since(up_at))
        .min();
    let unexpected: Vec<&Sent> = sent
        .iter()
        .filter(|s| !matches!(s.status, 200..=299 | 503))
        .collect();
    let acked = acknowledged(&sent);

    let store = Store::connect(&url.parse().unwrap()).await.unwrap();
    let mut unstored = Vec::new();
    for id in &acked {
        if store.lead(*id).await.unwrap().is_none() {
            unstored.push(*id);
        }
    }
    // Every stored lead delivered: acknowledged ones, and any stored whose answer was lost.
    let deadline = Instant::now() + Duration::from_secs(90);
    let counts = loop {
        let counts = store.lead_status_counts().await.unwrap();
        let stored: i64 = counts.values().sum();
        if counts.get("delivered") == Some(&stored) || Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let received: std::collections::BTreeSet<i64> = partner
        .receipts()
        .iter()
        .map(|r| r.key.parse().unwrap())
        .collect();
    let lost: Vec<i64> = acked.difference(&received).copied().collect();
    for id in &lost {
        eprintln!("MISSING: {}", state_of(&store, &url, *id).await);
    }
    report(
        json!({"scenario": "PostgreSQL crashed for 10 s under 100 leads/s", "backend": "postgres",
        "offered": sent.len(), "acknowledged": acked.len(), "answers_while_down": statuses,
        "answer_while_down_ms": spread(down_answers), "unexpected_answers": unexpected.len(),
        "acknowledged_but_not_stored": unstored.len(), "stored": counts.values().sum::<i64>(),
        "stored_by_status": counts, "lost": lost.len(),
        "first_2xx_after_restart_ms": recovered_after.map(ms)}),
    );
    assert!(
        unstored.is_empty(),
        "2xx for leads that were not stored: {unstored:?}"
    );
    assert!(
        unexpected.is_empty(),
        "answers other than 2xx and 503: {unexpected:?}"
    );
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the outage was seen: {statuses:?}"
    );
    assert!(
        recovered_after.is_some(),
        "leads were taken again after the database came back"
    );
    assert!(
        lost.is_empty(),
        "acknowledged leads never delivered: {lost:?}"
    );
    let stored: i64 = counts.values().sum();
    assert_eq!(
        counts.get("delivered"),
        Some(&stored),
        "every stored lead delivered: {counts:?}"
    );
    store.close().await;
    drop(server);
}
