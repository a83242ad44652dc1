//! The OpenAPI 3.1 document: collected from the handlers, plus security and shared error responses
//! ([`responses`]).

pub mod responses;

use actix_web::App;
use actix_web::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::{Modify, OpenApi as _};
use utoipa_actix_web::AppExt;

use crate::error::Problem;
pub use responses::ProviderProblems;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "wabahub API",
        description = "Multi-tenant management of WhatsApp Business Accounts. Errors are \
                       `application/problem+json` with a stable `code`. Lists are cursor-paginated.",
        license(name = "MIT")
    ),
    components(schemas(Problem)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Signup, login and tokens"),
        (name = "users", description = "Users of a tenant"),
        (name = "api-keys", description = "API keys for integrators"),
        (name = "accounts", description = "WABA accounts and the 6-step setup"),
        (name = "phone-numbers", description = "Phone numbers of accounts"),
        (name = "templates", description = "Message templates: drafts, linting, approval, sync"),
        (name = "flows", description = "WhatsApp Flows"),
        (name = "messages", description = "Sending through the outbox, and message history"),
        (name = "conversations", description = "Contacts and the messages exchanged with them"),
        (name = "campaigns", description = "Template campaigns to IVR callers and leads: preview, start, pause, results"),
        (name = "leads", description = "Leads with notes, statuses and stages; CSV import"),
        (name = "opt-outs", description = "The tenant's do-not-contact list"),
        (name = "tracking", description = "CTA click tracking links (public, no auth)"),
        (name = "projects", description = "Projects: brochure, deep links and the IVR numbers that belong to them"),
        (name = "ivr-calls", description = "IVR call logs in, linked to leads and projects"),
        (name = "analytics", description = "Dashboards from the daily rollups"),
        (name = "webhook-endpoints", description = "Signed event delivery to tenants' URLs, with retries, a log and replay"),
        (name = "webhooks", description = "Provider webhooks in, and the stored events"),
        (name = "admin", description = "Platform administration"),
        (name = "system", description = "Health and metrics"),
    )
)]
struct Base;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A user's JWT access token or an API key (`whk_…`)."))
                    .build(),
            ),
        );
        // Bearer auth unless an operation says otherwise; the public ones say `security: []`.
        api.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// Adds the error responses every operation can give, when the handler did not name them itself.
fn add_standard_errors(op: &mut Operation, path: &str) {
    let mut add = |code: &str| {
        if let Some(r) = responses::standard(code) {
            op.responses.responses.entry(code.to_string()).or_insert(r);
        }
    };
    if op.request_body.is_some() {
        add("400");
        add("413");
        add("415");
    }
    let has_query =
        op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    if op.request_body.is_some() || has_query {
        add("422");
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add("401");
        add("403");
    }
    if path.contains('{') {
        add("404");
    }
    if path.starts_with("/api/") {
        add("500");
    }
}

/// Gives every response without one the standard reason phrase of its status as description.
fn describe_responses(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.is_empty()
        {
            let reason =
                status.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()).and_then(|s| s.canonical_reason());
            r.description = reason.unwrap_or("Success").to_string();
        }
    }
}

/// Builds the full document from the registered routes.
pub fn spec() -> OpenApi {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(Base::openapi()).configure(crate::routes::configure).split_for_parts();
    for (path, item) in api.paths.paths.iter_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            add_standard_errors(op, path);
            describe_responses(op);
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    for (_, name, description) in responses::STANDARD {
        components.responses.insert(name.to_string(), RefOr::T(responses::problem(description)));
    }
    api
}

/// The document as pretty JSON (what `openapi/openapi.json` holds).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().expect("the OpenAPI document serializes");
    s.push('\n');
    s
}
