//! Values that must never be printed: a `Secret` redacts itself in `Debug` and
//! `Display`, and a `Redactor` scrubs known secret values out of text that came
//! from elsewhere (librdkafka error strings, HTTP error bodies) before ebb shows it.

use std::fmt;

use serde::{Deserialize, Deserializer};

const REDACTED: &str = "***";

/// A credential from `ebb.yaml`. Only `expose` gives the value, and only the
/// code that hands it to a client library calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Whether a librdkafka property carries a credential, judged by its name.
pub fn is_sensitive_property(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "credential", ".pem", "sasl.jaas", "key"].iter().any(|marker| name.contains(marker))
        && name != "ssl.key.location"
}

/// Replaces every known secret value in a piece of text with `***`.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = values.into_iter().map(Into::into).filter(|v| !v.is_empty()).collect();
        // Longest first, so a secret that contains another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), REDACTED);
            }
        }
        out
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} values)", self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn redactor_replaces_every_occurrence_longest_first() {
        let r = Redactor::new(["abc", "abcdef", ""]);
        assert_eq!(r.redact("x abcdef y abc"), "x *** y ***");
    }

    #[test]
    fn sensitive_property_names() {
        for name in ["sasl.password", "ssl.key.password", "ssl.key.pem", "sasl.oauthbearer.client.secret"] {
            assert!(is_sensitive_property(name), "{name}");
        }
        for name in ["bootstrap.servers", "security.protocol", "sasl.mechanism", "ssl.key.location"] {
            assert!(!is_sensitive_property(name), "{name}");
        }
    }
}
