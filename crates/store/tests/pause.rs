//! Pauses that race (two failures counted at once, an operator's press at the same time)
//! pause a partner once: one mail, one audit entry. On both backends.

mod common;

use common::{fixture, NOW};
use leadrouter_store::outbox::Mail;
use leadrouter_store::testing::TestDatabase;

fn mail(partner_id: i64, at: i64) -> Mail {
    Mail {
        kind: leadrouter_core::notice::MailKind::PartnerPaused,
        partner_id: Some(partner_id),
        to: "ops@partner.example".into(),
        bcc: None,
        subject: "paused".into(),
        text: "paused".into(),
        html: "paused".into(),
        dedupe_key: Some(format!("partner_paused:{partner_id}:{at}")),
        lead_id: None,
        secret: None,
    }
}

async fn scenario(db: TestDatabase) {
    let f = fixture(&db, 10).await;
    let actor = leadrouter_store::audit::Actor::system("delivery failures");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, actor, id) = (f.store.clone(), actor.clone(), f.partner_id);
        tasks.push(tokio::spawn(async move {
            store
                .pause_partner(id, "failures", NOW + i, &[mail(id, NOW + i)], &actor)
                .await
                .unwrap()
                .is_some()
        }));
    }
    let mut paused = 0;
    for t in tasks {
        paused += usize::from(t.await.unwrap());
    }
    assert_eq!(paused, 1, "one pause of eight racing");
    let mails = f
        .store
        .list_notifications(Some("partner_paused"), None, 100)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1, "one mail");
    f.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_pauses_pause_once_with_one_mail_sqlite() {
    scenario(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_pauses_pause_once_with_one_mail_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        scenario(db).await;
    }
}
