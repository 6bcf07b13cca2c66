//! Timed mail: each partner's daily summary at 08:00 its time (to partners that want it),
//! and the operators' alerts for partners at their daily limit and for a held backlog.
//! Each is keyed by its period, so running the job again queues nothing new.

use super::{simple, Mailing};
use crate::scheduler::Job;
use crate::signals::Signals;
use leadrouter_core::localtime::{local_date, summary_due};
use leadrouter_store::outbox::Mail;
use leadrouter_store::partners::PartnerStatus;
use std::time::Duration;

/// Held leads that make a backlog worth an operator's look.
const HELD_BACKLOG: i64 = 100;

pub fn daily_summaries(mailing: Mailing, signals: Signals) -> Job {
    Job::new(
        "daily summaries",
        Duration::from_secs(60),
        move |store, now| {
            let (mailing, signals) = (mailing.clone(), signals.clone());
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
                    let text = format!(
                    "Hello {name},\n\nyesterday ({yesterday}, {tz}) we sent you {total} leads: {premium} premium and {raw} raw, of your daily limit of {limit}.\n\nYou get this summary every morning at 08:00 your time; ask your account manager to stop it.",
                    name = p.spec.name,
                    tz = p.spec.timezone,
                    total = c.total,
                    premium = c.premium,
                    raw = c.raw,
                    limit = p.spec.daily_limit,
                );
                    mails.push(simple(
                        "daily_summary",
                        Some(p.id),
                        p.spec.email.clone().unwrap_or_default(),
                        format!("Your leads yesterday, {yesterday}: {}", c.total),
                        text,
                        format!("daily_summary:{}:{today}", p.id),
                    ));
                }
                if store.enqueue_mails(&mails, mailing.sending, now).await? > 0 {
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
                        mails.push(simple(
                        "daily_limit_reached",
                        Some(p.id),
                        ops.clone(),
                        format!("{} reached its daily limit ({total}/{})", p.spec.name, p.spec.daily_limit),
                        format!("{} has had {total} leads today ({day}, {}), its daily limit of {}. Its market's next leads wait (held) or go to other partners until its next day.", p.spec.name, p.spec.timezone, p.spec.daily_limit),
                        format!("daily_limit_reached:{}:{day}", p.id),
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
                    mails.push(simple(
                    "held_backlog",
                    None,
                    ops.clone(),
                    format!("{held} leads are waiting for a partner"),
                    format!("{held} leads are held: no partner can take them now (closed, full, paused, or none in their market). The console's Leads page, filtered by held, shows each one's reasons."),
                    format!("held_backlog:{day}"),
                ));
                }
                if store.enqueue_mails(&mails, mailing.sending, now).await? > 0 {
                    signals.mail_queued();
                }
                Ok(())
            }
        },
    )
}
