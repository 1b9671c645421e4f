//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature.
//!
//! The canonical request is `POST`, `/`, an empty query, the signed headers
//! (`name:value`, both lowercased and trimmed, sorted by name), their names
//! joined by `;`, and the SHA-256 of the exact body bytes. The string to sign
//! adds the algorithm, the timestamp and the credential scope
//! (`date/service/tc3_request`, the date being the timestamp's UTC day); the
//! key is derived from `"TC3" + SecretKey` through the date, the service and
//! `tc3_request`.

use chrono::DateTime;

use super::digest::{hex, hmac_sha256, sha256_hex};
use super::{CanonicalHeaders, authorization_fields};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What a signature covers besides the key: the service (`ckafka`), the time,
/// the headers to sign (name, value; any case, any order) and the body.
pub struct Tc3Request<'a> {
    pub service: &'a str,
    pub timestamp: i64,
    pub signed_headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl Tc3Request<'_> {
    /// The UTC date of the timestamp, `YYYY-MM-DD`, the credential scope's first part.
    pub fn date(&self) -> String {
        DateTime::from_timestamp(self.timestamp, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }

    /// The signed header names, lowercased, sorted, joined by `;`.
    pub fn signed_header_names(&self) -> String {
        self.headers().names()
    }

    pub fn canonical_request(&self) -> String {
        let headers = self.headers();
        format!("POST\n/\n\n{}\n{}\n{}", headers.lines(), headers.names(), sha256_hex(self.body))
    }

    fn headers(&self) -> CanonicalHeaders {
        CanonicalHeaders::new(self.signed_headers, true)
    }

    pub fn string_to_sign(&self) -> String {
        format!(
            "{ALGORITHM}\n{}\n{}/{}/tc3_request\n{}",
            self.timestamp,
            self.date(),
            self.service,
            sha256_hex(self.canonical_request().as_bytes())
        )
    }

    /// The hex signature under `secret_key`.
    pub fn signature(&self, secret_key: &str) -> String {
        let date_key = hmac_sha256(format!("TC3{secret_key}").as_bytes(), self.date().as_bytes());
        let service_key = hmac_sha256(&date_key, self.service.as_bytes());
        let signing_key = hmac_sha256(&service_key, b"tc3_request");
        hex(&hmac_sha256(&signing_key, self.string_to_sign().as_bytes()))
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, secret_id: &str, secret_key: &str) -> String {
        format!(
            "{ALGORITHM} Credential={secret_id}/{}/{}/tc3_request, SignedHeaders={}, Signature={}",
            self.date(),
            self.service,
            self.signed_header_names(),
            self.signature(secret_key)
        )
    }
}

/// An `Authorization` header taken apart, as a verifier reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct Tc3Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    /// Lowercase header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Tc3Authorization {
    pub fn parse(header: &str) -> Option<Self> {
        let [credential, signed, signature] =
            authorization_fields(header, ALGORITHM, ["Credential", "SignedHeaders", "Signature"])?;
        let mut scope = credential.split('/');
        let (secret_id, date, service) = (scope.next()?, scope.next()?, scope.next()?);
        if scope.next()? != "tc3_request" || scope.next().is_some() {
            return None;
        }
        Some(Tc3Authorization {
            secret_id: secret_id.to_owned(),
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers: signed.split(';').map(str::to_owned).collect(),
            signature: signature.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official worked example in Tencent Cloud's signature documentation.
    /// The body's `\u672a…` escapes are literal backslash sequences.
    const BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const HEADERS: [(&str, &str); 3] = [
        ("X-TC-Action", "DescribeInstances"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Host", "cvm.tencentcloudapi.com"),
    ];

    fn example() -> Tc3Request<'static> {
        Tc3Request { service: "cvm", timestamp: 1551113065, signed_headers: &HEADERS, body: BODY.as_bytes() }
    }

    #[test]
    fn the_official_example_hashes_and_signs_as_published() {
        let request = example();
        assert_eq!(sha256_hex(BODY.as_bytes()), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
        assert_eq!(
            request.canonical_request(),
            format!(
                "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n{}",
                sha256_hex(BODY.as_bytes())
            )
        );
        assert_eq!(
            sha256_hex(request.canonical_request().as_bytes()),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        assert_eq!(request.date(), "2019-02-25");
        assert_eq!(
            request.string_to_sign(),
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        assert_eq!(
            request.signature("Gu5t9xGARNpq86cd98joQYCN3*******"),
            "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"
        );
        assert_eq!(
            request.signature(&"*".repeat(32)),
            "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
        );
    }

    #[test]
    fn the_authorization_header_reads_back() {
        let request = example();
        let header = request.authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******");
        assert_eq!(
            header,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"
        );
        let parsed = Tc3Authorization::parse(&header).unwrap();
        assert_eq!(parsed.signed_headers, ["content-type", "host", "x-tc-action"]);
        assert_eq!((parsed.date.as_str(), parsed.service.as_str()), ("2019-02-25", "cvm"));
        assert_eq!(
            Tc3Authorization::parse("TC3-HMAC-SHA256 Credential=a/b/c/other, SignedHeaders=x, Signature=y"),
            None
        );
    }

    #[test]
    fn any_change_to_what_is_signed_changes_the_signature() {
        let key = "Gu5t9xGARNpq86cd98joQYCN3*******";
        let base = example().signature(key);
        let mut later = example();
        later.timestamp += 1;
        let mut body = example();
        body.body = b"{}";
        let headers = [HEADERS[0], HEADERS[1], ("Host", "ckafka.tencentcloudapi.com")];
        let mut host = example();
        host.signed_headers = &headers;
        for other in [later, body, host] {
            assert_ne!(other.signature(key), base);
        }
        assert_ne!(example().signature("another key"), base);
    }
}
