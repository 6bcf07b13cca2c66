//! Group commit: concurrent submissions share one transaction, and one bad submission
//! does not fail the others. On both backends.

mod common;

use common::webhook_source;
use leadrouter_core::lead::NewLead;
use leadrouter_store::leads::{Ingested, Submission};
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;

fn lead(i: usize) -> NewLead {
    leadrouter_store::testing::numbered_lead(i)
}

/// Submissions that repeat and duplicate each other in every way: the same `external_id`
/// or `Idempotency-Key` (from the same source, or another), the same e-mail or phone (in
/// the same niche, or another), inside and outside the dedupe window.
fn tangled() -> Vec<(usize, NewLead, Option<String>, i64)> {
    (0..80usize)
        .map(|i| {
            let mut l = lead(i);
            l.email = (i % 5 != 0).then(|| format!("p{}@example.com", i % 11));
            l.phone = (i % 3 == 0).then(|| format!("+4915100000{:03}", i % 7));
            l.niche = if i % 4 == 0 { "crypto" } else { "forex" }.into();
            l.external_id = (i % 2 == 0).then(|| format!("x{}", i % 13));
            let key = (i % 6 == 1).then(|| format!("k{}", i % 4));
            let source = i % 3 / 2; // sources 0 and 1
            let received_at = 1_000_000 + (i as i64) * 1_000;
            (source, l, key, received_at)
        })
        .collect()
}

/// What each submission became, with lead ids replaced by the index of the submission that
/// created the lead, so that two databases can be compared.
fn shape(results: &[Ingested]) -> Vec<String> {
    let created: std::collections::HashMap<i64, usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Ingested::New { .. }))
        .map(|(i, r)| (r.id(), i))
        .collect();
    let name = |id: i64| {
        created
            .get(&id)
            .map_or(format!("?{id}"), |i| format!("#{i}"))
    };
    results
        .iter()
        .map(|r| match r {
            Ingested::New {
                status,
                duplicate_of,
                ..
            } => format!("new {} {:?}", status.as_str(), duplicate_of.map(name)),
            Ingested::Repeat {
                id,
                status,
                duplicate_of,
            } => format!(
                "repeat of {} {} {:?}",
                name(*id),
                status.as_str(),
                duplicate_of.map(name)
            ),
        })
        .collect()
}

async fn stored_in(db: &TestDatabase, batches: &[usize]) -> Vec<String> {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut sources = Vec::new();
    for n in 0..2 {
        sources.push(
            store
                .create_source(
                    &webhook_source(&format!("s{n}")),
                    &format!("hash{n}"),
                    "prefix",
                    0,
                    &leadrouter_store::audit::Actor::system("test"),
                )
                .await
                .unwrap()
                .id,
        );
    }
    let submissions: Vec<Submission> = tangled()
        .into_iter()
        .map(|(source, lead, key, received_at)| Submission {
            source_id: sources[source],
            lead,
            idempotency_key: key,
            received_at,
            cost_cents: 0,
        })
        .collect();
    let window_ms = 20_000;
    let mut results = Vec::new();
    let mut rest = submissions.as_slice();
    for &size in batches.iter().chain(std::iter::repeat(&1)) {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        results.extend(store.insert_leads(now, window_ms).await.unwrap());
        rest = later;
    }
    store.close().await;
    shape(&results)
}

async fn batches_decide_like_single_submissions(one: TestDatabase, other: TestDatabase) {
    let single = stored_in(&one, &[]).await;
    // Some leads stored first, then big batches that repeat and duplicate both the stored
    // leads and each other.
    let batched = stored_in(&other, &[7, 1, 40, 32]).await;
    assert!(single.iter().any(|s| s.starts_with("repeat")));
    assert!(single.iter().any(|s| s.starts_with("new duplicate")));
    assert!(single.iter().any(|s| s.starts_with("new queued")));
    for (i, (a, b)) in single.iter().zip(&batched).enumerate() {
        assert_eq!(a, b, "submission {i}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_decides_repeats_and_duplicates_as_single_submissions_would_sqlite() {
    batches_decide_like_single_submissions(TestDatabase::sqlite(), TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_decides_repeats_and_duplicates_as_single_submissions_would_postgres() {
    if let (Some(one), Some(other)) = (
        TestDatabase::postgres().await,
        TestDatabase::postgres().await,
    ) {
        batches_decide_like_single_submissions(one, other).await;
    }
}
