//! Partners that fail: one answering 500 half the time and hanging a tenth of the time,
//! one that resets, trickles, floods, hangs and is slow to shake hands. Every lead is
//! delivered within the retry schedule, each send of a lead with the same `webhook-id`.

use crate::partner::{dice, Act, ChaosPartner, Receipt};
use crate::*;
use leadrouter_core::status::DeliveryStatus;
use leadrouter_store::Store;
use std::collections::BTreeMap;

const LEADS: usize = 200;
/// 31 attempts: the first and 30 retries. The timeout (2 s) is well above the slowest 2xx
/// (a 700 ms handshake and a 300 ms answer), so that a 2xx is never taken for a timeout.
const RETRIES: usize = 30;

fn schedule() -> String {
    vec!["200ms"; RETRIES].join(",")
}

/// Runs `LEADS` leads through a server whose only partner acts by `plan`; returns what the
/// partner saw per lead, the leads, and how long until every lead was settled.
async fn run_leads(
    db: &leadrouter_store::testing::TestDatabase,
    partner: &ChaosPartner,
) -> (BTreeMap<i64, Vec<Receipt>>, Vec<i64>, Duration, Store) {
    let url = db.url.expose().to_string();
    let retries = schedule();
    let env = server_env(
        &url,
        &[
            ("LEADROUTER_DELIVERY_TIMEOUT", "2s"),
            ("LEADROUTER_RETRY_SCHEDULE", &retries),
            // Failures in a row would pause this partner; here they are the point.
            ("LEADROUTER_PAUSE_AFTER_FAILURES", "1000000"),
        ],
    );
    let admin = admin_token(&url);
    let dir = tempfile::tempdir().unwrap();
    let server = start(&env, dir.path());
    partner_at(&server.base, &admin, partner).await;
    let inbound = format!("{}{}", server.base, source(&server.base, &admin).await);
    let started = Instant::now();
    let sent = Stream::start(vec![inbound], 100, Some(LEADS))
        .finish()
        .await;
    let leads: Vec<i64> = acknowledged(&sent).into_iter().collect();
    assert_eq!(leads.len(), LEADS, "every lead taken in: {sent:?}");
    let store = Store::connect(&db.url).await.unwrap();
    support::eventually_within(Duration::from_secs(120), "every lead settled", || async {
        let open: i64 = store
            .waiting_lead_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        (open == 0).then_some(())
    })
    .await;
    let took = started.elapsed();
    let mut by_lead: BTreeMap<i64, Vec<Receipt>> = BTreeMap::new();
    for r in partner.receipts() {
        by_lead.entry(r.key.parse().unwrap()).or_default().push(r);
    }
    drop(server);
    (by_lead, leads, took, store)
}

async fn partner_at(base: &str, admin: &str, p: &ChaosPartner) {
    add_partner(base, admin, "Flaky CRM", &p.url("/leads"), json!({})).await;
}

/// Each lead delivered once, after as many attempts as the partner's answers asked for.
async fn assert_each_delivered(
    store: &Store,
    leads: &[i64],
    by_lead: &BTreeMap<i64, Vec<Receipt>>,
) {
    for id in leads {
        let deliveries = store.lead_deliveries(*id).await.unwrap();
        let receipts = &by_lead[id];
        assert!(
            receipts
                .iter()
                .all(|r| r.webhook_id == id.to_string() && r.body == receipts[0].body),
            "lead {id}: every send the same webhook-id and body"
        );
        assert_eq!(deliveries.len(), 1, "lead {id}: {deliveries:?}");
        assert_eq!(
            deliveries[0].status,
            DeliveryStatus::Delivered,
            "lead {id}: {deliveries:?}"
        );
        assert!(
            receipts.len() <= RETRIES + 1,
            "lead {id}: more sends than the schedule allows"
        );
    }
}

