//! Template management on Meta: `POST|GET|DELETE /{waba-id}/message_templates` (reference §5).

use serde_json::{Value, json};

use super::MetaProvider;
use crate::providers::error::ProviderError;
use crate::providers::types::{NewTemplate, ProviderTemplate};

const FIELDS: &str = "id,name,language,category,status,rejected_reason,components";

impl MetaProvider {
    pub(super) async fn create_template_impl(&self, t: &NewTemplate) -> Result<ProviderTemplate, ProviderError> {
        let mut body =
            json!({"name": t.name, "language": t.language, "category": t.category, "components": t.components});
        if let Some(format) = &t.parameter_format {
            body["parameter_format"] = json!(format);
        }
        let reply = self.post(&format!("{}/message_templates", self.waba_id), &body).await?;
        let text = |k: &str| reply[k].as_str().map(str::to_string);
        Ok(ProviderTemplate {
            provider_id: text("id").unwrap_or_default(),
            name: t.name.clone(),
            language: t.language.clone(),
            category: text("category").unwrap_or_else(|| t.category.clone()),
            status: text("status").unwrap_or_else(|| "PENDING".into()),
            rejection_reason: None,
            components: t.components.clone(),
        })
    }

    pub(super) async fn list_templates_impl(&self) -> Result<Vec<ProviderTemplate>, ProviderError> {
        let path = format!("{}/message_templates", self.waba_id);
        let items = self.get_all(&path, &[("fields", FIELDS), ("limit", "100")]).await?;
        Ok(items.iter().map(template_from).collect())
    }

    pub(super) async fn delete_template_impl(
        &self,
        name: &str,
        provider_id: Option<&str>,
    ) -> Result<(), ProviderError> {
        let mut query = vec![("name", name)];
        if let Some(id) = provider_id {
            query.push(("hsm_id", id));
        }
        let reply = self.delete(&format!("{}/message_templates", self.waba_id), &query).await?;
        super::expect_success(&reply, "delete template")
    }
}

/// A template node of the list; `rejected_reason` `NONE` means no reason.
fn template_from(v: &Value) -> ProviderTemplate {
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let reason = v["rejected_reason"].as_str().filter(|r| *r != "NONE").map(str::to_string);
    ProviderTemplate {
        provider_id: text("id"),
        name: text("name"),
        language: text("language"),
        category: text("category"),
        status: text("status"),
        rejection_reason: reason,
        components: v.get("components").cloned().unwrap_or(Value::Array(vec![])),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::providers::testkit::*;
    use crate::providers::{NewTemplate, Provider};

    #[tokio::test]
    async fn creates_a_template_with_the_documented_body() {
        let server = MockServer::start().await;
        let components = json!([{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Pablo"]]}}]);
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{WABA}/message_templates")))
            .and(header("authorization", AUTH))
            .and(body_json(json!({"name": "order_update", "language": "en_US", "category": "UTILITY",
                "parameter_format": "POSITIONAL", "components": components})))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": "1689556908129832", "status": "PENDING", "category": "UTILITY"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let new = NewTemplate {
            name: "order_update".into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            parameter_format: Some("POSITIONAL".into()),
            components: components.clone(),
        };
        let t = meta(&server).create_template(&new).await.unwrap();
        assert_eq!((t.provider_id.as_str(), t.status.as_str()), ("1689556908129832", "PENDING"));
        assert_eq!(t.components, components);
    }

    #[tokio::test]
    async fn lists_templates_across_pages() {
        let server = MockServer::start().await;
        let list = format!("/v23.0/{WABA}/message_templates");
        let node = |id: &str, status: &str, reason: &str| {
            json!({"id": id, "name": format!("t{id}"), "language": "en", "category": "MARKETING",
                   "status": status, "rejected_reason": reason, "components": []})
        };
        Mock::given(method("GET"))
            .and(path(list.clone()))
            .and(query_param_is_missing("after"))
            .and(query_param("fields", "id,name,language,category,status,rejected_reason,components"))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [node("1", "APPROVED", "NONE")],
                "paging": {"cursors": {"before": "b1", "after": "c1"}, "next": "https://graph.facebook.com/next"}})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(list))
            .and(query_param("after", "c1"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": [node("2", "REJECTED", "INVALID_FORMAT")],
                "paging": {"cursors": {"before": "b2", "after": "c2"}}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let all = meta(&server).list_templates().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].rejection_reason.as_deref(), all[1].rejection_reason.as_deref()),
            (None, Some("INVALID_FORMAT"))
        );
        assert_eq!(all[1].status, "REJECTED");
    }

    #[tokio::test]
    async fn deletes_one_language_by_hsm_id() {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .and(path(format!("/v23.0/{WABA}/message_templates")))
            .and(query_param("name", "order_update"))
            .and(query_param("hsm_id", "42"))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(1)
            .mount(&server)
            .await;
        meta(&server).delete_template("order_update", Some("42")).await.unwrap();
    }
}
