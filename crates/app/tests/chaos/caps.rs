//! Three instances on one PostgreSQL, three partners capped at 20 (a day, an hour, for
//! ever), 500 leads sent to the instances in turn: exactly 60 delivered, none over a cap.

use crate::partner::{Act, ChaosPartner};
use crate::*;
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;
use std::collections::{BTreeMap, BTreeSet};

const LEADS: usize = 500;
const CAP: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_fill_daily_hourly_and_total_caps_of_20_and_not_one_lead_more() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let url = db.url.expose().to_string();
    let partner_server = ChaosPartner::start(|_, _, _| Act::ok(), 0, Duration::ZERO).await;
    let env = server_env(&url, &[]);
    let admin = admin_token(&url);
    let dir = tempfile::tempdir().unwrap();
    let servers: Vec<_> = (0..3).map(|_| start(&env, dir.path())).collect();
    let base = &servers[0].base;
    let caps = [
        ("/daily", json!({"daily_limit": CAP})),
        ("/hourly", json!({"caps": {"hourly": CAP}})),
        ("/total", json!({"caps": {"total": CAP}})),
    ];
    for (path, settings) in &caps {
        add_partner(
            base,
            &admin,
            &format!("Capped {path}"),
            &partner_server.url(path),
            settings.clone(),
        )
        .await;
    }
    let path = source(base, &admin).await;
    let inbound: Vec<String> = servers
        .iter()
        .map(|s| format!("{}{path}", s.base))
        .collect();
    let started = Instant::now();
    let sent = Stream::start(inbound, 250, Some(LEADS)).finish().await;
    assert_eq!(acknowledged(&sent).len(), LEADS, "every lead taken in");

    // Settled: no lead waiting to be routed or delivered (the rest wait, held, for room).
    let store = Store::connect(&db.url).await.unwrap();
    support::eventually_within(
        Duration::from_secs(60),
        "every lead routed and every delivery done",
        || async {
            let open: i64 = store
                .waiting_lead_counts()
                .await
                .unwrap()
                .iter()
                .filter(|(s, _)| *s != leadrouter_store::leads::LeadStatus::Held)
                .map(|(_, n)| n)
                .sum();
            (open == 0).then_some(())
        },
    )
    .await;
    let settled = started.elapsed();
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in partner_server.receipts() {
        by_path.entry(r.path.clone()).or_default().push(r.key);
    }
    let counts = store.lead_status_counts().await.unwrap();
    let received: BTreeMap<&str, usize> = caps
        .iter()
        .map(|(p, _)| (*p, by_path.get(*p).map_or(0, Vec::len)))
        .collect();
    let over: usize = received.values().map(|n| n.saturating_sub(CAP)).sum();
    report(
        json!({"scenario": "3 instances, 3 partners capped at 20 (daily, hourly, total)", "backend": "postgres",
        "leads": LEADS, "received_by_partner": received, "delivered": counts.get("delivered"),
        "over_cap": over, "held": counts.get("held"), "settled_ms": ms(settled)}),
    );
    for (p, _) in &caps {
        let keys = &by_path[*p];
        assert_eq!(keys.len(), CAP, "{p} received {} leads", keys.len());
        assert_eq!(
            keys.iter().collect::<BTreeSet<_>>().len(),
            CAP,
            "{p}: a lead sent twice"
        );
    }
    assert_eq!(
        counts.get("delivered"),
        Some(&((3 * CAP) as i64)),
        "{counts:?}"
    );
    store.close().await;
    drop(servers);
}