fn acts(by_lead: &BTreeMap<i64, Vec<Receipt>>) -> Value {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for r in by_lead.values().flatten() {
        *kinds.entry(r.act.kind()).or_default() += 1;
    }
    json!(kinds)
}

both_backends! {
    async fn a_partner_failing_half_the_time_and_hanging_a_tenth_gets_every_lead(db) {
        let _one = ONE_AT_A_TIME.lock().await;
        let plan = |_: &str, key: &str, nth: usize| match dice(31, key, nth) % 100 {
            0..50 => Act::Answer(500, r#"{"error":"internal"}"#.into(), Duration::ZERO),
            50..60 => Act::Hang,
            _ => Act::ok(),
        };
        // The attempts each lead needs under this plan: the schedule must have room for them.
        let partner = ChaosPartner::start(plan, 0, Duration::ZERO).await;
        let (by_lead, leads, took, store) = run_leads(&db, &partner).await;
        assert_each_delivered(&store, &leads, &by_lead).await;
        for id in &leads {
            let receipts = &by_lead[id];
            let needed = (0..).find(|n| plan("", &id.to_string(), *n) == Act::ok()).unwrap() + 1;
            assert_eq!(receipts.len(), needed, "lead {id}: sent until its first 2xx, and not after");
            assert_eq!(receipts.iter().filter(|r| r.act == Act::ok()).count(), 1, "lead {id}");
        }
        let sends: Vec<usize> = by_lead.values().map(Vec::len).collect();
        report(json!({"scenario": "partner: 50% 500s, 10% hangs", "backend": db.url.backend().to_string(),
            "leads": leads.len(), "delivered": leads.len(), "lost": 0, "sends": sends.iter().sum::<usize>(),
            "answers": acts(&by_lead), "most_sends_of_one_lead": sends.iter().max(),
            "retry_schedule": format!("{RETRIES} x 200ms, timeout 2s"), "all_delivered_ms": ms(took)}));
        store.close().await;
    }
}

both_backends! {
    async fn a_partner_that_resets_trickles_floods_and_shakes_hands_slowly_gets_every_lead(db) {
        let _one = ONE_AT_A_TIME.lock().await;
        let plan = |_: &str, key: &str, nth: usize| match dice(43, key, nth) % 100 {
            0..15 => Act::Reset,
            15..25 => Act::Trickle,
            25..35 => Act::Huge,
            35..45 => Act::Hang,
            45..55 => Act::Answer(503, "busy".into(), Duration::ZERO),
            _ => Act::Answer(200, r#"{"success":true}"#.into(), Duration::from_millis(300)),
        };
        // Every third connection waits 700 ms before its TLS handshake.
        let partner = ChaosPartner::start(plan, 3, Duration::from_millis(700)).await;
        let (by_lead, leads, took, store) = run_leads(&db, &partner).await;
        assert_each_delivered(&store, &leads, &by_lead).await;
        for id in &leads {
            // A 2xx head (slow, or with 10 MB behind it) ends the lead's sends.
            let receipts = &by_lead[id];
            let last = receipts.last().unwrap();
            assert!(matches!(last.act, Act::Answer(200, ..) | Act::Huge), "lead {id}: ended on {:?}", last.act);
            assert!(receipts[..receipts.len() - 1].iter().all(|r| !matches!(r.act, Act::Answer(200, ..) | Act::Huge)),
                "lead {id}: sent again after a 2xx: {:?}", receipts.iter().map(|r| r.act.kind()).collect::<Vec<_>>());
        }
        let sends: Vec<usize> = by_lead.values().map(Vec::len).collect();
        report(json!({"scenario": "partner: resets, trickles, 10 MB bodies, hangs, 503s, slow TLS", "backend": db.url.backend().to_string(),
            "leads": leads.len(), "delivered": leads.len(), "lost": 0, "sends": sends.iter().sum::<usize>(),
            "answers": acts(&by_lead), "most_sends_of_one_lead": sends.iter().max(), "all_delivered_ms": ms(took)}));
        store.close().await;
    }
}
