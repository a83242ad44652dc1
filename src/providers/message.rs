//! The provider-neutral outbound message the API accepts and every provider sends, validated
//! against Meta's documented limits (reference §1). The Meta wire form is `OutboundMessage::to_meta_json`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::domain::PhoneNumber;

/// One message to one recipient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct OutboundMessage {
    #[schema(value_type = String, example = "+919876543210")]
    pub to: PhoneNumber,
    /// Echoed back in status webhooks; the outbox puts our message id here.
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// The provider message id (`wamid…`) this message replies to.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[validate(nested)]
    pub body: MessageBody,
}

/// What is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Text(TextBody),
    Template(TemplateBody),
    Interactive(Interactive),
    Media(MediaBody),
}

impl Validate for MessageBody {
    fn validate(&self) -> Result<(), ValidationErrors> {
        match self {
            MessageBody::Text(t) => t.validate(),
            MessageBody::Template(t) => t.validate(),
            MessageBody::Interactive(i) => i.validate(),
            MessageBody::Media(m) => m.validate(),
        }
    }
}

/// A plain text message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct TextBody {
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub body: String,
    /// Render a preview of the first URL in the body.
    #[serde(default)]
    pub preview_url: bool,
}

/// An approved template with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct TemplateBody {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub name: String,
    /// Locale code, e.g. `en_US`.
    #[validate(length(min = 2, max = 15))]
    #[schema(min_length = 2, max_length = 15)]
    pub language: String,
    #[serde(default)]
    #[validate(nested)]
    pub components: TemplateComponents,
}

/// The parameters filling a template's header, body and buttons.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct TemplateComponents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "check_header"))]
    pub header: Option<Header>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(nested)]
    pub body: Vec<TemplateParam>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(length(max = 10), nested)]
    #[schema(max_items = 10)]
    pub buttons: Vec<TemplateButton>,
}

/// A text value for a `{{n}}` (or `{{name}}` when `parameter_name` is set) placeholder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct TemplateParam {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub parameter_name: Option<String>,
}

/// The value for the template button at `index`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
pub struct TemplateButton {
    #[validate(range(max = 9))]
    #[schema(maximum = 9)]
    pub index: u8,
    pub sub_type: ButtonSubType,
    /// The payload (quick reply), URL suffix (url), coupon code (copy_code) or flow token (flow).
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub value: String,
}

/// The kind of a template button parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ButtonSubType {
    QuickReply,
    Url,
    CopyCode,
    Flow,
}

impl ButtonSubType {
    /// Whether the value fills a variable of the template (a URL suffix or a coupon code).
    pub fn is_variable(self) -> bool {
        matches!(self, ButtonSubType::Url | ButtonSubType::CopyCode)
    }
}

/// A header: text, or media by HTTPS link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Header {
    Text { text: String },
    Image { link: String },
    Video { link: String },
    Document { link: String, filename: Option<String> },
}

/// Header text is 1–60 characters; media links are http(s) URLs.
fn check_header(header: &Header) -> Result<(), ValidationError> {
    match header {
        Header::Text { text } if text.is_empty() || text.chars().count() > 60 => Err(ValidationError::new("length")),
        Header::Image { link } | Header::Video { link } | Header::Document { link, .. } => check_link(link),
        Header::Text { .. } => Ok(()),
    }
}

/// An absolute http(s) URL.
pub fn check_link(link: &str) -> Result<(), ValidationError> {
    let ok =
        (link.starts_with("https://") || link.starts_with("http://")) && validator::ValidateUrl::validate_url(&link);
    if ok { Ok(()) } else { Err(ValidationError::new("url")) }
}

/// An image, video, audio, document or sticker by link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[validate(schema(function = "check_media"))]
pub struct MediaBody {
    pub kind: MediaKind,
    #[validate(custom(function = "check_link"))]
    pub link: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(length(min = 1, max = 240))]
    #[schema(min_length = 1, max_length = 240)]
    pub filename: Option<String>,
}

/// The kind of media, which is also Meta's message `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// Audio and stickers take no caption; only documents take a filename.
fn check_media(m: &MediaBody) -> Result<(), ValidationError> {
    if m.caption.is_some() && matches!(m.kind, MediaKind::Audio | MediaKind::Sticker) {
        return Err(ValidationError::new("caption_not_allowed"));
    }
    if m.filename.is_some() && m.kind != MediaKind::Document {
        return Err(ValidationError::new("filename_not_allowed"));
    }
    Ok(())
}

/// An interactive message; its limits depend on the action (see [`super::interactive`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interactive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Header>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    pub action: super::interactive::Action,
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
