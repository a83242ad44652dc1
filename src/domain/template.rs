//! Message templates: the draft a user writes, and the linter that checks it against the
//! provider's rules before anything is submitted, returning every problem at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::account::ProviderKind;
use crate::error::FieldErrors;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    Marketing,
    Utility,
    Authentication,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Marketing => "MARKETING",
            Category::Utility => "UTILITY",
            Category::Authentication => "AUTHENTICATION",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ParameterFormat {
    #[default]
    Positional,
    Named,
}

/// A template as written by the user; `components` use Meta's shape (HEADER, BODY, FOOTER, BUTTONS).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    #[schema(example = "order_update")]
    pub name: String,
    #[schema(example = "en_US")]
    pub language: String,
    pub category: Category,
    #[serde(default)]
    pub parameter_format: ParameterFormat,
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<Value>,
}

/// Drafts are checked by `lint`, which needs the account's provider; the extractor's generic
/// validation has nothing to add.
impl validator::Validate for TemplateDraft {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// Collects field errors under `components[i].…` paths.
struct Lint<'a> {
    errors: &'a mut FieldErrors,
}

impl Lint<'_> {
    fn add(&mut self, field: impl Into<String>, code: &str) {
        let codes = self.errors.entry(field.into()).or_default();
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_string());
        }
    }
}

/// The placeholders in a text, in order: `{{1}}` → "1", `{{first_name}}` → "first_name".
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

fn text_of<'a>(c: &'a Value, key: &str) -> Option<&'a str> {
    c.get(key).and_then(Value::as_str)
}

/// Checks placeholders: positional ones numbered 1..n with no gaps, named ones lowercase and
/// unique; returns how many there are.
fn check_params(lint: &mut Lint, field: &str, text: &str, format: ParameterFormat) -> usize {
    let params = placeholders(text);
    match format {
        ParameterFormat::Positional => {
            let mut numbers: Vec<usize> = Vec::new();
            for p in &params {
                match p.parse::<usize>() {
                    Ok(n) if n >= 1 => numbers.push(n),
                    _ => lint.add(field, "invalid_placeholder"),
                }
            }
            let mut sorted = numbers.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.iter().enumerate().any(|(i, n)| *n != i + 1) {
                lint.add(field, "placeholder_gap");
            }
            sorted.len()
        }
        ParameterFormat::Named => {
            let valid = |p: &String| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            };
            if !params.iter().all(valid) {
                lint.add(field, "invalid_placeholder");
            }
            let mut unique = params.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != params.len() {
                lint.add(field, "duplicate_placeholder");
            }
            unique.len()
        }
    }
}

fn check_len(lint: &mut Lint, field: &str, text: Option<&str>, max: usize, required: bool) {
    match text {
        None | Some("") if required => lint.add(field, "required"),
        Some(t) if t.chars().count() > max => lint.add(field, "too_long"),
        _ => {}
    }
}

/// How many example values a component gives for its variables.
fn example_count(c: &Value, positional_key: &str, named_key: &str) -> usize {
    let ex = c.get("example");
    ex.and_then(|e| e.get(positional_key))
        .and_then(Value::as_array)
        .map(|a| a.first().and_then(Value::as_array).map_or(a.len(), Vec::len))
        .or_else(|| ex.and_then(|e| e.get(named_key)).and_then(Value::as_array).map(Vec::len))
        .unwrap_or(0)
}

fn lint_header(lint: &mut Lint, f: &str, c: &Value, format: ParameterFormat) {
    match text_of(c, "format") {
        Some("TEXT") => {
            let text = text_of(c, "text");
            check_len(lint, &format!("{f}.text"), text, 60, true);
            let n = check_params(lint, &format!("{f}.text"), text.unwrap_or_default(), format);
            if n > 1 {
                lint.add(format!("{f}.text"), "too_many_placeholders");
            }
            if n > 0 && example_count(c, "header_text", "header_text_named_params") < n {
                lint.add(format!("{f}.example"), "example_required");
            }
        }
        Some("IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION") => {}
        _ => lint.add(format!("{f}.format"), "invalid_choice"),
    }
}

