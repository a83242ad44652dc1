//! Checks the media a message links to before it is queued: the URL must point at a public
//! address (no private, loopback or link-local targets), and a HEAD request must show a type and
//! size the provider accepts (reference §9).

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::FieldErrors;
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

/// Whether an address is one we refuse to fetch: private, loopback, link-local, shared, unspecified.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// Why a URL's host may not be fetched.
#[derive(Debug, PartialEq, Eq)]
pub enum HostError {
    /// No host, or it does not resolve.
    Unresolvable,
    /// It resolves to an internal address (and those are not allowed).
    Internal,
}

/// Resolves the URL's host and refuses internal addresses unless `allow_private`.
pub async fn check_host(url: &reqwest::Url, allow_private: bool) -> Result<(), HostError> {
    let host = url.host_str().ok_or(HostError::Unresolvable)?.trim_matches(['[', ']']).to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| HostError::Unresolvable)?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(HostError::Unresolvable);
    }
    if !allow_private && addrs.iter().any(|ip| is_internal(*ip)) {
        return Err(HostError::Internal);
    }
    Ok(())
}

/// Checks one link; the error is the field code to report.
pub async fn check(kind: MediaKind, link: &str, allow_private: bool) -> Result<(), &'static str> {
    let url = reqwest::Url::parse(link).map_err(|_| "invalid_url")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("invalid_url");
    }
    check_host(&url, allow_private).await.map_err(|e| match e {
        HostError::Unresolvable => "media_unreachable",
        HostError::Internal => "media_url_not_allowed",
    })?;
    let res = client().head(url).send().await.map_err(|_| "media_unreachable")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
