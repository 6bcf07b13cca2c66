//! Ten kill -9s under 200 leads a second: every acknowledged lead reaches the partner, and
//! a lead sent again (its 2xx lost with the process) carries the same `webhook-id`.

use crate::partner::{dice, Act, ChaosPartner};
use crate::*;
use leadrouter_store::Store;
use std::collections::BTreeMap;

const KILLS: usize = 10;
const RATE: u64 = 200;

both_backends! {
    async fn ten_kills_under_200_leads_a_second_lose_no_acknowledged_lead(db) {
        let _one = ONE_AT_A_TIME.lock().await;
        let backend = db.url.backend().to_string();
        let url = db.url.expose().to_string();
        // The partner answers within 0-60 ms, so that some sends are always in flight.
        let partner = ChaosPartner::start(
            |_, key, nth| Act::Answer(200, r#"{"success":true}"#.into(), Duration::from_millis(dice(7, key, nth) % 60)),
            0,
            Duration::ZERO,
        )
        .await;
        let port = free_port().to_string();
        let env = server_env(&url, &[("PORT", &port), ("LEADROUTER_DELIVERY_TIMEOUT", "2s"),
            ("LEADROUTER_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s")]);
        let admin = admin_token(&url);
        let dir = tempfile::tempdir().unwrap();
        let mut server = start(&env, dir.path());
        let base = server.base.clone();
        add_partner(&base, &admin, "Steady FX", &partner.url("/steady"), json!({})).await;
        let inbound = format!("{base}{}", source(&base, &admin).await);

        let stream = Stream::start(vec![inbound], RATE, None);
        let mut restarts = Vec::new();
        for k in 0..KILLS {
            // Each run a different length, so that kills land in different stages.
            tokio::time::sleep(Duration::from_millis(700 + dice(11, "kill", k) % 800)).await;
            server.kill();
            let down = Instant::now();
            server = start(&env, dir.path());
            restarts.push(down.elapsed());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sent = stream.stop().await;
        let last_restart = Instant::now();
        let acked = acknowledged(&sent);
        assert!(acked.len() > 1000, "too few leads taken in to mean anything: {}", acked.len());

        // Every acknowledged lead at the partner. A send in flight at a kill is sent again
        // when its lease ends (the delivery timeout and margins: about 22 s here).
        let store = Store::connect(&db.url).await.unwrap();
        let received = |p: &ChaosPartner| -> BTreeMap<i64, Vec<crate::partner::Receipt>> {
            let mut by_lead: BTreeMap<i64, Vec<_>> = BTreeMap::new();
            for r in p.receipts() {
                by_lead.entry(r.key.parse().unwrap()).or_default().push(r);
            }
            by_lead
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        let missing = loop {
            let got = received(&partner);
            let missing: Vec<i64> = acked.iter().copied().filter(|id| !got.contains_key(id)).collect();
            if missing.is_empty() || Instant::now() > deadline {
                break missing;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let drain = last_restart.elapsed();
        for id in &missing {
            eprintln!("MISSING after {} s: {}", drain.as_secs(), state_of(&store, &url, *id).await);
        }
        let got = received(&partner);
        let mut repeated = 0;
        let mut most = 0;
        for (id, receipts) in &got {
            assert!(receipts.iter().all(|r| r.webhook_id == id.to_string()), "lead {id}: webhook-id is the lead id: {receipts:?}");
            assert!(receipts.iter().all(|r| r.body == receipts[0].body), "lead {id}: a repeat is the same body");
            if receipts.len() > 1 {
                repeated += 1;
            }
            most = most.max(receipts.len());
        }
        let stored_unacknowledged = got.keys().filter(|id| !acked.contains(id)).count();
        report(json!({"scenario": "kill -9 under a stream of leads", "backend": backend,
            "kills": KILLS, "offered_per_s": RATE, "offered": sent.len(), "acknowledged": acked.len(),
            "refused_or_unanswered": sent.len() - acked.len(),
            "delivered": acked.iter().filter(|id| got.contains_key(id)).count(),
            "lost": missing.len(), "leads_received_more_than_once": repeated,
            "most_receipts_of_one_lead": most,
            "delivered_but_unacknowledged": stored_unacknowledged,
            "restart_ms": spread(restarts), "drain_after_last_restart_ms": ms(drain)}));
        assert!(missing.is_empty(), "{} acknowledged leads never reached the partner: {missing:?}", missing.len());
        store.close().await;
        drop(server);
    }
}