fn lint_body(lint: &mut Lint, f: &str, c: &Value, format: ParameterFormat) {
    let text = text_of(c, "text").unwrap_or_default();
    check_len(lint, &format!("{f}.text"), Some(text), 1024, true);
    let n = check_params(lint, &format!("{f}.text"), text, format);
    let trimmed = text.trim();
    if n > 0 && (trimmed.starts_with("{{") || trimmed.ends_with("}}")) {
        lint.add(format!("{f}.text"), "placeholder_at_edge");
    }
    if n > 0 && example_count(c, "body_text", "body_text_named_params") != n {
        lint.add(format!("{f}.example"), "example_required");
    }
}

fn lint_buttons(lint: &mut Lint, f: &str, c: &Value, provider: ProviderKind) {
    let Some(buttons) = c.get("buttons").and_then(Value::as_array) else {
        return lint.add(format!("{f}.buttons"), "required");
    };
    if buttons.is_empty() || buttons.len() > 10 {
        lint.add(format!("{f}.buttons"), "invalid_count");
    }
    let kinds: Vec<&str> = buttons.iter().map(|b| text_of(b, "type").unwrap_or_default()).collect();
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
    if count("URL") > 2 || count("PHONE_NUMBER") > 1 || count("COPY_CODE") > 1 {
        lint.add(format!("{f}.buttons"), "too_many_of_type");
    }
    let quick: Vec<bool> = kinds.iter().map(|k| *k == "QUICK_REPLY").collect();
    if quick.windows(2).filter(|w| w[0] != w[1]).count() > 1 {
        lint.add(format!("{f}.buttons"), "quick_replies_not_grouped");
    }
    for (i, b) in buttons.iter().enumerate() {
        let bf = format!("{f}.buttons[{i}]");
        check_len(lint, &format!("{bf}.text"), text_of(b, "text"), 25, kinds[i] != "COPY_CODE");
        let vars = match kinds[i] {
            "QUICK_REPLY" | "COPY_CODE" | "FLOW" | "OTP" | "CATALOG" | "MPM" => 0,
            "URL" => {
                let url = text_of(b, "url");
                check_len(lint, &format!("{bf}.url"), url, 2000, true);
                let n = placeholders(url.unwrap_or_default()).len();
                if n > 1 || (n == 1 && !url.unwrap_or_default().trim_end().ends_with("}}")) {
                    lint.add(format!("{bf}.url"), "placeholder_must_end_url");
                }
                if n > 0 && b.get("example").is_none() {
                    lint.add(format!("{bf}.example"), "example_required");
                }
                n
            }
            "PHONE_NUMBER" => {
                check_len(lint, &format!("{bf}.phone_number"), text_of(b, "phone_number"), 20, true);
                0
            }
            _ => {
                lint.add(format!("{bf}.type"), "invalid_choice");
                0
            }
        };
        if vars > 0 && provider == ProviderKind::Tata {
            lint.add(format!("{bf}.url"), "ERR_BUTTON_VARIABLES_UNSUPPORTED");
        }
    }
}

/// Every problem with a draft, keyed by field. Empty when the draft can be submitted.
pub fn lint(t: &TemplateDraft, provider: ProviderKind) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut lint = Lint { errors: &mut errors };
    if t.name.is_empty()
        || t.name.len() > 512
        || !t.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        lint.add("name", "invalid_name");
    }
    let lang_ok = {
        let (base, region) = t.language.split_once('_').map_or((t.language.as_str(), None), |(b, r)| (b, Some(r)));
        (2..=3).contains(&base.len())
            && base.chars().all(|c| c.is_ascii_lowercase())
            && region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
    };
    if !lang_ok {
        lint.add("language", "invalid_language");
    }
    let mut seen = std::collections::HashMap::new();
    for (i, c) in t.components.iter().enumerate() {
        let f = format!("components[{i}]");
        let kind = text_of(c, "type").unwrap_or_default().to_ascii_uppercase();
        *seen.entry(kind.clone()).or_insert(0) += 1;
        match kind.as_str() {
            "HEADER" => lint_header(&mut lint, &f, c, t.parameter_format),
            "BODY" => lint_body(&mut lint, &f, c, t.parameter_format),
            "FOOTER" => {
                check_len(&mut lint, &format!("{f}.text"), text_of(c, "text"), 60, true);
                if !placeholders(text_of(c, "text").unwrap_or_default()).is_empty() {
                    lint.add(format!("{f}.text"), "placeholders_not_allowed");
                }
            }
            "BUTTONS" => lint_buttons(&mut lint, &f, c, provider),
            _ => lint.add(format!("{f}.type"), "invalid_choice"),
        }
    }
    if seen.get("BODY").copied().unwrap_or(0) != 1 {
        lint.add("components", "exactly_one_body_required");
    }
    if seen.iter().any(|(k, n)| *n > 1 && k != "BODY") {
        lint.add("components", "duplicate_component");
    }
    errors
}

