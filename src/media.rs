//! Checks the media a message links to before it is queued: the URL must point at a public
//! address (the guard of [`crate::outbound`]), and a HEAD request must show a type and size the
//! provider accepts (reference §9).

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::Method;

use crate::error::FieldErrors;
use crate::outbound::{Client, SendError, http_url};
use crate::providers::MessageBody;
use crate::providers::message::{Header, MediaKind};

/// Allowed content types and the size limit of each kind of media.
fn rules(kind: MediaKind) -> (&'static [&'static str], u64) {
    const MB: u64 = 1024 * 1024;
    match kind {
        MediaKind::Image => (&["image/jpeg", "image/png"], 5 * MB),
        MediaKind::Video => (&["video/mp4", "video/3gpp"], 16 * MB),
        MediaKind::Audio => (&["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"], 16 * MB),
        MediaKind::Sticker => (&["image/webp"], 500 * 1024),
        MediaKind::Document => (
            &[
                "application/pdf",
                "text/plain",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ],
            100 * MB,
        ),
    }
}

/// The media links of a message, with the field each came from.
pub fn links(m: &MessageBody) -> Vec<(MediaKind, String, &'static str)> {
    match m {
        MessageBody::Media(b) => vec![(b.kind, b.link.clone(), "message.link")],
        MessageBody::Template(t) => match &t.components.header {
            Some(Header::Image { link }) => vec![(MediaKind::Image, link.clone(), "message.components.header.link")],
            Some(Header::Video { link }) => vec![(MediaKind::Video, link.clone(), "message.components.header.link")],
            Some(Header::Document { link, .. }) => {
                vec![(MediaKind::Document, link.clone(), "message.components.header.link")]
            }
            _ => vec![],
        },
        _ => vec![],
    }
}

/// The HEAD client: guarded (see [`crate::outbound`]), 5 s per request.
fn client(allow_private: bool) -> &'static Client {
    static CLIENTS: OnceLock<[Client; 2]> = OnceLock::new();
    &CLIENTS.get_or_init(|| [false, true].map(|p| Client::new(Duration::from_secs(5), p)))[usize::from(allow_private)]
}

/// Checks one link; the error is the field code to report.
pub async fn check(kind: MediaKind, link: &str, allow_private: bool) -> Result<(), &'static str> {
    let url = http_url(link).ok_or("invalid_url")?;
    let res = client(allow_private).send(Method::HEAD, url.as_str(), |r| r).await.map_err(|e| match e {
        SendError::Blocked(_) => "media_url_not_allowed",
        SendError::Failed { .. } => "media_unreachable",
    })?;
    if !res.status().is_success() {
        return Err("media_unreachable");
    }
    let (types, max) = rules(kind);
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !types.contains(&content_type.as_str()) {
        return Err("ERR_MEDIA_UNSUPPORTED");
    }
    let length = res.headers().get(reqwest::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if length.is_some_and(|n| n > max) {
        return Err("media_too_large");
    }
    Ok(())
}

/// Checks every media link of a message; empty when all pass.
pub async fn check_message(m: &MessageBody, allow_private: bool) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (kind, link, field) in links(m) {
        if let Err(code) = check(kind, &link, allow_private).await {
            errors.entry(field.to_string()).or_default().push(code.to_string());
        }
    }
    errors
}
