//! Integration tests: the real server and the real binary, over HTTP, on SQLite and on
//! PostgreSQL. One test binary (faster to link than one per file).

#[macro_use]
mod support;

mod admin_auth;
mod admin_partners;
mod admin_sources;
mod analytics;
mod analytics_rollup;
mod audit;
mod backup;
mod browser;
mod browser_portal;
mod browser_privacy;
mod browser_replies;
mod browser_rules;
mod browser_supplier;
mod browser_walk;
mod cli;
mod console;
mod console_pages;
mod delivery;
mod durability;
mod erasure_leftovers;
mod facebook;
mod hardening;
mod health;
mod idor;
mod import;
mod inbound;
mod lead_search;
mod logs;
mod mail;
mod metrics;
mod operator_actions;
mod operator_day;
mod overview;
mod partner_api;
mod partner_caps;
mod partner_concurrency;
mod partner_rules;
mod pause;
mod portal;
mod portal_secret;
mod privacy;
mod replies;
mod retention;
mod returns;
mod roles;
mod routing;
mod secrets_at_rest;
mod security;
mod simulator;
mod slow_clients;
mod supplier_portal;
mod suppliers;
