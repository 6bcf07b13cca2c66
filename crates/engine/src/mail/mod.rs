//! What the platform writes to partners and operators, as mails for the outbox: plain text
//! and HTML from askama templates, written for a busy reader. Never a secret.

pub mod jobs;
mod sender;

pub use sender::{Mailer, MailerSettings};

use askama::Template;
use leadrouter_core::lead::LeadType;
use leadrouter_core::notice::MailKind;
use leadrouter_core::partner::PartnerSpec;
use leadrouter_core::routing::LeadFacts;
use leadrouter_core::transform::{encode, payload};
use leadrouter_store::outbox::{Mail, Sending};
use serde_json::{json, Map};

/// How the engine writes mail: what to say and whether it is sent or only recorded.
#[derive(Debug, Clone)]
pub struct Mailing {
    pub ctx: MailContext,
    pub sending: Sending,
}

impl Default for Mailing {
    fn default() -> Self {
        Mailing {
            ctx: MailContext::default(),
            sending: Sending::Off,
        }
    }
}

/// What every mail needs to know of the installation.
#[derive(Debug, Clone, Default)]
pub struct MailContext {
    /// Base URL partners reach us at (the conversion API).
    pub public_url: String,
    /// Operators' addresses for alerts (`LEADROUTER_ALERT_EMAILS`).
    pub alert_emails: Vec<String>,
}

impl MailContext {
    fn alerts(&self) -> Option<String> {
        (!self.alert_emails.is_empty()).then(|| self.alert_emails.join(", "))
    }

    /// To the partner, operators copied; to the operators alone when the partner has no
    /// address. `None` when there is nobody to write to.
    fn to_partner_and_operators(&self, spec: &PartnerSpec) -> Option<(String, Option<String>)> {
        match (&spec.email, self.alerts()) {
            (Some(e), bcc) => Some((e.clone(), bcc)),
            (None, Some(ops)) => Some((ops, None)),
            (None, None) => None,
        }
    }
}

fn render(t: &impl Template) -> String {
    t.render()
        .unwrap_or_else(|e| format!("(this message could not be written: {e})"))
}

#[derive(Template)]
#[template(path = "mail/welcome.txt")]
struct WelcomeText<'a> {
    p: &'a PartnerSpec,
    partner_id: i64,
    example: String,
    content_type: &'static str,
    conversion_url: String,
    hours: String,
}

#[derive(Template)]
#[template(path = "mail/welcome.html")]
struct WelcomeHtml<'a> {
    t: &'a WelcomeText<'a>,
}

/// The example lead a partner is shown: its own format, mapping and defaults applied.
/// An example lead as this partner receives it (its format, mapping and defaults applied),
/// and its content type.
pub fn example(spec: &PartnerSpec) -> (String, &'static str) {
    let mut custom = Map::new();
    for field in &spec.required_fields {
        custom.insert(field.clone(), json!("example"));
    }
    let facts = LeadFacts {
        lead_type: LeadType::Premium,
        first_name: Some("John"),
        last_name: Some("Smith"),
        email: Some("john.smith@email.com"),
        phone: Some("+491234567890"),
        phone_valid: true,
        country: &spec.country,
        niche: &spec.niche,
        source_label: Some("facebook_ads"),
        source_id: None,
        custom_fields: &custom,
    };
    let body = payload("12345", &facts, 1_758_668_113_207, spec);
    let (bytes, kind) = encode(&body, spec.content_type);
    let text = match spec.content_type {
        leadrouter_core::partner::ContentType::Json => {
            serde_json::to_string_pretty(&body).unwrap_or_default()
        }
        _ => String::from_utf8_lossy(&bytes).into_owned(),
    };
    (text, kind)
}

/// `partner_welcome`: everything a partner needs to integrate.
pub fn welcome(ctx: &MailContext, partner_id: i64, spec: &PartnerSpec) -> Option<Mail> {
    let to = spec.email.clone()?;
    let (example, content_type) = example(spec);
    let text = WelcomeText {
        p: spec,
        partner_id,
        example,
        content_type,
        conversion_url: format!("{}/api/conversion/{partner_id}", ctx.public_url),
        hours: spec
            .business_hours
            .as_ref()
            .map_or_else(|| "any time".to_string(), |h| h.to_string()),
    };
    Some(Mail {
        kind: MailKind::PartnerWelcome,
        partner_id: Some(partner_id),
        to,
        bcc: None,
        subject: format!("Your lead integration with us is ready: {}", spec.name),
        text: render(&text),
        html: render(&WelcomeHtml { t: &text }),
        dedupe_key: Some(MailKind::PartnerWelcome.key(&[&partner_id])),
        ..Mail::default()
    })
}

