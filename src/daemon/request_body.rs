//! The JSON bodies the API's POST endpoints take, and how they are read: an
//! empty body is `{}`, unknown fields are refused, nothing else is assumed.
//! Public so that the fuzzer (fuzz/) reads bodies exactly as the daemon does.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `POST /runbooks/{name}/runs`: params for a fresh plan, or a saved plan's id.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub plan_id: Option<String>,
    /// The SHA-256 of the runbook file the caller means: the daemon refuses
    /// (409) when its own copy differs, rather than run something else.
    #[serde(default)]
    pub runbook_sha256: Option<String>,
}

/// `POST /runbooks/{name}/plan`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[serde(default)]
    pub params: Map<String, Value>,
    /// As in [`RunBody::runbook_sha256`].
    #[serde(default)]
    pub runbook_sha256: Option<String>,
}

/// `POST /runs/{id}/rollback`.
/// A plan the caller was shown and did not confirm.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// It was not confirmed because nobody could be asked (no terminal, no `--yes`).
    #[serde(default)]
    pub no_terminal: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (kept in history; at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// Plan the rollback and stop.
    #[serde(default)]
    pub plan_only: bool,
}

impl RunBody {
    pub fn params(&self) -> Vec<(String, Value)> {
        self.params.clone().into_iter().collect()
    }
}

impl PlanBody {
    pub fn params(&self) -> Vec<(String, Value)> {
        self.params.clone().into_iter().collect()
    }
}

/// Why a request body was refused; its message is what the 400 carries.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Not JSON, or an object with a key twice.
    #[error("invalid JSON body: {0}")]
    Syntax(serde_json::Error),
    #[error("invalid JSON body: it must be an object ({{...}})")]
    NotAnObject,
    /// JSON, but not the fields the request takes.
    #[error("invalid JSON body: {0}")]
    Fields(serde_json::Error),
}

/// A body read as `T`. A body is a JSON object whose keys, at every depth,
/// appear once: serde would read a struct from an array, and keep the last
/// of two equal keys, so both are refused first.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let Strict(value) = serde_json::from_slice(text).map_err(BodyError::Syntax)?;
    if !value.is_object() {
        return Err(BodyError::NotAnObject);
    }
    serde_json::from_value(value).map_err(BodyError::Fields)
}

/// A JSON value read with every object's keys checked for repeats.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {} appears twice",
                    crate::shown::quoted(&key)
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_and_repeated_keys_are_refused() {
        assert!(parse::<PlanBody>(b"[]").unwrap_err().to_string().contains("must be an object"));
        assert!(parse::<PlanBody>(b"[{}]").unwrap_err().to_string().contains("must be an object"));
        let twice = parse::<PlanBody>(br#"{"params": {"group": "a", "group": "b"}}"#).unwrap_err().to_string();
        assert!(twice.contains("the key \"group\" appears twice"), "{twice}");
        assert!(parse::<PlanBody>(br#"{"params": {}, "params": {}}"#).is_err());
        let body: PlanBody = parse(br#"{"params": {"group": "a", "list": [1, {"x": 2}]}}"#).unwrap();
        assert_eq!(body.params["group"], "a");
        assert!(parse::<PlanBody>(b"  ").is_ok(), "an empty body is {{}}");
    }
}
