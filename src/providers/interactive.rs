//! Interactive messages: reply buttons, lists, CTA URL buttons and Flows, with Meta's limits
//! (reference §1: ≤3 buttons, titles ≤20, ≤10 rows, body ≤1024 or ≤4096 for lists, footer ≤60).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use super::message::{Header, Interactive, check_link};

/// What the user can do with an interactive message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    Buttons(ReplyButtons),
    List(ListAction),
    CtaUrl(CtaUrl),
    Flow(FlowAction),
}

/// Up to three quick-reply buttons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct ReplyButtons {
    #[validate(length(min = 1, max = 3), nested)]
    #[schema(min_items = 1, max_items = 3)]
    pub buttons: Vec<ReplyButton>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct ReplyButton {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub id: String,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub title: String,
}

/// A menu button opening up to ten rows in up to ten sections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[validate(schema(function = "check_row_count"))]
pub struct ListAction {
    /// The menu button's label.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub button: String,
    #[validate(length(min = 1, max = 10), nested)]
    #[schema(min_items = 1, max_items = 10)]
    pub sections: Vec<ListSection>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct ListSection {
    #[validate(length(min = 1, max = 24))]
    #[schema(min_length = 1, max_length = 24)]
    pub title: String,
    #[validate(length(min = 1, max = 10), nested)]
    #[schema(min_items = 1, max_items = 10)]
    pub rows: Vec<ListRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct ListRow {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub id: String,
    #[validate(length(min = 1, max = 24))]
    #[schema(min_length = 1, max_length = 24)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 72))]
    #[schema(min_length = 1, max_length = 72)]
    pub description: Option<String>,
}

/// At most ten rows across all sections.
fn check_row_count(list: &ListAction) -> Result<(), ValidationError> {
    let rows: usize = list.sections.iter().map(|s| s.rows.len()).sum();
    if rows > 10 { Err(ValidationError::new("too_many_rows")) } else { Ok(()) }
}

/// One button opening a URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct CtaUrl {
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub display_text: String,
    #[validate(custom(function = "check_link"))]
    pub url: String,
}

/// A button opening a published Flow (or a draft one with `draft`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct FlowAction {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub flow_id: String,
    /// The button label.
    #[validate(length(min = 1, max = 30))]
    #[schema(min_length = 1, max_length = 30)]
    pub flow_cta: String,
    /// An opaque token the Flow's completion carries back.
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub flow_token: String,
    /// The first screen; without it the Flow starts with a data exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    /// Send the draft version, for testing.
    #[serde(default)]
    pub draft: bool,
}

impl Validate for Interactive {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let list = matches!(self.action, Action::List(_));
        let body_max = if list { 4096 } else { 1024 };
        if !(1..=body_max).contains(&self.body.chars().count()) {
            errors.add("body", ValidationError::new("length"));
        }
        if self.footer.as_ref().is_some_and(|f| f.is_empty() || f.chars().count() > 60) {
            errors.add("footer", ValidationError::new("length"));
        }
        if let Some(header) = &self.header {
            let header_ok = match header {
                Header::Text { text } => !text.is_empty() && text.chars().count() <= 60,
                Header::Image { link } | Header::Video { link } | Header::Document { link, .. } => {
                    !list && check_link(link).is_ok()
                }
            };
            if !header_ok {
                errors.add("header", ValidationError::new(if list { "text_header_only" } else { "invalid" }));
            }
        }
        let action = match &self.action {
            Action::Buttons(a) => a.validate(),
            Action::List(a) => a.validate(),
            Action::CtaUrl(a) => a.validate(),
            Action::Flow(a) => a.validate(),
        };
        errors.merge_self("action", action);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}
