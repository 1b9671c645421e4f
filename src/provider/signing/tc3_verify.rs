//! The checks Tencent Cloud's API gateway makes before an action runs, for the
//! CKafka emulator: the `Authorization` header parsed, the canonical headers
//! rebuilt from the client's own `SignedHeaders` list and the exact body bytes
//! received, the signature compared, the clock window enforced; failures
//! answered in Tencent's error shape.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::provider::signing::tc3::{Tc3Authorization, Tc3Request};

/// How far the request's timestamp may be from the server's clock.
pub const CLOCK_WINDOW_SECONDS: i64 = 300;

/// A rejected request: Tencent's error code and message.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection { code, message: message.into() }
}

/// Verifies a request to `service`; `secret_key_of` maps a SecretId to its
/// SecretKey. Returns the action (`X-TC-Action`).
pub fn verify(
    headers: &HeaderMap,
    body: &[u8],
    service: &str,
    now: i64,
    secret_key_of: impl Fn(&str) -> Option<String>,
) -> Result<String, Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization =
        header("authorization").ok_or_else(|| reject("AuthFailure.SignatureFailure", "no Authorization header"))?;
    let parsed = Tc3Authorization::parse(authorization)
        .ok_or_else(|| reject("AuthFailure.SignatureFailure", "the Authorization header is malformed"))?;
    let timestamp: i64 = header("x-tc-timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| reject("MissingParameter", "X-TC-Timestamp is missing"))?;
    if (now - timestamp).abs() > CLOCK_WINDOW_SECONDS {
        return Err(reject(
            "AuthFailure.SignatureExpire",
            "the request is more than 300 seconds off the server's clock",
        ));
    }
    let secret_key = secret_key_of(&parsed.secret_id)
        .ok_or_else(|| reject("AuthFailure.SecretIdNotFound", "the SecretId is unknown"))?;
    for required in ["content-type", "host"] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(reject("AuthFailure.SignatureFailure", format!("{required} is not signed")));
        }
    }
    let values: Vec<(String, String)> =
        parsed.signed_headers.iter().map(|name| (name.clone(), header(name).unwrap_or_default().to_owned())).collect();
    let signed: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = Tc3Request { service, timestamp, signed_headers: &signed, body };
    if parsed.service != service || parsed.date != request.date() || request.signature(&secret_key) != parsed.signature
    {
        return Err(reject(
            "AuthFailure.SignatureFailure",
            "the request signature we calculated does not match the signature you provided",
        ));
    }
    header("x-tc-action").map(str::to_owned).ok_or_else(|| reject("MissingParameter", "X-TC-Action is missing"))
}

/// `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`.
pub fn error_answer(rejection: &Rejection, request_id: &str) -> Value {
    json!({ "Response": { "Error": { "Code": rejection.code, "Message": rejection.message }, "RequestId": request_id } })
}

/// `{"Response": {…fields, "RequestId"}}`.
pub fn answer(mut fields: Value, request_id: &str) -> Value {
    fields["RequestId"] = json!(request_id);
    json!({ "Response": fields })
}
