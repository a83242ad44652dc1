//! Validation of outbound messages against Meta's documented limits.

use serde_json::{Value, json};
use validator::Validate;

use super::OutboundMessage;

fn parse(body: Value) -> OutboundMessage {
    serde_json::from_value(json!({"to": "+919876543210", "body": body})).unwrap()
}

/// The dotted field paths that failed, as the API reports them.
fn failures(body: Value) -> String {
    match parse(body).validate() {
        Ok(()) => String::new(),
        Err(e) => format!("{e}"),
    }
}

fn buttons(n: usize, title: &str) -> Value {
    let list: Vec<Value> = (0..n).map(|i| json!({"id": format!("b{i}"), "title": title})).collect();
    json!({"type": "interactive", "body": "Pick", "action": {"type": "buttons", "buttons": list}})
}

fn list(rows_per_section: &[usize]) -> Value {
    let sections: Vec<Value> = rows_per_section
        .iter()
        .enumerate()
        .map(|(s, n)| {
            let rows: Vec<Value> = (0..*n).map(|r| json!({"id": format!("{s}-{r}"), "title": "Row"})).collect();
            json!({"title": format!("S{s}"), "rows": rows})
        })
        .collect();
    json!({"type": "interactive", "body": "Pick", "action": {"type": "list", "button": "Menu", "sections": sections}})
}

#[test]
fn text_is_limited_to_4096_characters() {
    assert_eq!(failures(json!({"type": "text", "body": "é".repeat(4096)})), "");
    assert!(failures(json!({"type": "text", "body": "a".repeat(4097)})).contains("body"));
    assert!(failures(json!({"type": "text", "body": ""})).contains("body"));
}

#[test]
fn at_most_three_reply_buttons_of_twenty_characters() {
    assert_eq!(failures(buttons(3, &"t".repeat(20))), "");
    assert!(failures(buttons(4, "ok")).contains("buttons"));
    assert!(failures(buttons(2, &"t".repeat(21))).contains("title"));
    assert!(failures(buttons(0, "ok")).contains("buttons"));
}

#[test]
fn lists_have_at_most_ten_rows_in_total() {
    assert_eq!(failures(list(&[5, 5])), "");
    assert!(failures(list(&[6, 5])).contains("too_many_rows"));
    assert!(failures(list(&[11])).contains("rows"));
}

#[test]
fn list_headers_are_text_only_and_footers_sixty_characters() {
    let mut body = list(&[1]);
    body["header"] = json!({"type": "image", "link": "https://cdn.example.com/a.jpg"});
    assert!(failures(body.clone()).contains("text_header_only"));
    body["header"] = json!({"type": "text", "text": "Menu"});
    body["footer"] = json!("f".repeat(61));
    assert!(failures(body).contains("footer"));
}

#[test]
fn button_bodies_are_limited_to_1024_but_list_bodies_to_4096() {
    let mut b = buttons(1, "ok");
    b["body"] = json!("a".repeat(1025));
    assert!(failures(b).contains("body"));
    let mut l = list(&[1]);
    l["body"] = json!("a".repeat(1025));
    assert_eq!(failures(l), "");
}

#[test]
fn media_captions_and_filenames() {
    let media = |kind: &str, extra: Value| {
        let mut m = json!({"type": "media", "kind": kind, "link": "https://cdn.example.com/f"});
        m.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        failures(m)
    };
    assert_eq!(media("image", json!({"caption": "c".repeat(1024)})), "");
    assert!(media("image", json!({"caption": "c".repeat(1025)})).contains("caption"));
    assert!(media("audio", json!({"caption": "hi"})).contains("caption_not_allowed"));
    assert!(media("image", json!({"filename": "a.jpg"})).contains("filename_not_allowed"));
    assert!(media("video", json!({"link": "ftp://cdn.example.com/v.mp4"})).contains("url"));
}

#[test]
fn cta_url_needs_a_short_label_and_a_web_url() {
    let cta = |text: &str, url: &str| {
        failures(
            json!({"type": "interactive", "body": "Go", "action": {"type": "cta_url", "display_text": text, "url": url}}),
        )
    };
    assert_eq!(cta("Open", "https://example.com"), "");
    assert!(cta(&"o".repeat(21), "https://example.com").contains("display_text"));
    assert!(cta("Open", "javascript:alert(1)").contains("url"));
}

#[test]
fn callback_data_is_at_most_512_characters() {
    let mut msg = parse(json!({"type": "text", "body": "hi"}));
    msg.callback_data = Some("x".repeat(513));
    assert!(msg.validate().unwrap_err().to_string().contains("callback_data"));
}

#[test]
fn unknown_types_and_bad_numbers_do_not_parse() {
    let bad = |v: Value| serde_json::from_value::<OutboundMessage>(v).is_err();
    assert!(bad(json!({"to": "+919876543210", "body": {"type": "location"}})));
    assert!(bad(json!({"to": "12345", "body": {"type": "text", "body": "hi"}})));
}

#[test]
fn round_trips_through_json() {
    let msg = parse(json!({"type": "template", "name": "t", "language": "en",
        "components": {"buttons": [{"index": 0, "sub_type": "copy_code", "value": "SAVE10"}]}}));
    let back: OutboundMessage = serde_json::from_value(serde_json::to_value(&msg).unwrap()).unwrap();
    assert_eq!(back, msg);
    assert_eq!(
        msg.to_meta_json()["template"]["components"][0]["parameters"][0],
        json!({"type": "coupon_code", "coupon_code": "SAVE10"})
    );
}

#[test]
fn the_openapi_schema_names_every_body_type() {
    use utoipa::PartialSchema;
    let mut schemas = Vec::new();
    <OutboundMessage as utoipa::ToSchema>::schemas(&mut schemas);
    let names: Vec<String> = schemas.iter().map(|(name, _)| name.clone()).collect();
    for expected in ["MessageBody", "TextBody", "TemplateBody", "Interactive", "MediaBody", "Action", "FlowAction"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let body = serde_json::to_value(super::MessageBody::schema()).unwrap().to_string();
    for tag in ["\"text\"", "\"template\"", "\"interactive\"", "\"media\""] {
        assert!(body.contains(tag), "{tag} missing from {body}");
    }
}
