//! Phone numbers on Meta: `GET /{waba-id}/phone_numbers` with the fields the account screens
//! and the sender need (reference §3, §6). Register and code verification are in the trait impl.

use serde_json::Value;

use super::MetaProvider;
use crate::providers::error::ProviderError;
use crate::providers::types::ProviderPhoneNumber;

const FIELDS: &str = "id,display_phone_number,verified_name,status,quality_rating,\
whatsapp_business_manager_messaging_limit,throughput";

impl MetaProvider {
    pub(super) async fn list_phone_numbers_impl(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError> {
        let path = format!("{}/phone_numbers", self.waba_id);
        let items = self.get_all(&path, &[("fields", FIELDS), ("limit", "100")]).await?;
        Ok(items.iter().map(number_from).collect())
    }
}

fn number_from(v: &Value) -> ProviderPhoneNumber {
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    ProviderPhoneNumber {
        id: text("/id").unwrap_or_default(),
        display_phone_number: text("/display_phone_number").unwrap_or_default(),
        verified_name: text("/verified_name"),
        status: text("/status"),
        quality_rating: text("/quality_rating"),
        messaging_limit_tier: text("/whatsapp_business_manager_messaging_limit"),
        throughput_level: text("/throughput/level"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::providers::testkit::*;
    use crate::providers::{CodeMethod, Provider, ProviderErrorKind};

    #[tokio::test]
    async fn lists_numbers_with_tier_and_throughput() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("/v23.0/{WABA}/phone_numbers")))
            .and(query_param("fields", super::FIELDS))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{
                "id": PHONE_ID, "display_phone_number": "+1 555-078-3881", "verified_name": "Acme",
                "status": "CONNECTED", "quality_rating": "GREEN",
                "whatsapp_business_manager_messaging_limit": "TIER_2K", "throughput": {"level": "STANDARD"}}]})))
            .mount(&server)
            .await;
        let numbers = meta(&server).list_phone_numbers().await.unwrap();
        let n = &numbers[0];
        assert_eq!(
            (n.id.as_str(), n.status.as_deref(), n.quality_rating.as_deref()),
            (PHONE_ID, Some("CONNECTED"), Some("GREEN"))
        );
        assert_eq!(
            (n.messaging_limit_tier.as_deref(), n.throughput_level.as_deref()),
            (Some("TIER_2K"), Some("STANDARD"))
        );
    }

    async fn expect_post(server: &MockServer, suffix: &str, body: serde_json::Value) {
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{PHONE_ID}/{suffix}")))
            .and(header("authorization", AUTH))
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(1)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn registers_requests_and_verifies_codes() {
        let server = MockServer::start().await;
        expect_post(&server, "register", json!({"messaging_product": "whatsapp", "pin": "123456"})).await;
        expect_post(&server, "request_code", json!({"code_method": "VOICE", "language": "en_US"})).await;
        expect_post(&server, "verify_code", json!({"code": "654321"})).await;
        let p = meta(&server);
        p.register_number(PHONE_ID, "123456").await.unwrap();
        p.request_code(PHONE_ID, CodeMethod::Voice, "en_US").await.unwrap();
        p.verify_code(PHONE_ID, "654321").await.unwrap();
    }

    #[tokio::test]
    async fn a_wrong_pin_keeps_metas_code() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{PHONE_ID}/register")))
            .respond_with(
                ResponseTemplate::new(400).set_body_json(graph_error(133005, "Two step verification PIN Mismatch")),
            )
            .mount(&server)
            .await;
        let err = meta(&server).register_number(PHONE_ID, "000000").await.unwrap_err();
        assert_eq!((err.kind, err.code), (ProviderErrorKind::Permanent, Some(133005)));
    }
}