#[derive(Template)]
#[template(path = "mail/failing.txt")]
struct FailingText<'a> {
    p: &'a PartnerSpec,
    what: &'a str,
    excerpt: &'a str,
    streak: i64,
}

#[derive(Template)]
#[template(path = "mail/simple.html")]
struct SimpleHtml<'a> {
    text: &'a str,
}

/// `partner_failing`: deliveries keep failing; what the endpoint last said (`excerpt`,
/// with the lead whose delivery it answered: the mail is cleared when that lead is
/// erased, as the answer may echo the person). The store gives it its key (one per
/// failure streak).
pub fn failing(
    ctx: &MailContext,
    partner_id: i64,
    spec: &PartnerSpec,
    what: &str,
    excerpt: Option<(i64, &str)>,
    streak: i64,
) -> Option<Mail> {
    let (to, bcc) = ctx.to_partner_and_operators(spec)?;
    let text = render(&FailingText {
        p: spec,
        what,
        excerpt: excerpt.map(|(_, e)| e).unwrap_or_default(),
        streak,
    });
    Some(Mail {
        kind: MailKind::PartnerFailing,
        partner_id: Some(partner_id),
        to,
        bcc,
        subject: format!("Leads are not reaching {}: {what}", spec.name),
        html: render(&SimpleHtml { text: &text }),
        text,
        dedupe_key: None,
        lead_id: excerpt.map(|(id, _)| id),
        ..Mail::default()
    })
}

#[derive(Template)]
#[template(path = "mail/paused.txt")]
struct PausedText<'a> {
    p: &'a PartnerSpec,
    reason: &'a str,
}

/// `partner_paused`: no more deliveries until an operator resumes the partner.
pub fn paused(
    ctx: &MailContext,
    partner_id: i64,
    spec: &PartnerSpec,
    reason: &str,
    now: i64,
) -> Option<Mail> {
    let (to, bcc) = ctx.to_partner_and_operators(spec)?;
    let text = render(&PausedText { p: spec, reason });
    Some(Mail {
        kind: MailKind::PartnerPaused,
        partner_id: Some(partner_id),
        to,
        bcc,
        subject: format!("Deliveries to {} are paused", spec.name),
        html: render(&SimpleHtml { text: &text }),
        text,
        dedupe_key: Some(MailKind::PartnerPaused.key(&[&partner_id, &now])),
        ..Mail::default()
    })
}

#[derive(Template)]
#[template(path = "mail/erasure_notice.txt")]
struct ErasureText<'a> {
    p: &'a PartnerSpec,
    lead_ids: &'a [i64],
    webhook: bool,
}

/// `erasure_notice`: to the partner's address, the ids of the erased person's leads it
/// received (never the person's data). `None` when the partner has no address.
pub fn erasure_notice(
    partner_id: i64,
    spec: &PartnerSpec,
    lead_ids: &[i64],
    now: i64,
) -> Option<Mail> {
    let to = spec.email.clone()?;
    let text = render(&ErasureText {
        p: spec,
        lead_ids,
        webhook: spec.erasure_webhook_url.is_some(),
    });
    Some(Mail {
        kind: MailKind::ErasureNotice,
        partner_id: Some(partner_id),
        to,
        bcc: None,
        subject: format!("Please erase {} lead(s) we sent you", lead_ids.len()),
        html: render(&SimpleHtml { text: &text }),
        text,
        dedupe_key: Some(MailKind::ErasureNotice.key(&[
            &partner_id,
            &now,
            &lead_ids.first().copied().unwrap_or_default(),
        ])),
        ..Mail::default()
    })
}

