//! wabahub: a multi-tenant REST API for WhatsApp Business Accounts.

pub mod auth;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod connect;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod pagination;
pub mod providers;
pub mod relay;
pub mod remote;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhooks;
