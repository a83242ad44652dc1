//! wabahub: a multi-tenant REST API for WhatsApp Business Accounts.

pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod providers;
pub mod routes;
pub mod state;
pub mod startup;
pub mod store;
pub mod telemetry;
