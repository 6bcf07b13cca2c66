//! The waiting-leads gauges of `/metrics` are read through the status index: as many rows
//! as wait, never a scan of every lead (a scrape, however often repeated, costs little).

use leadrouter_store::leads::WAITING_COUNT;
use leadrouter_store::testing::TestDatabase;
use leadrouter_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_counts_search_the_status_index_instead_of_scanning_the_leads() {
    let db = TestDatabase::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let plan = store
        .query_plan_for_tests(&WAITING_COUNT.replace("$1", "'queued'"))
        .await;
    assert!(
        plan.iter()
            .any(|l| l.contains("SEARCH leads USING COVERING INDEX leads_status_route")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|l| l.starts_with("SCAN leads")),
        "{plan:?}"
    );
    let counts = store.waiting_lead_counts().await.unwrap();
    assert_eq!(counts.len(), 3);
    assert!(counts.iter().all(|(_, n)| *n == 0));
    store.close().await;
}
