//! API tests over real HTTP, one binary. Run against PostgreSQL with `TEST_DATABASE_URL`.

mod helpers;

mod admin;
mod api_keys;
mod auth;
mod basics;
mod cli;
mod schema;
mod users;
