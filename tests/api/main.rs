//! API tests over real HTTP, one binary. Run against PostgreSQL with `TEST_DATABASE_URL`.

mod helpers;

mod accounts;
mod admin;
mod admission;
mod analytics;
mod api_keys;
mod auth;
mod basics;
mod campaigns;
mod cli;
mod crash;
mod cta;
mod inbox;
mod input;
mod isolation;
mod ivr_calls;
mod leads;
mod message_status;
mod messages;
mod opt_outs;
mod outbound;
mod phone_numbers;
mod projects;
mod provider_ops;
mod relay;
mod schema;
mod setup;
mod spec;
mod templates;
mod users;
mod webhooks;
