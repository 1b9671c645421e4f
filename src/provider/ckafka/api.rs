//! Calling the CKafka API: one signed `POST /` per action, paced to the
//! action's rate limit, throttling and server errors retried with backoff
//! within the cluster's timeout, and every error answer turned into a
//! [`ProviderError::Cloud`] with the cloud's code, message and request id.
//! Success is the absence of `Response.Error`; the HTTP status is not relied on.

use std::time::Duration;

use crate::config::{CkafkaClusterConfig, Secret};
use crate::provider::cloud_http::{self, Endpoint};
use crate::provider::pacing::Pacer;
use crate::provider::signing::tc3::Tc3Request;
use crate::provider::{CloudAnswer, ProviderError, ProviderResult};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub const SERVICE: &str = "ckafka";
pub const VERSION: &str = "2019-08-19";
pub const DEFAULT_ENDPOINT: &str = "https://ckafka.tencentcloudapi.com";
const CONTENT_TYPE: &str = "application/json";

/// Error codes worth another try: throttling and the server's own trouble.
const RETRYABLE: [&str; 3] = ["RequestLimitExceeded", "InternalError", "ResourceUnavailable"];

/// The least time between two calls of an action (the documented rate limits).
pub fn interval(action: &str) -> Duration {
    match action {
        "FetchMessageByOffset" | "FetchMessageListByOffset" | "FetchMessageListByTimestamp" => Duration::from_secs(1),
        "BatchModifyGroupOffsets" => Duration::from_millis(50),
        _ => Duration::from_millis(10),
    }
}

pub struct TencentApi {
    cluster: String,
    endpoint: Endpoint,
    region: String,
    secret_id: Secret,
    secret_key: Secret,
    token: Option<Secret>,
    timeout: Duration,
    http: reqwest::Client,
    pacer: Pacer,
}

impl TencentApi {
    pub fn new(cluster: &str, config: &CkafkaClusterConfig) -> ProviderResult<Self> {
        let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
        let timeout = config.timeout.duration;
        Ok(TencentApi {
            cluster: cluster.to_owned(),
            endpoint: Endpoint::parse(cluster, endpoint)?,
            region: config.region.clone(),
            secret_id: config.secret_id.clone(),
            secret_key: config.secret_key.clone(),
            token: config.token.clone(),
            timeout,
            http: cloud_http::client(cluster, timeout)?,
            pacer: Pacer::default(),
        })
    }

    /// Calls `action` with `params` and returns `Response` (less `RequestId`) as `T`.
    pub async fn call<T: DeserializeOwned>(&self, action: &'static str, params: &Value) -> ProviderResult<T> {
        let body = serde_json::to_vec(params).expect("JSON values serialize");
        let response = cloud_http::with_retries(&self.cluster, action, self.timeout, || async {
            self.pacer.wait_turn(action, interval(action)).await;
            self.attempt(action, &body).await
        })
        .await?;
        serde_json::from_value(response).map_err(|e| self.unexpected(action, format!("the answer's shape: {e}")))
    }

