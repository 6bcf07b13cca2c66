//! Timed mail: each partner's daily summary at 08:00 its time (to partners that want it),
//! and the operators' alerts for partners at their daily limit and for a held backlog.
//! Each is keyed by its period, so running the job again queues nothing new.

use super::Mailing;
use crate::scheduler::Job;
use crate::signals::Signals;
use leadrouter_core::localtime::{local_date, summary_due};
use leadrouter_store::outbox::Mail;
use leadrouter_store::partners::PartnerStatus;
use std::time::Duration;

/// Held leads that make a backlog worth an operator's look.
const HELD_BACKLOG: i64 = 100;

pub fn daily_summaries(signals: Signals) -> Job {
    Job::new(
        "daily summaries",
        Duration::from_secs(60),
        move |store, now| {
            let signals = signals.clone();
            async move {
                let partners = store.list_partners(1000, None).await?;
                let mut mails: Vec<Mail> = Vec::new();
                let due: Vec<_> = partners
                    .iter()
                    .filter(|p| p.spec.daily_summary && p.spec.email.is_some())
                    .filter_map(|p| summary_due(&p.spec.timezone, now).map(|d| (p, d)))
                    .collect();
                let keys: Vec<(i64, String)> =
                    due.iter().map(|(p, (_, y))| (p.id, y.clone())).collect();
                let counts = store.day_counts(&keys).await?;
                for (p, (today, yesterday)) in due {
                    let c = counts.get(&p.id).copied().unwrap_or_default();
                    mails.extend(super::daily_summary(
                        p.id,
                        &p.spec,
                        &today,
                        &yesterday,
                        (c.total, c.premium, c.raw),
                    ));
                }
                if store.enqueue_mails(&mails, now).await? > 0 {
                    signals.mail_queued();
                }
                Ok(())
            }
        },
    )
}

pub fn operator_alerts(mailing: Mailing, signals: Signals) -> Job {
    Job::new(
        "operator alerts",
        Duration::from_secs(60),
        move |store, now| {
            let (mailing, signals) = (mailing.clone(), signals.clone());
            async move {
                let Some(ops) = mailing.ctx.to_operators() else {
                    return Ok(());
                };
                let partners = store.list_partners(1000, None).await?;
                let keys: Vec<(i64, String)> = partners
                    .iter()
                    .map(|p| (p.id, local_date(&p.spec.timezone, now)))
                    .collect();
                let counts = store.day_counts(&keys).await?;
                let mut mails = Vec::new();
                for (p, (_, day)) in partners.iter().zip(&keys) {
                    let total = counts.get(&p.id).map_or(0, |c| c.total);
                    if p.status == PartnerStatus::Active && total >= i64::from(p.spec.daily_limit) {
                        mails.push(super::daily_limit_reached(
                            ops.clone(),
                            p.id,
                            &p.spec,
                            day,
                            total,
                        ));
                    }
                }
                let held = store
                    .waiting_lead_counts()
                    .await?
                    .into_iter()
                    .find(|(s, _)| *s == leadrouter_core::status::LeadStatus::Held)
                    .map_or(0, |(_, n)| n);
                if held >= HELD_BACKLOG {
                    let day = local_date("UTC", now);
                    mails.push(super::held_backlog(ops.clone(), held, &day));
                }
                if store.enqueue_mails(&mails, now).await? > 0 {
                    signals.mail_queued();
                }
                Ok(())
            }
        },
    )
}