/// How many body parameters a send must fill.
pub fn body_parameter_count(components: &[Value]) -> usize {
    components
        .iter()
        .find(|c| text_of(c, "type").is_some_and(|t| t.eq_ignore_ascii_case("BODY")))
        .and_then(|c| text_of(c, "text"))
        .map(|t| {
            let mut p = placeholders(t);
            p.sort();
            p.dedup();
            p.len()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn draft(components: Value) -> TemplateDraft {
        TemplateDraft {
            name: "order_update".into(),
            language: "en_US".into(),
            category: Category::Utility,
            parameter_format: ParameterFormat::Positional,
            components: serde_json::from_value(components).unwrap(),
        }
    }

    #[test]
    fn a_good_template_passes() {
        let t = draft(json!([
            {"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}", "example": {"header_text": ["Ann"]}},
            {"type": "BODY", "text": "Your order {{1}} ships on {{2}}.", "example": {"body_text": [["A1", "Monday"]]}},
            {"type": "FOOTER", "text": "Acme"},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://acme.example/t/{{1}}", "example": ["https://acme.example/t/1"]}]}
        ]));
        assert!(lint(&t, ProviderKind::Meta).is_empty(), "{:?}", lint(&t, ProviderKind::Meta));
        assert_eq!(body_parameter_count(&t.components), 2);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let mut t = draft(json!([
            {"type": "BODY", "text": "{{1}} and {{3}}"},
            {"type": "FOOTER", "text": "x".repeat(61)},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "a"}, {"type": "URL", "text": "b", "url": "https://x/{{1}}/y"}, {"type": "QUICK_REPLY", "text": "c"}
            ]}
        ]));
        t.name = "Bad Name".into();
        t.language = "english".into();
        let e = lint(&t, ProviderKind::Tata);
        assert_eq!(e["name"], vec!["invalid_name"]);
        assert_eq!(e["language"], vec!["invalid_language"]);
        assert!(e["components[0].text"].contains(&"placeholder_gap".to_string()));
        assert!(e["components[0].text"].contains(&"placeholder_at_edge".to_string()));
        assert_eq!(e["components[0].example"], vec!["example_required"]);
        assert_eq!(e["components[1].text"], vec!["too_long"]);
        assert_eq!(e["components[2].buttons"], vec!["quick_replies_not_grouped"]);
        assert!(e["components[2].buttons[1].url"].contains(&"placeholder_must_end_url".to_string()));
        assert!(e["components[2].buttons[1].url"].contains(&"ERR_BUTTON_VARIABLES_UNSUPPORTED".to_string()));
    }

    #[test]
    fn needs_exactly_one_body() {
        let e = lint(&draft(json!([{"type": "FOOTER", "text": "x"}])), ProviderKind::Meta);
        assert_eq!(e["components"], vec!["exactly_one_body_required"]);
    }

    #[test]
    fn named_parameters_are_checked() {
        let mut t = draft(
            json!([{"type": "BODY", "text": "Hi {{first_name}}, {{First}} {{first_name}}!", "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ann"}]}}]),
        );
        t.parameter_format = ParameterFormat::Named;
        let e = lint(&t, ProviderKind::Meta);
        assert!(e["components[0].text"].contains(&"invalid_placeholder".to_string()));
        assert!(e["components[0].text"].contains(&"duplicate_placeholder".to_string()));
    }
}