    /// One signed request; the `Response` object, or the error it carries.
    async fn attempt(&self, action: &'static str, body: &[u8]) -> ProviderResult<Value> {
        let timestamp = Utc::now().timestamp();
        let host = self.endpoint.host.as_str();
        let signed = [("Content-Type", CONTENT_TYPE), ("Host", host), ("X-TC-Action", action)];
        let request = Tc3Request { service: SERVICE, timestamp, signed_headers: &signed, body };
        let mut http = self
            .http
            .post(format!("{}/", self.endpoint.base))
            .header("Authorization", request.authorization(self.secret_id.expose(), self.secret_key.expose()))
            .header("Content-Type", CONTENT_TYPE)
            .header("Host", host)
            .header("X-TC-Action", action)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &self.region)
            .body(body.to_vec());
        if let Some(token) = &self.token {
            http = http.header("X-TC-Token", token.expose());
        }
        let transport = |e| cloud_http::transport(&self.cluster, action, &self.endpoint, e);
        let response = http.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let Ok(Value::Object(mut top)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(self.unexpected(action, format!("HTTP {status}, a body that is not a JSON object")));
        };
        let Some(Value::Object(response)) = top.remove("Response") else {
            return Err(self.unexpected(action, format!("HTTP {status}, no `Response` object")));
        };
        let request_id = response.get("RequestId").and_then(Value::as_str).map(str::to_owned);
        if let Some(error) = response.get("Error") {
            let code = error.get("Code").and_then(Value::as_str).unwrap_or("(no code)").to_owned();
            let message = error.get("Message").and_then(Value::as_str).unwrap_or("(no message)").to_owned();
            let retryable = RETRYABLE.contains(&code.as_str());
            let answer = Box::new(CloudAnswer { code, message, request_id });
            return Err(ProviderError::Cloud { cluster: self.cluster.clone(), action, answer, retryable });
        }
        Ok(Value::Object(response))
    }

    fn unexpected(&self, action: &'static str, detail: String) -> ProviderError {
        cloud_http::unexpected(&self.cluster, action, "CKafka", detail)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use serde_json::json;

    use super::*;
    use crate::provider::signing::tc3_verify::{Rejection, answer, error_answer, verify};
    use crate::time::HumanDuration;

    const SECRET_ID: &str = "AKIDebbtest0000000000000000000000000";
    const SECRET_KEY: &str = "ebb-test-secret-key-5d1f0e";

    /// A local CKafka front: verifies each request as Tencent does, then
    /// answers with `script(attempt)` (the body of `Response`, or an error).
    async fn front(script: fn(usize) -> Result<Value, Rejection>) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let counter = counter.clone();
                async move {
                    let attempt = counter.fetch_add(1, Ordering::SeqCst);
                    let id = format!("req-{attempt}");
                    let verified = verify(&headers, &body, SERVICE, Utc::now().timestamp(), |id| {
                        (id == SECRET_ID).then(|| SECRET_KEY.to_owned())
                    });
                    let result = verified.and_then(|action| {
                        assert_eq!(action, "DescribeGroupInfo");
                        assert_eq!(headers["x-tc-version"], VERSION);
                        assert_eq!(headers["x-tc-region"], "ap-guangzhou");
                        script(attempt)
                    });
                    axum::Json(match result {
                        Ok(fields) => answer(fields, &id),
                        Err(rejection) => error_answer(&rejection, &id),
                    })
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls)
    }

    fn api(endpoint: &str, secret_key: &str, timeout: &str) -> TencentApi {
        let config = CkafkaClusterConfig {
            region: "ap-guangzhou".into(),
            instance_id: "ckafka-test".into(),
            secret_id: Secret::new(SECRET_ID),
            secret_key: Secret::new(secret_key),
            token: None,
            endpoint: Some(endpoint.to_owned()),
            timeout: HumanDuration::parse(timeout).unwrap(),
        };
        TencentApi::new("tencent", &config).unwrap()
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Groups {
        result: Vec<Value>,
    }

    fn rejected(code: &'static str) -> Result<Value, Rejection> {
        Err(Rejection { code, message: format!("{code} from the test front") })
    }

    #[tokio::test]
    async fn a_signed_call_passes_the_cloud_checks_and_its_answer_is_decoded() {
        let (url, calls) = front(|_| Ok(json!({ "Result": [{ "Group": "g", "State": "Empty" }] }))).await;
        let groups: Groups =
            api(&url, SECRET_KEY, "5s").call("DescribeGroupInfo", &json!({ "GroupList": ["g"] })).await.unwrap();
        assert_eq!(groups.result[0]["State"], "Empty");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_wrong_secret_is_a_clear_error_tried_once_and_never_printed() {
        let (url, calls) = front(|_| unreachable!("a badly signed call never gets through")).await;
        let wrong = "not-the-secret-key-77aa";
        let error = api(&url, wrong, "5s").call::<Value>("DescribeGroupInfo", &json!({})).await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("DescribeGroupInfo failed: AuthFailure.SignatureFailure"), "{text}");
        assert!(text.contains("(request id req-0)"), "{text}");
        assert!(!text.contains(wrong) && !format!("{error:?}").contains(wrong), "{text}");
        assert!(!error.is_retryable());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no retry storm");
    }

    #[tokio::test]
    async fn throttling_is_retried_with_backoff_until_it_passes() {
        let (url, calls) = front(|attempt| match attempt {
            0 => rejected("RequestLimitExceeded"),
            1 => rejected("InternalError"),
            _ => Ok(json!({ "Result": [] })),
        })
        .await;
        let groups: Groups = api(&url, SECRET_KEY, "10s").call("DescribeGroupInfo", &json!({})).await.unwrap();
        assert!(groups.result.is_empty());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let (url, calls) = front(|_| rejected("InvalidParameter")).await;
        let error = api(&url, SECRET_KEY, "10s").call::<Value>("DescribeGroupInfo", &json!({})).await.unwrap_err();
        assert!(error.to_string().contains("InvalidParameter: InvalidParameter from the test front"), "{error}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a caller's mistake is not retried");
    }

    #[tokio::test]
    async fn an_answer_of_unexpected_shape_is_an_error_naming_the_action() {
        let (url, _) = front(|_| Ok(json!({ "Result": "not a list" }))).await;
        let error = api(&url, SECRET_KEY, "5s").call::<Groups>("DescribeGroupInfo", &json!({})).await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("DescribeGroupInfo failed: unexpected answer from the CKafka API"), "{text}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_fails_within_the_timeout() {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let call = api(&format!("http://{closed}"), SECRET_KEY, "2s");
        let params = json!({});
        let result = tokio::time::timeout(Duration::from_secs(20), call.call::<Value>("DescribeGroupInfo", &params));
        let error = result.await.expect("the call gives up on its own").unwrap_err();
        assert!(error.to_string().contains("DescribeGroupInfo failed"), "{error}");
    }

    #[test]
    fn the_front_rejects_an_old_timestamp_and_an_unknown_secret_id() {
        let body = b"{}";
        let signed = [("Content-Type", CONTENT_TYPE), ("Host", "h"), ("X-TC-Action", "DescribeGroupInfo")];
        let headers_at = |timestamp: i64, secret_id: &str| {
            let request = Tc3Request { service: SERVICE, timestamp, signed_headers: &signed, body };
            let mut headers = HeaderMap::new();
            headers.insert("authorization", request.authorization(secret_id, SECRET_KEY).parse().unwrap());
            headers.insert("content-type", CONTENT_TYPE.parse().unwrap());
            headers.insert("host", "h".parse().unwrap());
            headers.insert("x-tc-action", "DescribeGroupInfo".parse().unwrap());
            headers.insert("x-tc-timestamp", timestamp.to_string().parse().unwrap());
            headers
        };
        let now = 1_800_000_000;
        let keys = |id: &str| (id == SECRET_ID).then(|| SECRET_KEY.to_owned());
        assert_eq!(
            verify(&headers_at(now - 10, SECRET_ID), body, SERVICE, now, keys),
            Ok("DescribeGroupInfo".to_owned())
        );
        assert_eq!(
            verify(&headers_at(now - 301, SECRET_ID), body, SERVICE, now, keys).unwrap_err().code,
            "AuthFailure.SignatureExpire"
        );
        assert_eq!(
            verify(&headers_at(now, "AKIDother"), body, SERVICE, now, keys).unwrap_err().code,
            "AuthFailure.SecretIdNotFound"
        );
        let code = verify(&headers_at(now, SECRET_ID), b"{ }", SERVICE, now, keys).unwrap_err().code;
        assert_eq!(code, "AuthFailure.SignatureFailure", "the exact body bytes are signed");
    }
}