/// A mail whose HTML is its text (alerts, summaries, invitations).
fn plain(
    kind: MailKind,
    partner_id: Option<i64>,
    to: String,
    subject: String,
    text: String,
    dedupe_key: String,
) -> Mail {
    Mail {
        kind,
        partner_id,
        to,
        bcc: None,
        subject,
        html: render(&SimpleHtml { text: &text }),
        text,
        dedupe_key: Some(dedupe_key),
        ..Mail::default()
    }
}

#[derive(Template)]
#[template(path = "mail/daily_summary.txt")]
struct SummaryText<'a> {
    p: &'a PartnerSpec,
    yesterday: &'a str,
    total: i64,
    premium: i64,
    raw: i64,
}

/// `daily_summary`: yesterday's count, at 08:00 in the partner's morning (`today` is its
/// day now: one summary a day). `None` when the partner has no address.
pub fn daily_summary(
    partner_id: i64,
    spec: &PartnerSpec,
    today: &str,
    yesterday: &str,
    (total, premium, raw): (i64, i64, i64),
) -> Option<Mail> {
    let to = spec.email.clone()?;
    let text = render(&SummaryText {
        p: spec,
        yesterday,
        total,
        premium,
        raw,
    });
    Some(plain(
        MailKind::DailySummary,
        Some(partner_id),
        to,
        format!("Your leads yesterday, {yesterday}: {total}"),
        text,
        MailKind::DailySummary.key(&[&partner_id, &today]),
    ))
}

#[derive(Template)]
#[template(path = "mail/daily_limit_reached.txt")]
struct LimitText<'a> {
    p: &'a PartnerSpec,
    day: &'a str,
    total: i64,
}

/// `daily_limit_reached`: to the operators, once a partner's day.
pub fn daily_limit_reached(
    operators: String,
    partner_id: i64,
    spec: &PartnerSpec,
    day: &str,
    total: i64,
) -> Mail {
    plain(
        MailKind::DailyLimitReached,
        Some(partner_id),
        operators,
        format!(
            "{} reached its daily limit ({total}/{})",
            spec.name, spec.daily_limit
        ),
        render(&LimitText {
            p: spec,
            day,
            total,
        }),
        MailKind::DailyLimitReached.key(&[&partner_id, &day]),
    )
}

#[derive(Template)]
#[template(path = "mail/held_backlog.txt")]
struct BacklogText {
    held: i64,
}

/// `held_backlog`: to the operators, once a day, when many leads wait for a partner.
pub fn held_backlog(operators: String, held: i64, day: &str) -> Mail {
    plain(
        MailKind::HeldBacklog,
        None,
        operators,
        format!("{held} leads are waiting for a partner"),
        render(&BacklogText { held }),
        MailKind::HeldBacklog.key(&[&day]),
    )
}

#[derive(Template)]
#[template(path = "mail/portal_invite.txt")]
struct InviteText<'a> {
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/supplier_invite.txt")]
struct SupplierInviteText<'a> {
    name: &'a str,
    link: &'a str,
}

/// `portal_invite` (to a partner's portal, `partner_id` set) or `supplier_invite` (to a
/// source's): the invitation. Its stored text holds only
/// [`SECRET_MARK`](leadrouter_store::outbox::SECRET_MARK) where the link goes; the link
/// travels as the mail's secret. `link_key` makes each link its own mail.
pub fn invitation(
    kind: MailKind,
    partner_id: Option<i64>,
    owner_name: &str,
    to: String,
    user_id: i64,
    link_key: &str,
    link: String,
) -> Mail {
    let mark = leadrouter_store::outbox::SECRET_MARK;
    let (text, subject) = if kind == MailKind::SupplierInvite {
        (
            render(&SupplierInviteText {
                name: owner_name,
                link: mark,
            }),
            format!("Your access to the {owner_name} supplier portal"),
        )
    } else {
        (
            render(&InviteText {
                name: owner_name,
                link: mark,
            }),
            format!("Your access to the {owner_name} lead portal"),
        )
    };
    Mail {
        secret: Some(link),
        ..plain(
            kind,
            partner_id,
            to,
            subject,
            text,
            kind.key(&[&user_id, &link_key]),
        )
    }
}

impl MailContext {
    /// To the operators, if any are configured.
    pub fn to_operators(&self) -> Option<String> {
        self.alerts()
    }
}
