//! A partner answering `200` with a duplicate verdict half the time: each of those leads
//! goes on to the next partner, once; the others stay with the first. None lost, none
//! delivered twice.

use crate::partner::{dice, Act, ChaosPartner};
use crate::*;
use leadrouter_store::Store;
use std::collections::BTreeMap;

const LEADS: usize = 100;

fn says_duplicate(key: &str) -> bool {
    dice(53, key, 0).is_multiple_of(2)
}

both_backends! {
    async fn a_partner_calling_half_its_leads_duplicates_passes_them_on_once(db) {
        let _one = ONE_AT_A_TIME.lock().await;
        let url = db.url.expose().to_string();
        let crm = ChaosPartner::start(
            |path, key, _| match path {
                "/crm" if says_duplicate(key) => Act::Answer(200, r#"{"status":"duplicate","message":"email already exists"}"#.into(), Duration::ZERO),
                _ => Act::Answer(200, r#"{"status":"ok"}"#.into(), Duration::ZERO),
            },
            0,
            Duration::ZERO,
        )
        .await;
        let env = server_env(&url, &[]);
        let admin = admin_token(&url);
        let dir = tempfile::tempdir().unwrap();
        let server = start(&env, dir.path());
        let first = add_partner(&server.base, &admin, "CRM broker", &crm.url("/crm"), json!({"priority": 0,
            "response": {"rules": [{"if": {"path": "status", "equals": "duplicate"}, "then": "duplicate"}], "reason": "message"}})).await;
        let second = add_partner(&server.base, &admin, "Next broker", &crm.url("/next"), json!({"priority": 1})).await;
        let inbound = format!("{}{}", server.base, source(&server.base, &admin).await);
        let sent = Stream::start(vec![inbound], 100, Some(LEADS)).finish().await;
        let leads = acknowledged(&sent);
        assert_eq!(leads.len(), LEADS);
        let store = Store::connect(&db.url).await.unwrap();
        support::eventually_within(Duration::from_secs(60), "every lead settled", || async {
            let open: i64 = store.waiting_lead_counts().await.unwrap().iter().map(|(_, n)| n).sum();
            (open == 0).then_some(())
        })
        .await;
        let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
        for r in crm.receipts() {
            *got.entry((r.path, r.key)).or_default() += 1;
        }
        let mut duplicates = 0;
        for id in &leads {
            let key = id.to_string();
            let lead = store.lead(*id).await.unwrap().unwrap();
            assert_eq!(got.get(&("/crm".into(), key.clone())), Some(&1), "lead {id}: offered to the CRM once");
            if says_duplicate(&key) {
                duplicates += 1;
                assert_eq!(got.get(&("/next".into(), key.clone())), Some(&1), "lead {id}: passed on once");
                assert_eq!(lead.partner_id, Some(second), "lead {id}");
            } else {
                assert_eq!(got.get(&("/next".into(), key.clone())), None, "lead {id}: kept by the CRM");
                assert_eq!(lead.partner_id, Some(first), "lead {id}");
            }
            assert_eq!(lead.status.to_string(), "delivered", "lead {id}");
        }
        report(json!({"scenario": "partner answers 200 with a duplicate verdict half the time", "backend": db.url.backend().to_string(),
            "leads": LEADS, "duplicate_verdicts": duplicates, "passed_on": duplicates, "kept_by_first": LEADS - duplicates,
            "delivered": LEADS, "lost": 0, "delivered_twice": 0}));
        store.close().await;
        drop(server);
    }
}
