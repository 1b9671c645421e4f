//! Request signing for the cloud management APIs: Tencent Cloud's
//! TC3-HMAC-SHA256 ([`tc3`]) and Huawei Cloud APIG's SDK-HMAC-SHA256
//! ([`sdk_hmac`]). Both are pure functions of the request bytes, the time and
//! the key, proven by the vendors' published test vectors. The pieces a
//! verifier needs (canonical request, signature) are public too, so the test
//! emulators check a client's request exactly as the clouds do.

mod digest;
pub mod sdk_hmac;
pub mod sdk_hmac_verify;
pub mod tc3;
pub mod tc3_verify;

pub use digest::{hex, hmac_sha256, sha256_hex};

/// The signed headers in canonical order: names lowercased and sorted, values
/// trimmed (and lowercased too where the scheme says so, as TC3 does).
struct CanonicalHeaders(Vec<(String, String)>);

impl CanonicalHeaders {
    fn new(headers: &[(&str, &str)], lowercase_values: bool) -> Self {
        let mut canonical: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| {
                let value = value.trim();
                (name.trim().to_lowercase(), if lowercase_values { value.to_lowercase() } else { value.to_owned() })
            })
            .collect();
        canonical.sort();
        CanonicalHeaders(canonical)
    }

    /// `name:value\n` for each header.
    fn lines(&self) -> String {
        self.0.iter().map(|(name, value)| format!("{name}:{value}\n")).collect()
    }

    /// The names joined by `;`.
    fn names(&self) -> String {
        self.0.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(";")
    }
}

/// The values of an `Authorization` header after `algorithm`: a `Key=Value`
/// list separated by commas holding exactly `keys`, in any order.
fn authorization_fields<'a, const N: usize>(header: &'a str, algorithm: &str, keys: [&str; N]) -> Option<[&'a str; N]> {
    let rest = header.strip_prefix(algorithm)?.trim_start();
    let mut values: [Option<&str>; N] = [None; N];
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        let slot = keys.iter().position(|k| *k == key)?;
        values[slot] = Some(value);
    }
    let mut found = [""; N];
    for (slot, value) in found.iter_mut().zip(values) {
        *slot = value?;
    }
    Some(found)
}
