//! Calling the DMS for Kafka REST API: each request signed with SDK-HMAC-SHA256
//! (`X-Sdk-Date`, `Host` and `Content-Type` signed), paced, throttling (429)
//! and server trouble (5xx) retried with backoff within the cluster's timeout,
//! and every error answer (`error_code`, `error_msg`, the request id from
//! `X-Request-Id` or the body) turned into a [`ProviderError::Cloud`].

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::{DmsClusterConfig, Secret};
use crate::provider::cloud_http::{self, Endpoint};
use crate::provider::pacing::Pacer;
use crate::provider::signing::sdk_hmac::{self, Payload, SdkHmacRequest};
use crate::provider::{CloudAnswer, ProviderError, ProviderResult};

const CONTENT_TYPE: &str = "application/json";
/// The gateway's throttling code, besides HTTP 429.
const THROTTLED: &str = "APIGW.0308";
/// The least time between two calls of one operation.
const INTERVAL: Duration = Duration::from_millis(10);

/// One API call: an operation name for messages, and the request.
pub struct Call<'a> {
    pub operation: &'static str,
    pub method: Method,
    /// Path below the endpoint, not yet encoded, e.g. `["v2", project, "instances", id, "messages"]`.
    pub path: Vec<&'a str>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

pub struct HuaweiApi {
    cluster: String,
    endpoint: Endpoint,
    pub project_id: String,
    pub instance_id: String,
    access_key: Secret,
    secret_key: Secret,
    timeout: Duration,
    http: reqwest::Client,
    pacer: Pacer,
}

impl HuaweiApi {
    pub fn new(cluster: &str, config: &DmsClusterConfig) -> ProviderResult<Self> {
        let timeout = config.timeout.duration;
        Ok(HuaweiApi {
            cluster: cluster.to_owned(),
            endpoint: Endpoint::parse(cluster, &config.endpoint)?,
            project_id: config.project_id.clone(),
            instance_id: config.instance_id.clone(),
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
            timeout,
            http: cloud_http::client(cluster, timeout)?,
            pacer: Pacer::default(),
        })
    }

    /// Sends `call` and decodes its answer (JSON `null` for an empty body) as `T`.
    pub async fn call<T: DeserializeOwned>(&self, call: &Call<'_>) -> ProviderResult<T> {
        let body = call.body.as_ref().map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        let body = body.as_deref().unwrap_or_default();
        let answer = cloud_http::with_retries(&self.cluster, call.operation, self.timeout, || async {
            self.pacer.wait_turn(call.operation, INTERVAL).await;
            self.attempt(call, body).await
        })
        .await?;
        serde_json::from_value(answer).map_err(|e| self.unexpected(call.operation, format!("the answer's shape: {e}")))
    }

    async fn attempt(&self, call: &Call<'_>, body: &[u8]) -> ProviderResult<Value> {
        let operation = call.operation;
        let date = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let host = self.endpoint.host.as_str();
        let path = format!("/{}", call.path.join("/"));
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let signed = [("Content-Type", CONTENT_TYPE), ("Host", host), ("X-Sdk-Date", date.as_str())];
        let request = SdkHmacRequest {
            method: call.method.as_str(),
            path: &path,
            query: &query,
            date: &date,
            signed_headers: &signed,
            payload: Payload::Bytes(body),
        };
        let authorization = request.authorization(self.access_key.expose(), self.secret_key.expose());
        let encoded_path: Vec<String> = call.path.iter().map(|s| sdk_hmac::encode(s)).collect();
        let mut url = format!("{}/{}", self.endpoint.base, encoded_path.join("/"));
        if !query.is_empty() {
            url.push('?');
            url.push_str(&sdk_hmac::canonical_query(&query));
        }
        let transport = |e| cloud_http::transport(&self.cluster, operation, &self.endpoint, e);
        let response = self
            .http
            .request(call.method.clone(), url)
            .header("Authorization", authorization)
            .header("Content-Type", CONTENT_TYPE)
            .header("Host", host)
            .header("X-Sdk-Date", &date)
            .body(body.to_vec())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let header_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.bytes().await.map_err(transport)?;
        let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(Value::Null)
        } else {
            serde_json::from_slice::<Value>(&bytes)
        };
        if status.is_success() {
            return parsed.map_err(|_| self.unexpected(operation, format!("HTTP {status}, a body that is not JSON")));
        }
        let parsed = parsed.unwrap_or(Value::Null);
        let text = |key: &str| parsed.get(key).and_then(Value::as_str).map(str::to_owned);
        let code = text("error_code").unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        let message = text("error_msg").unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let retryable = status.as_u16() == 429 || status.is_server_error() || code == THROTTLED;
        let request_id = header_id.or_else(|| text("request_id"));
        let answer = Box::new(CloudAnswer { code, message, request_id });
        Err(ProviderError::Cloud { cluster: self.cluster.clone(), action: operation, answer, retryable })
    }

    fn unexpected(&self, operation: &'static str, detail: String) -> ProviderError {
        cloud_http::unexpected(&self.cluster, operation, "DMS", detail)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use serde_json::json;

    use super::*;
    use crate::time::HumanDuration;

    /// A front answering each attempt with `script(attempt)`: a status and a body.
    async fn front(script: fn(usize) -> (StatusCode, Value)) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = axum::Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                let (status, body) = script(counter.fetch_add(1, Ordering::SeqCst));
                (status, [("x-request-id", "hw-req-1")], axum::Json(body))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls)
    }

    fn api(endpoint: &str) -> HuaweiApi {
        let config = DmsClusterConfig {
            endpoint: endpoint.to_owned(),
            project_id: "p".into(),
            instance_id: "i".into(),
            access_key: Secret::new("AK"),
            secret_key: Secret::new("SK"),
            timeout: HumanDuration::parse("10s").unwrap(),
        };
        HuaweiApi::new("huawei", &config).unwrap()
    }

    fn call() -> Call<'static> {
        Call { operation: "ShowGroups", method: Method::GET, path: vec!["v2", "p"], query: Vec::new(), body: None }
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_retried_and_a_client_error_is_not() {
        let (url, calls) = front(|attempt| match attempt {
            0 => (StatusCode::TOO_MANY_REQUESTS, json!({ "error_code": "APIGW.0308", "error_msg": "throttled" })),
            1 => (StatusCode::BAD_GATEWAY, json!({})),
            _ => (StatusCode::OK, json!({ "group": "g" })),
        })
        .await;
        let answer: Value = api(&url).call(&call()).await.unwrap();
        assert_eq!(answer["group"], "g");
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let (url, calls) =
            front(|_| (StatusCode::BAD_REQUEST, json!({ "error_code": "DMS.00400002", "error_msg": "bad topic" })))
                .await;
        let error = api(&url).call::<Value>(&call()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "cluster huawei: ShowGroups failed: DMS.00400002: bad topic (request id hw-req-1)"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_empty_answer_is_null_and_a_non_json_one_names_the_operation() {
        let (url, _) = front(|_| (StatusCode::NO_CONTENT, json!(null))).await;
        let answer: Value = api(&url).call(&call()).await.unwrap();
        assert_eq!(answer, Value::Null);
        let (url, _) = front(|_| (StatusCode::OK, json!({ "group": 7 }))).await;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Group {
            group: String,
        }
        let error = api(&url).call::<Group>(&call()).await.unwrap_err();
        assert!(error.to_string().contains("ShowGroups failed: unexpected answer from the DMS API"), "{error}");
    }
}
