//! The OpenAPI document is honest and valid: every `$ref` resolves, no two schema types share a
//! component name (utoipa silently keeps the last one), every response is described, and every
//! operation says how it is authenticated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&wabahub::openapi::spec_json()).unwrap()
}

/// Every `$ref` string anywhere under `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|x| refs(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Every operation as (method, path, operation).
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn every_reference_resolves() {
    let spec = document();
    let mut all = Vec::new();
    refs(&spec, &mut all);
    assert!(!all.is_empty());
    let dangling: BTreeSet<_> = all
        .iter()
        .filter(|r| {
            let pointer = r.strip_prefix('#').unwrap_or("not a local reference");
            spec.pointer(pointer).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

/// The component names the source declares: each `ToSchema` type's name (or its `as = …`),
/// derived or written by hand.
fn declared_schema_names(dir: &Path, out: &mut BTreeMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            declared_schema_names(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines().enumerate();
        while let Some((n, line)) = lines.next() {
            let line = line.trim();
            let at = format!("{}:{}", path.display(), n + 1);
            // A hand-written schema: `impl ToSchema for Name {}`.
            if let Some(rest) =
                line.strip_prefix("impl ToSchema for ").or(line.strip_prefix("impl utoipa::ToSchema for "))
            {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.entry(name).or_default().push(at);
                continue;
            }
            if !(line.starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            for (_, next) in lines.by_ref() {
                let next = next.trim();
                if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                    renamed = rest.split([')', ',']).next().and_then(|p| p.rsplit("::").next()).map(str::to_string);
                }
                let decl = next.strip_prefix("pub ").unwrap_or(next);
                if let Some(rest) = decl.strip_prefix("struct ").or_else(|| decl.strip_prefix("enum ")) {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    out.entry(renamed.take().unwrap_or(name)).or_default().push(at);
                    break;
                }
            }
        }
    }
}

#[test]
fn no_two_schema_types_share_a_component_name() {
    let mut names = BTreeMap::new();
    declared_schema_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
    assert!(names.len() > 100, "the scan found only {} schema types", names.len());
    let clashes: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(clashes.is_empty(), "schema types sharing a component name (one would overwrite the other): {clashes:?}");
    // And every component of the document is one of those types (or a generic's instance).
    let spec = document();
    let unknown: Vec<_> = spec["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !names.contains_key(k.split('_').next().unwrap_or(k)))
        .collect();
    assert!(unknown.is_empty(), "components that name no type of ours: {unknown:?}");
}

#[test]
fn every_response_has_a_description() {
    let spec = document();
    for (method, path, op) in operations(&spec) {
        for (status, response) in op["responses"].as_object().unwrap() {
            let described = response["description"].as_str().is_some_and(|d| !d.is_empty());
            assert!(described || response["$ref"].is_string(), "{method} {path} {status} has no description");
        }
    }
    for (name, response) in spec["components"]["responses"].as_object().unwrap() {
        assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
}

#[test]
fn every_operation_says_how_it_is_authenticated() {
    let spec = document();
    assert_eq!(spec["security"], serde_json::json!([{"bearer": []}]));
    let mut public = BTreeSet::new();
    for (method, path, op) in operations(&spec) {
        let security = op["security"].as_array().unwrap_or_else(|| panic!("{method} {path} declares no security"));
        if security.is_empty() {
            public.insert(format!("{method} {path}"));
        } else {
            assert_eq!(security, &vec![serde_json::json!({"bearer": []})], "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents no 401");
        }
    }
    let expected: BTreeSet<String> = [
        "post /api/v1/auth/signup",
        "post /api/v1/auth/login",
        "post /api/v1/auth/refresh",
        "post /api/v1/auth/logout",
        "get /healthz",
        "get /readyz",
        "get /metrics",
        "get /t/{lead_id}",
        "get /webhooks/meta",
        "post /webhooks/meta",
        "get /webhooks/meta/{account_key}",
        "post /webhooks/meta/{account_key}",
        "post /webhooks/tata/{account_key}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(public, expected);
}

#[test]
fn provider_operations_document_local_refusals_and_the_provider_answer() {
    let spec = document();
    let provider_ops = [
        ("post", "/api/v1/accounts/{id}/templates/sync"),
        ("post", "/api/v1/accounts/{id}/templates/{template_id}/submit"),
        ("delete", "/api/v1/accounts/{id}/templates/{template_id}"),
        ("post", "/api/v1/accounts/{id}/phone-numbers/sync"),
        ("post", "/api/v1/phone-numbers/{id}/register"),
        ("post", "/api/v1/phone-numbers/{id}/request-code"),
        ("post", "/api/v1/phone-numbers/{id}/verify-code"),
        ("post", "/api/v1/accounts/{id}/flows"),
        ("put", "/api/v1/accounts/{id}/flows/{flow_id}/json"),
        ("post", "/api/v1/accounts/{id}/flows/{flow_id}/publish"),
        ("post", "/api/v1/accounts/{id}/flows/{flow_id}/deprecate"),
        ("delete", "/api/v1/accounts/{id}/flows/{flow_id}"),
    ];
    for (method, path) in provider_ops {
        let responses = &spec["paths"][path][method]["responses"];
        assert!(responses["409"]["description"].as_str().unwrap().contains("account_credentials_missing"), "{path}");
        assert!(responses["422"]["description"].as_str().unwrap().contains("not_supported_by_provider"), "{path}");
        assert!(responses["502"].is_object(), "{method} {path} documents no 502");
    }
}

#[test]
fn bodies_are_documented_as_the_server_reads_them() {
    let spec = document();
    let schemas = &spec["components"]["schemas"];
    // The Flow JSON goes as it is, not wrapped in {"json": …}.
    let flow_json = &schemas["FlowJson"];
    assert!(flow_json["properties"]["screens"].is_object() && flow_json["properties"]["json"].is_null());
    // The generator's `buttons` is a string choice, not the campaign's CTA object.
    let buttons = &schemas["GenerateTemplateRequest"]["properties"]["buttons"];
    let target = buttons["$ref"].as_str().or_else(|| buttons["allOf"][0]["$ref"].as_str()).unwrap();
    let resolved = spec.pointer(target.trim_start_matches('#')).unwrap();
    assert!(resolved["enum"].as_array().unwrap().contains(&"quick_replies".into()), "{resolved}");
    // Each setup step has its own operation and bare body.
    for (step, body) in [
        ("business_account", "BusinessAccountStep"),
        ("phone_number", "PhoneNumberStep"),
        ("access_tokens", "AccessTokensStep"),
        ("business_profile", "BusinessProfile"),
        ("bot", "BotSettings"),
        ("webhook", "WebhookStep"),
    ] {
        let op = &spec["paths"][format!("/api/v1/accounts/{{id}}/setup/{step}")]["put"];
        let schema = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(schema, &format!("#/components/schemas/{body}"), "{step}");
    }
    // Validation rules are carried into the schemas.
    assert_eq!(schemas["SignupRequest"]["properties"]["password"]["minLength"], 8);
    assert_eq!(schemas["IvrCallBatch"]["properties"]["calls"]["maxItems"], 1000);
}
