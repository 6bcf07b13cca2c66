//! A test lead: sent now to a partner through the same path as real deliveries (payload,
//! signature, SSRF guard, client), stored nowhere, and what its answer would mean.

use leadrouter_core::clock::EpochMillis;
use leadrouter_core::outcome::{classify, judge, Attempted, Verdict};
use leadrouter_core::reply::Reply;
use leadrouter_core::routing::LeadFacts;
use leadrouter_core::source::LeadType;
use leadrouter_core::transform::payload;
use leadrouter_delivery::client::{AttemptResult, Sender};
use leadrouter_store::partners::Partner;
use serde_json::{json, Map, Value};

/// What a test lead did: the body sent, the attempt, and what a real delivery would make
/// of the answer (`delivered`, `would retry`, `rejected`, `duplicate`, `blocked`), read by
/// the partner's `response` rules as a real answer would be, with what they took from it.
pub struct TestLead {
    pub payload: Map<String, Value>,
    pub result: AttemptResult,
    pub outcome: &'static str,
    pub reply: Reply,
}

/// Sends the test lead (the partner's required fields filled with "test").
pub async fn send_test_lead(sender: &Sender, partner: &Partner, now: EpochMillis) -> TestLead {
    let mut custom = Map::new();
    for field in &partner.spec.required_fields {
        custom.insert(field.clone(), json!("test"));
    }
    let facts = LeadFacts {
        lead_type: LeadType::Premium,
        first_name: Some("Test"),
        last_name: Some("Lead"),
        email: Some("test.lead@example.com"),
        phone: Some("+4915112345678"),
        phone_valid: true,
        country: &partner.spec.country,
        niche: &partner.spec.niche,
        source_label: Some("leadrouter_test"),
        source_id: None,
        custom_fields: &custom,
    };
    let msg_id = format!("test-{now}");
    let body = payload(&msg_id, &facts, now, &partner.spec);
    let result = sender
        .send(&partner.spec, &partner.signing_secrets(now), &msg_id, &body)
        .await;
    let (attempted, reply) = judge(
        result.attempted,
        partner.spec.response.as_ref(),
        result.body.as_deref(),
    );
    let outcome = match attempted {
        Attempted::Blocked => "blocked",
        Attempted::Unsendable => "rejected",
        Attempted::Answer(answer) => match classify(answer) {
            Verdict::Delivered => "delivered",
            Verdict::Retry => "would retry",
            Verdict::Rejected | Verdict::RejectedAndPause => "rejected",
            Verdict::Duplicate => "duplicate",
        },
    };
    tracing::info!(partner_id = partner.id, outcome, "test lead sent");
    TestLead {
        payload: body,
        result,
        outcome,
        reply,
    }
}
