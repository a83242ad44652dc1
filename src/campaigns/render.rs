//! Rendering one recipient's message: the template with its body parameters, header media and CTA
//! buttons, exactly as the outbox will send it.

use super::audience::Candidate;
use super::definition::{CtaKind, Definition, HeaderMediaKind, LeadField, Variable};
use crate::domain::cta::{CtaAction, CtaSigner};
use crate::providers::MessageBody;
use crate::providers::message::{
    ButtonSubType, Header, TemplateBody, TemplateButton, TemplateComponents, TemplateParam,
};

/// What every message of a campaign shares.
pub struct Context<'a> {
    pub definition: &'a Definition,
    pub template_name: &'a str,
    pub language: &'a str,
    pub cta: &'a CtaSigner,
    /// The public base URL tracking links start with.
    pub base_url: &'a str,
    /// Unix seconds the CTA tokens are issued at.
    pub now: i64,
}

fn or_default(value: Option<&str>, default: &Option<String>, fallback: &str) -> String {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => default.clone().unwrap_or_else(|| fallback.to_string()),
    }
}

/// The text of one variable for one candidate (never empty: providers refuse empty parameters).
pub fn variable(ctx: &Context, v: &Variable, c: &Candidate) -> String {
    let text = match v {
        Variable::LeadName { default } => or_default(c.lead_name.as_deref(), default, "Customer"),
        Variable::ProjectName { default } => or_default(c.project_name.as_deref(), default, "-"),
        Variable::DeepLink { default } => or_default(c.deep_link.as_deref(), default, "-"),
        Variable::CallStatus { default } => {
            let s = c.call_status.map(|s| if s == "answered" { "Answered" } else { "Missed Call" });
            or_default(s, default, "-")
        }
        Variable::LeadField { field, default } => {
            let value = match field {
                LeadField::Name => c.lead_name.as_deref(),
                LeadField::Phone => Some(c.phone.as_str()),
                LeadField::Status => c.lead_status.as_deref(),
                LeadField::Stage => c.lead_stage.as_deref(),
                LeadField::Source => c.lead_source.as_deref(),
            };
            or_default(value, default, "-")
        }
        Variable::Text { value } => value.clone(),
        Variable::CtaLink { action } => ctx.cta.link(ctx.base_url, c.lead_id.unwrap_or(0), *action, ctx.now),
    };
    text.chars().take(1024).collect()
}

/// The part of a tracking link after `{base}/t/`: a URL button's variable.
fn link_suffix(ctx: &Context, lead: i64, action: CtaAction) -> String {
    let link = ctx.cta.link(ctx.base_url, lead, action, ctx.now);
    let prefix = format!("{}/t/", ctx.base_url.trim_end_matches('/'));
    link.strip_prefix(&prefix).map(str::to_string).unwrap_or(link)
}

/// The message for one candidate.
pub fn message(ctx: &Context, c: &Candidate) -> MessageBody {
    let d = ctx.definition;
    let header = d.header_media.as_ref().map(|h| match h.kind {
        HeaderMediaKind::Image => Header::Image { link: h.url.clone() },
        HeaderMediaKind::Video => Header::Video { link: h.url.clone() },
        HeaderMediaKind::Document => Header::Document { link: h.url.clone(), filename: None },
    });
    let body = d.variables.iter().map(|v| TemplateParam { text: variable(ctx, v, c), parameter_name: None }).collect();
    let buttons = match &d.cta {
        None => vec![],
        Some(b) => {
            let lead = c.lead_id.unwrap_or(0);
            [(b.interested_index, CtaAction::Interested), (b.not_interested_index, CtaAction::NotInterested)]
                .into_iter()
                .map(|(index, action)| match b.kind {
                    CtaKind::Url => {
                        TemplateButton { index, sub_type: ButtonSubType::Url, value: link_suffix(ctx, lead, action) }
                    }
                    CtaKind::QuickReply => TemplateButton {
                        index,
                        sub_type: ButtonSubType::QuickReply,
                        value: format!("cta:{}", action.as_str()),
                    },
                })
                .collect()
        }
    };
    MessageBody::Template(TemplateBody {
        name: ctx.template_name.to_string(),
        language: ctx.language.to_string(),
        components: TemplateComponents { header, body, buttons },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::definition::{Audience, AudienceSource, CtaButtons, default_variables};

    fn definition(cta: Option<CtaButtons>, variables: Vec<Variable>) -> Definition {
        Definition {
            header_media: None,
            variables,
            cta,
            audience: Audience {
                source: AudienceSource::IvrCalls,
                projects: vec![],
                from_date: "2026-01-01".parse().unwrap(),
                to_date: "2026-01-02".parse().unwrap(),
                call_status: None,
                lead_statuses: vec![],
                limit: None,
                test_numbers: vec![],
            },
        }
    }

    fn render(d: &Definition, c: &Candidate) -> serde_json::Value {
        let signer = CtaSigner::new("a-test-secret-that-is-long-enough-000", 3600);
        let ctx = Context {
            definition: d,
            template_name: "promo",
            language: "en",
            cta: &signer,
            base_url: "https://hub.example.com",
            now: 1_000_000,
        };
        serde_json::to_value(message(&ctx, c)).unwrap()
    }

    #[test]
    fn default_variables_fall_back_to_customer_and_dashes() {
        let d = definition(None, default_variables());
        let c = Candidate { phone: "+919876543210".into(), lead_id: Some(5), ..Default::default() };
        let m = render(&d, &c);
        let texts: Vec<&str> =
            m["components"]["body"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["Customer", "-", "-"]);
        let c = Candidate {
            lead_name: Some("Asha".into()),
            project_name: Some("Palm Grove".into()),
            deep_link: Some("https://x.example/p".into()),
            call_status: Some("missed"),
            ..c
        };
        let d = definition(None, vec![Variable::LeadName { default: None }, Variable::CallStatus { default: None }]);
        let m = render(&d, &c);
        assert_eq!(m["components"]["body"][0]["text"], "Asha");
        assert_eq!(m["components"]["body"][1]["text"], "Missed Call");
    }

    #[test]
    fn cta_buttons_carry_token_suffixes_or_quick_reply_payloads() {
        let c = Candidate { phone: "+919876543210".into(), lead_id: Some(7), ..Default::default() };
        let url = CtaButtons { kind: CtaKind::Url, interested_index: 0, not_interested_index: 1 };
        let m = render(&definition(Some(url), vec![]), &c);
        let v = m["components"]["buttons"][1]["value"].as_str().unwrap();
        assert!(v.starts_with("7?token=7.1000000.") && v.ends_with("&action=not_interested"), "{v}");
        let qr = CtaButtons { kind: CtaKind::QuickReply, interested_index: 2, not_interested_index: 3 };
        let m = render(&definition(Some(qr), vec![]), &c);
        assert_eq!(m["components"]["buttons"][0]["value"], "cta:interested");
        assert_eq!(m["components"]["buttons"][0]["index"], 2);
    }
}
