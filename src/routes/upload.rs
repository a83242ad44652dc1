//! CSV uploads: the body as `text/csv`, or the `file` part of a `multipart/form-data` form, read
//! with its own size limit (uploads are larger than the JSON bodies the API takes).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult};

/// The largest CSV upload accepted (about 10,000 rows with notes).
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

fn too_large() -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the upload is larger than 4 MiB")
}

/// Reads the uploaded CSV text: 415 for another content type, 413 when too large, 422 (`file`)
/// when the form has no file part or the text is not UTF-8.
pub async fn csv_text(req: &HttpRequest, mut payload: web::Payload) -> ApiResult<String> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let boundary =
        match mime.as_str() {
            "text/csv" | "application/csv" | "text/plain" => None,
            "multipart/form-data" => Some(boundary(content_type).ok_or_else(|| {
                ApiError::bad_request("invalid_multipart", "the multipart content type has no boundary")
            })?),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the file as text/csv or as the `file` field of multipart/form-data",
                ));
            }
        };
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("invalid_body", "the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let bytes = match &boundary {
        None => &body[..],
        Some(b) => file_part(&body, b).ok_or_else(|| ApiError::field("file", "required"))?,
    };
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::field("file", "not_utf8"))
}

/// The `boundary` parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary").then(|| v.trim_matches('"').to_string()).filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// The content of the part named `file` (or else the first part with a filename).
fn file_part<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut at = find(body, delim.as_bytes(), 0)? + delim.len();
    while let Some(next) = find(body, delim.as_bytes(), at) {
        let part = &body[at..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        if let Some(split) = find(part, b"\r\n\r\n", 0) {
            let head = String::from_utf8_lossy(&part[..split]).to_ascii_lowercase();
            parts.push((head, &part[split + 4..]));
        }
        at = next + delim.len();
    }
    let named = parts.iter().find(|(h, _)| h.contains("name=\"file\""));
    named.or_else(|| parts.iter().find(|(h, _)| h.contains("filename="))).map(|(_, content)| *content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_part_of_a_form() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nname,phone\r\nA,+919876543210\r\n\r\n--xyz--\r\n";
        assert_eq!(boundary("multipart/form-data; boundary=\"xyz\"").as_deref(), Some("xyz"));
        assert_eq!(file_part(body, "xyz"), Some(&b"name,phone\r\nA,+919876543210\r\n"[..]));
        assert_eq!(file_part(b"--xyz\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--xyz--", "xyz"), None);
    }
}
