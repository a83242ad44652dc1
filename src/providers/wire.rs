//! The Meta Cloud API wire form of an [`OutboundMessage`] (reference §1). Tata takes the same
//! body, so this is the one place that shapes a message for the wire.

use serde_json::{Map, Value, json};

use super::interactive::Action;
use super::message::{ButtonSubType, Header, Interactive, MessageBody, OutboundMessage, TemplateBody, TemplateButton};

impl OutboundMessage {
    /// The `POST /{phone-number-id}/messages` body, exactly as Meta documents it.
    pub fn to_meta_json(&self) -> Value {
        let (kind, payload) = match &self.body {
            MessageBody::Text(t) => ("text", json!({"preview_url": t.preview_url, "body": t.body})),
            MessageBody::Template(t) => ("template", template(t)),
            MessageBody::Interactive(i) => ("interactive", interactive(i)),
            MessageBody::Media(m) => {
                let mut media = Map::new();
                media.insert("link".into(), json!(m.link));
                insert_opt(&mut media, "caption", &m.caption);
                insert_opt(&mut media, "filename", &m.filename);
                (m.kind.as_str(), Value::Object(media))
            }
        };
        let mut out = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self.to.digits(),
            "type": kind,
            kind: payload,
        });
        if let Some(id) = &self.reply_to {
            out["context"] = json!({"message_id": id});
        }
        if let Some(data) = &self.callback_data {
            out["biz_opaque_callback_data"] = json!(data);
        }
        out
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

/// `{"type":"text","text":…}` or `{"type":"image","image":{"link":…}}`: the same shape serves
/// as an interactive header and as a template header parameter.
fn header(h: &Header) -> Value {
    match h {
        Header::Text { text } => json!({"type": "text", "text": text}),
        Header::Image { link } => json!({"type": "image", "image": {"link": link}}),
        Header::Video { link } => json!({"type": "video", "video": {"link": link}}),
        Header::Document { link, filename } => {
            let mut doc = Map::new();
            doc.insert("link".into(), json!(link));
            insert_opt(&mut doc, "filename", filename);
            json!({"type": "document", "document": doc})
        }
    }
}

fn template(t: &TemplateBody) -> Value {
    let c = &t.components;
    let mut components = Vec::new();
    if let Some(h) = &c.header {
        components.push(json!({"type": "header", "parameters": [header(h)]}));
    }
    if !c.body.is_empty() {
        let params: Vec<Value> = c
            .body
            .iter()
            .map(|p| match &p.parameter_name {
                Some(name) => json!({"type": "text", "parameter_name": name, "text": p.text}),
                None => json!({"type": "text", "text": p.text}),
            })
            .collect();
        components.push(json!({"type": "body", "parameters": params}));
    }
    components.extend(c.buttons.iter().map(template_button));
    let mut out = json!({"name": t.name, "language": {"code": t.language}});
    if !components.is_empty() {
        out["components"] = Value::Array(components);
    }
    out
}

fn template_button(b: &TemplateButton) -> Value {
    let (sub_type, param) = match b.sub_type {
        ButtonSubType::QuickReply => ("quick_reply", json!({"type": "payload", "payload": b.value})),
        ButtonSubType::Url => ("url", json!({"type": "text", "text": b.value})),
        ButtonSubType::CopyCode => ("copy_code", json!({"type": "coupon_code", "coupon_code": b.value})),
        ButtonSubType::Flow => ("flow", json!({"type": "action", "action": {"flow_token": b.value}})),
    };
    json!({"type": "button", "sub_type": sub_type, "index": b.index.to_string(), "parameters": [param]})
}

fn interactive(i: &Interactive) -> Value {
    let (kind, action) = match &i.action {
        Action::Buttons(b) => {
            let buttons: Vec<Value> =
                b.buttons.iter().map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}})).collect();
            ("button", json!({"buttons": buttons}))
        }
        Action::List(l) => ("list", json!({"button": l.button, "sections": l.sections})),
        Action::CtaUrl(c) => {
            ("cta_url", json!({"name": "cta_url", "parameters": {"display_text": c.display_text, "url": c.url}}))
        }
        Action::Flow(f) => {
            let mut p = json!({
                "flow_message_version": "3",
                "flow_id": f.flow_id,
                "flow_cta": f.flow_cta,
                "flow_token": f.flow_token,
            });
            match &f.screen {
                Some(screen) => {
                    p["flow_action"] = json!("navigate");
                    let mut payload = json!({"screen": screen});
                    if let Some(data) = &f.data {
                        payload["data"] = data.clone();
                    }
                    p["flow_action_payload"] = payload;
                }
                None => p["flow_action"] = json!("data_exchange"),
            }
            if f.draft {
                p["mode"] = json!("draft");
            }
            ("flow", json!({"name": "flow", "parameters": p}))
        }
    };
    let mut out = json!({"type": kind, "body": {"text": i.body}, "action": action});
    if let Some(h) = &i.header {
        out["header"] = header(h);
    }
    if let Some(f) = &i.footer {
        out["footer"] = json!({"text": f});
    }
    out
}
