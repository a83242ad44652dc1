//! `POST /templates/generate`: the template draft for a project update with CTA answers, from a
//! few fields, linted for the chosen provider. The result can be POSTed as it is to
//! `/accounts/{id}/templates`.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::AuthContext;
use crate::domain::account::ProviderKind;
use crate::domain::cta::CtaAction;
use crate::domain::template::{Category, ParameterFormat, TemplateDraft, lint, placeholders};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::state::AppState;

/// How the contact answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerButtons {
    /// Two quick-reply buttons, `Interested` and `Not interested`; each send sets their payloads to
    /// `cta:interested` / `cta:not_interested` (optionally `:<campaign_id>`). Works on every provider.
    #[default]
    QuickReplies,
    /// Two URL buttons to `{public_base_url}/t/{{1}}`; each send fills the variable with
    /// `<lead_id>?token=…&action=…`. Not on Tata (no button variables).
    UrlButtons,
    /// Two tracked links in the body, as its last two variables; each send fills them with the full
    /// links. Works on every provider.
    TextLinks,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateTemplateRequest {
    #[schema(example = "green_acres_update")]
    pub name: String,
    #[schema(example = "en")]
    pub language: String,
    /// Default `MARKETING`.
    pub category: Option<Category>,
    /// The message, with positional variables `{{1}}`, `{{2}}`….
    #[schema(example = "Hi {{1}}, possession of Green Acres starts this month. Would you like a site visit?")]
    pub body: String,
    /// One example value per body variable.
    #[serde(default)]
    pub body_examples: Vec<String>,
    #[schema(example = "Reply STOP to opt out")]
    pub footer: Option<String>,
    #[serde(default)]
    pub buttons: AnswerButtons,
    /// The provider the template is for (its rules differ); default `meta`.
    pub provider: Option<ProviderKind>,
}

/// The template components for a request.
fn components(req: &GenerateTemplateRequest, base: &str) -> Vec<Value> {
    let base = base.trim_end_matches('/');
    let mut body = req.body.trim().to_string();
    let mut examples = req.body_examples.clone();
    let example_link = |a: CtaAction| format!("{base}/t/1234?token=1234.1700000000.3f9a&action={}", a.as_str());
    if req.buttons == AnswerButtons::TextLinks {
        let mut numbers: Vec<usize> = placeholders(&body).iter().filter_map(|p| p.parse().ok()).collect();
        numbers.push(0);
        let next = numbers.into_iter().max().unwrap_or(0) + 1;
        body.push_str(&format!(
            "\n\nInterested: {{{{{next}}}}}\nNot interested: {{{{{}}}}}\nTap a link to tell us.",
            next + 1
        ));
        examples.extend([CtaAction::Interested, CtaAction::NotInterested].map(example_link));
    }
    let mut body_component = json!({"type": "BODY", "text": body});
    if !examples.is_empty() {
        body_component["example"] = json!({"body_text": [examples]});
    }
    let mut out = vec![body_component];
    if let Some(footer) = &req.footer {
        out.push(json!({"type": "FOOTER", "text": footer}));
    }
    let actions = [CtaAction::Interested, CtaAction::NotInterested];
    match req.buttons {
        AnswerButtons::QuickReplies => out.push(
            json!({"type": "BUTTONS", "buttons": actions.map(|a| json!({"type": "QUICK_REPLY", "text": a.label()}))}),
        ),
        AnswerButtons::UrlButtons => out.push(json!({"type": "BUTTONS", "buttons": actions.map(|a| json!({
            "type": "URL", "text": a.label(), "url": format!("{base}/t/{{{{1}}}}"), "example": [example_link(a)],
        }))})),
        AnswerButtons::TextLinks => {}
    }
    out
}

/// Builds a project-update template with CTA answers (quick replies, URL buttons or text links)
/// from a few fields, linted for the provider: 200 with a draft ready for
/// `POST /accounts/{id}/templates`, or 422 with the linter's codes.
#[utoipa::path(tag = "templates", security(("bearer" = [])), request_body = GenerateTemplateRequest, responses(
    (status = 200, body = TemplateDraft),
    (status = 422, description = "the template breaks the provider's rules; `errors` holds the linter's codes", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/templates/generate")]
pub async fn generate_template(
    state: web::Data<AppState>,
    _auth: AuthContext,
    body: ValidatedJson<GenerateTemplateRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let draft = TemplateDraft {
        name: req.name.clone(),
        language: req.language.clone(),
        category: req.category.unwrap_or(Category::Marketing),
        parameter_format: ParameterFormat::Positional,
        components: components(&req, &state.settings.public_base_url),
    };
    let errors = lint(&draft, req.provider.unwrap_or(ProviderKind::Meta));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(HttpResponse::Ok().json(draft))
}
