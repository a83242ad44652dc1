//! Queries, one module per resource. Every tenant-scoped query takes a `TenantId`.

pub mod accounts;
pub mod api_keys;
pub mod phone_numbers;
pub mod sessions;
pub mod tenants;
pub mod users;
