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
