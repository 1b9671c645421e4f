//! The checks Huawei Cloud's API gateway makes before a DMS operation runs,
//! for the DMS emulator (crates/ebb-testkit): the `Authorization` header parsed, the canonical
//! request rebuilt from the method, the decoded path and query, the client's
//! own `SignedHeaders` list and the exact body bytes (or `UNSIGNED-PAYLOAD`),
//! the signature compared, `X-Sdk-Date` within 15 minutes of the server's clock.

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::percent_encoding::percent_decode;
use crate::provider::signing::sdk_hmac::{Payload, SdkHmacAuthorization, SdkHmacRequest, UNSIGNED_PAYLOAD};

/// How far `X-Sdk-Date` may be from the server's clock.
pub const CLOCK_SKEW_SECONDS: i64 = 15 * 60;
/// The gateway's code for a request whose AK/SK signature does not verify.
pub const AUTH_FAILED: &str = "APIGW.0301";

/// A request as the gateway received it.
pub struct Received<'a> {
    pub method: &'a str,
    /// The raw path, still percent-encoded.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Verifies a request; `secret_key_of` maps an access key to its secret key.
/// `Err` carries the gateway's message.
pub fn verify(
    request: &Received<'_>,
    now: DateTime<Utc>,
    secret_key_of: impl Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").ok_or("no Authorization header")?;
    let parsed = SdkHmacAuthorization::parse(authorization).ok_or("the Authorization header is malformed")?;
    let date = header("x-sdk-date").ok_or("no X-Sdk-Date header")?;
    let signed_at = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").map_err(|_| "X-Sdk-Date is malformed")?;
    if (now.naive_utc() - signed_at).num_seconds().abs() > CLOCK_SKEW_SECONDS {
        return Err("X-Sdk-Date is more than 15 minutes off the server's clock".into());
    }
    let secret_key = secret_key_of(&parsed.access_key).ok_or("verify aksk signature fail: unknown access key")?;
    if !parsed.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err("X-Sdk-Date is not signed".into());
    }
    let values: Vec<(String, String)> =
        parsed.signed_headers.iter().map(|name| (name.clone(), header(name).unwrap_or_default().to_owned())).collect();
    let signed: Vec<(&str, &str)> = values.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let pairs = query_pairs(request.query);
    let query: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = percent_decode(request.path);
    let payload = match header("x-sdk-content-sha256") {
        Some(UNSIGNED_PAYLOAD) => Payload::Unsigned,
        _ => Payload::Bytes(request.body),
    };
    let rebuilt =
        SdkHmacRequest { method: request.method, path: &path, query: &query, date, signed_headers: &signed, payload };
    if rebuilt.signature(&secret_key) != parsed.signature {
        return Err("Incorrect IAM authentication information: verify aksk signature fail".into());
    }
    Ok(())
}

/// A raw query string (`a=1&b=x%20y`) as decoded `(key, value)` pairs, in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(&key.replace('+', " ")), percent_decode(&value.replace('+', " ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "EBBTESTACCESSKEY0000";
    const SK: &str = "ebb-test-secret-key-for-dms";

    fn signed(method: &str, path: &str, query: &[(&str, &str)], date: &str, body: &[u8], sk: &str) -> HeaderMap {
        let headers = [("Content-Type", "application/json"), ("Host", "127.0.0.1:1"), ("X-Sdk-Date", date)];
        let request =
            SdkHmacRequest { method, path, query, date, signed_headers: &headers, payload: Payload::Bytes(body) };
        let mut map = HeaderMap::new();
        map.insert("authorization", request.authorization(AK, sk).parse().unwrap());
        for (name, value) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(name.to_lowercase().as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_good_request_passes_and_each_kind_of_tampering_fails() {
        let now = Utc::now();
        let date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let keys = |ak: &str| (ak == AK).then(|| SK.to_owned());
        let path = "/v2/p/instances/i/groups/a b/reset";
        let headers = signed("PUT", path, &[("limit", "2"), ("k", "x y")], &date, b"{}", SK);
        let received =
            |method, raw_path, query, body| Received { method, path: raw_path, query, headers: &headers, body };
        let raw = "/v2/p/instances/i/groups/a%20b/reset";
        assert_eq!(verify(&received("PUT", raw, Some("k=x%20y&limit=2"), b"{}"), now, keys), Ok(()));
        assert!(verify(&received("PUT", raw, Some("k=x%20y&limit=3"), b"{}"), now, keys).is_err(), "query changed");
        assert!(verify(&received("PUT", raw, Some("k=x%20y&limit=2"), b"{ }"), now, keys).is_err(), "body changed");
        assert!(verify(&received("POST", raw, Some("k=x%20y&limit=2"), b"{}"), now, keys).is_err(), "method changed");
        let late = now + chrono::Duration::minutes(16);
        assert!(
            verify(&received("PUT", raw, Some("k=x%20y&limit=2"), b"{}"), late, keys)
                .unwrap_err()
                .contains("15 minutes")
        );
        let wrong = signed("PUT", path, &[("limit", "2"), ("k", "x y")], &date, b"{}", "wrong");
        let bad = Received { method: "PUT", path: raw, query: Some("k=x%20y&limit=2"), headers: &wrong, body: b"{}" };
        assert!(verify(&bad, now, keys).unwrap_err().contains("verify aksk signature fail"));
    }
}
