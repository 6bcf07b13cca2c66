//! The running system's figures for Prometheus (`prometheus-client`: one registry per
//! engine, no global recorder, so two engines in one process count apart). Labels carry
//! outcomes, statuses, partner ids and route templates: never personal data.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Mutex;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Routed {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartnerOutcome {
    pub partner_id: i64,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartnerLabel {
    pub partner_id: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub status: String,
}

fn seconds_histogram() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every figure the engine and the HTTP layer keep.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub leads_received: Family<Outcome, Counter>,
    pub leads_routed: Family<Routed, Counter>,
    pub delivery_attempts: Family<PartnerOutcome, Counter>,
    pub delivery_duration: Family<PartnerLabel, Histogram, fn() -> Histogram>,
    pub lead_to_partner: Histogram,
    pub leads_waiting: Family<StatusLabel, Gauge>,
    pub http_requests: Family<HttpLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            leads_received: Family::default(),
            leads_routed: Family::default(),
            delivery_attempts: Family::default(),
            delivery_duration: Family::new_with_constructor(seconds_histogram),
            lead_to_partner: seconds_histogram(),
            leads_waiting: Family::default(),
            http_requests: Family::default(),
        };
        {
            let mut r = m.registry.lock().expect("registry");
            r.register(
                "leadrouter_leads_received",
                "Leads received, by outcome",
                m.leads_received.clone(),
            );
            r.register(
                "leadrouter_leads_routed",
                "Routing decisions, by result",
                m.leads_routed.clone(),
            );
            r.register(
                "leadrouter_delivery_attempts",
                "Delivery attempts, by partner and outcome",
                m.delivery_attempts.clone(),
            );
            r.register(
                "leadrouter_delivery_duration_seconds",
                "Time a partner took to answer a delivery",
                m.delivery_duration.clone(),
            );
            r.register(
                "leadrouter_lead_to_partner_seconds",
                "From a lead's arrival to its partner's 2xx",
                m.lead_to_partner.clone(),
            );
            r.register(
                "leadrouter_leads_waiting",
                "Leads waiting now, by status",
                m.leads_waiting.clone(),
            );
            r.register(
                "leadrouter_http_requests",
                "HTTP requests, by route template and status",
                m.http_requests.clone(),
            );
        }
        m
    }
}

impl Metrics {
    // Labels are static words and ids: counting a lead allocates nothing.
    pub fn received(&self, outcome: &'static str) {
        self.leads_received
            .get_or_create(&Outcome { outcome })
            .inc();
    }

    /// Leads routed to `to` (the label is the state's word).
    pub fn routed(&self, to: leadrouter_core::status::LeadStatus, n: u64) {
        self.leads_routed
            .get_or_create(&Routed {
                result: to.as_str(),
            })
            .inc_by(n);
    }

    pub fn attempt(&self, partner_id: i64, outcome: &'static str, seconds: f64) {
        self.delivery_attempts
            .get_or_create(&PartnerOutcome {
                partner_id,
                outcome,
            })
            .inc();
        self.delivery_duration
            .get_or_create(&PartnerLabel { partner_id })
            .observe(seconds);
    }

    pub fn waiting(&self, status: &'static str, n: i64) {
        self.leads_waiting
            .get_or_create(&StatusLabel { status })
            .set(n);
    }

    pub fn http(&self, route: &str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// The text exposition (OpenMetrics, which Prometheus reads).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().expect("registry");
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        out
    }
}
