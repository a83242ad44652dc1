//! Flows on Meta: create (multipart), upload the Flow JSON as an asset, and read back the
//! validation errors (reference §7). Publish, deprecate and delete are in the trait impl.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::MetaProvider;
use crate::providers::error::{ProviderError, ProviderErrorKind};
use crate::providers::types::FlowValidationError;

impl MetaProvider {
    pub(super) async fn create_flow_impl(&self, name: &str, categories: &[String]) -> Result<String, ProviderError> {
        let categories = serde_json::to_string(categories).unwrap_or_else(|_| "[]".into());
        let form = Form::new().text("name", name.to_string()).text("categories", categories);
        let reply = self.post_form(&format!("{}/flows", self.waba_id), form).await?;
        reply["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(ProviderErrorKind::Permanent, "flow creation returned no id"))
    }

    pub(super) async fn upload_flow_json_impl(
        &self,
        flow_id: &str,
        json: &Value,
    ) -> Result<Vec<FlowValidationError>, ProviderError> {
        let file = Part::bytes(serde_json::to_vec(json).unwrap_or_default())
            .file_name("flow.json")
            .mime_str("application/json")
            .map_err(|e| ProviderError::new(ProviderErrorKind::Permanent, e.to_string()))?;
        let form = Form::new().text("name", "flow.json").text("asset_type", "FLOW_JSON").part("file", file);
        let reply = self.post_form(&format!("{flow_id}/assets"), form).await?;
        Ok(reply["validation_errors"].as_array().map(|v| v.iter().map(validation_error).collect()).unwrap_or_default())
    }
}

fn validation_error(v: &Value) -> FlowValidationError {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let num = |k: &str| v[k].as_u64().and_then(|n| u32::try_from(n).ok());
    FlowValidationError {
        error: text("error").unwrap_or_default(),
        error_type: text("error_type"),
        message: text("message").unwrap_or_default(),
        line_start: num("line_start"),
        line_end: num("line_end"),
        column_start: num("column_start"),
        column_end: num("column_end"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_string_contains, header, header_regex, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::providers::Provider;
    use crate::providers::testkit::*;

    #[tokio::test]
    async fn creates_a_flow_as_multipart() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{WABA}/flows")))
            .and(header("authorization", AUTH))
            .and(header_regex("content-type", "^multipart/form-data; boundary="))
            .and(body_string_contains("name=\"name\"\r\n\r\nsignup\r\n"))
            .and(body_string_contains("name=\"categories\"\r\n\r\n[\"SIGN_UP\"]\r\n"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "flow-1"})))
            .expect(1)
            .mount(&server)
            .await;
        let id = meta(&server).create_flow("signup", &["SIGN_UP".into()]).await.unwrap();
        assert_eq!(id, "flow-1");
    }

    #[tokio::test]
    async fn uploads_flow_json_and_returns_validation_errors() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v23.0/flow-1/assets"))
            .and(header("authorization", AUTH))
            .and(body_string_contains("name=\"asset_type\"\r\n\r\nFLOW_JSON\r\n"))
            .and(body_string_contains("name=\"file\"; filename=\"flow.json\""))
            .and(body_string_contains("{\"version\":\"6.0\"}"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true, "validation_errors": [
                {"error": "INVALID_PROPERTY", "error_type": "JSON_SCHEMA_ERROR", "message": "screens is required",
                 "line_start": 1, "line_end": 1, "column_start": 1, "column_end": 18}]})))
            .expect(1)
            .mount(&server)
            .await;
        let errors = meta(&server).upload_flow_json("flow-1", &json!({"version": "6.0"})).await.unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].error.as_str(), errors[0].column_end), ("INVALID_PROPERTY", Some(18)));
    }

    #[tokio::test]
    async fn publishes_deprecates_and_deletes() {
        let server = MockServer::start().await;
        for (verb, p) in
            [("POST", "/v23.0/flow-1/publish"), ("POST", "/v23.0/flow-1/deprecate"), ("DELETE", "/v23.0/flow-1")]
        {
            Mock::given(method(verb))
                .and(path(p))
                .and(header("authorization", AUTH))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
                .expect(1)
                .mount(&server)
                .await;
        }
        let p = meta(&server);
        p.publish_flow("flow-1").await.unwrap();
        p.deprecate_flow("flow-1").await.unwrap();
        p.delete_flow("flow-1").await.unwrap();
    }
}
