//! Request extractors and error hooks that turn every bad input into a problem response.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldErrors};

/// A JSON body that is parsed with field paths in its errors and then validated.
/// Malformed JSON → 400 `malformed_json`; wrong types, unknown enum values, missing fields or
/// failed rules → 422 `validation_failed` with per-field codes; too large → 413.
pub struct ValidatedJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let bytes = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
                } else {
                    ApiError::bad_request("invalid_body", "the request body could not be read")
                }
            })?;
            json_body(&req, &body).map(ValidatedJson)
        })
    }
}

/// Checks the content type, parses and validates a JSON body already read as bytes
/// (for handlers whose body type depends on the path).
pub fn json_body<T: DeserializeOwned + Validate>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ));
    }
    let value: T = parse_json(body)?;
    value.validate()?;
    Ok(value)
}

/// Deserializes JSON, reporting the failing field's path and a machine code. A string (value or
/// object key, at any depth) holding U+0000 is refused with `nul_character` on its path: no text
/// column can store it (PostgreSQL refuses it), so it is refused on every backend alike.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if let Some(path) = nul_path(body) {
        return Err(ApiError::field(&path, NUL_CODE));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let msg = inner.to_string();
                let code = data_error_code(&msg);
                let field = match (path.as_str(), msg.strip_prefix("missing field `")) {
                    (".", Some(rest)) => rest.split('`').next().unwrap_or("body").to_string(),
                    (".", None) => "body".to_string(),
                    (p, Some(rest)) => {
                        format!("{p}.{}", rest.split('`').next().unwrap_or_default())
                    }
                    (p, None) => p.to_string(),
                };
                ApiError::validation(FieldErrors::from([(field, vec![code])]))
            }
            _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}")),
        }
    })
}

/// The field code of a text input holding U+0000.
pub const NUL_CODE: &str = "nul_character";

/// Whether JSON text spells U+0000 (`\u0000`, the only way JSON can): a cheap scan that spares
/// every other body a second parse.
pub fn spells_nul(json: &[u8]) -> bool {
    json.windows(6).any(|w| w == b"\\u0000")
}

/// The JSON path (`a.b[2].c`, `body` for the top level) of the first string holding U+0000; for
/// an object key holding it, the path of that object.
fn nul_path(body: &[u8]) -> Option<String> {
    if !spells_nul(body) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    find_nul(&value, "")
}

fn find_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = || if path.is_empty() { "body".to_string() } else { path.to_string() };
    match value {
        Value::String(s) => s.contains('\0').then(here),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find_nul(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(here());
            }
            find_nul(v, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") })
        }),
        _ => None,
    }
}

/// Maps serde's data-error text to a stable code; custom errors from domain types are codes already.
fn data_error_code(msg: &str) -> String {
    if msg.starts_with("missing field") {
        "required".into()
    } else if msg.starts_with("unknown variant") {
        "invalid_choice".into()
    } else if msg.starts_with("unknown field") {
        "unknown_field".into()
    } else if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        "invalid_type".into()
    } else if msg.starts_with("invalid length") {
        "invalid_length".into()
    } else {
        let word = msg.split(" at line").next().unwrap_or(msg);
        if word.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()) {
            word.to_string()
        } else {
            "invalid".into()
        }
    }
}

/// Path segments that do not parse (e.g. a non-numeric id) are 404s: no such resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::not_found("resource").into())
}

/// Bad query parameters are 422s naming the parameter.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let msg = err.to_string();
        let field = msg.split('`').nth(1).unwrap_or("query").to_string();
        ApiError::validation(FieldErrors::from([(field, vec!["invalid".to_string()])])).into()
    })
}

/// Refuses a request whose URI spells U+0000 (`%00`) before any route reads it: in the path it
/// names no resource (404); in the query it is a 422 `nul_character` on the parameter (`query`
/// when the name itself holds it). Covers every path segment and query extractor at once.
pub async fn refuse_nul<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let refused = if req.path().contains("%00") {
        Some(ApiError::not_found("resource"))
    } else if req.query_string().contains("%00") {
        Some(ApiError::field(&nul_parameter(req.query_string()), NUL_CODE))
    } else {
        None
    };
    match refused {
        Some(err) => Ok(req.error_response(err).map_into_right_body()),
        None => next.call(req).await.map(ServiceResponse::map_into_left_body),
    }
}

/// The name of the first query parameter whose value holds U+0000 (`query` when a name holds it).
fn nul_parameter(query: &str) -> String {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map(web::Query::into_inner).unwrap_or_default();
    pairs
        .into_iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k)
        .filter(|k| !k.contains('\0'))
        .unwrap_or_else(|| "query".into())
}

/// The answer for unknown routes.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found("route").error_response()
}

/// Rewrites any error response that is not already a problem document (from actix itself or a
/// library) into one, so clients only ever see `application/problem+json` errors.
pub fn problemize<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problem documents pass through, and so do the HTML pages of the public tracking links.
    let keep = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
    });
    if keep {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    let detail = status.canonical_reason().unwrap_or("error").to_lowercase();
    let (req, _) = res.into_parts();
    let body: HttpResponse<BoxBody> = ApiError::new(status, code, detail).error_response();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, body).map_into_right_body()))
}

/// For PATCH fields where `null` clears a value: a missing field is `None` (with `#[serde(default)]`),
/// `null` is `Some(None)`, a value is `Some(Some(v))`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_with_its_path_and_only_where_it_is() {
        assert_eq!(nul_path(br#"{"a": [1, {"b": "x\u0000"}]}"#).as_deref(), Some("a[1].b"));
        assert_eq!(nul_path(br#"{"a": {"k\u0000": 1}}"#).as_deref(), Some("a"));
        assert_eq!(nul_path(br#"{"k\u0000": 1}"#).as_deref(), Some("body"));
        assert_eq!(nul_path(br#"{"a": "a backslash then \\u0000"}"#), None);
        assert_eq!(nul_path(br#"{"a": "\u0001"}"#), None);
    }

    #[test]
    fn a_query_names_the_parameter_holding_nul() {
        assert_eq!(nul_parameter("limit=5&q=a%00b"), "q");
        assert_eq!(nul_parameter("q%00=1"), "query");
    }
}
