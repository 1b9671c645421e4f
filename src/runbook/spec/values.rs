//! Leaf values of a runbook that may be written literally or as a template:
//! `to_offset: 120` or `to_offset: "{{params.offset}}"`. A literal is checked
//! when the runbook is validated; a template is checked after it renders, when
//! the run knows its params and the outputs of earlier steps.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{HumanDuration, TimeSpec};

/// The schema keyword that tells validation how to read a leaf written as text.
pub const LEAF_KEYWORD: &str = "x-ebb-value";

/// A leaf type that can be read from YAML scalars and from rendered template text.
pub trait Leaf: Sized {
    /// Its name in schemas and messages.
    const KIND: &'static str;
    /// JSON types a literal may have besides text.
    const LITERAL_TYPES: &'static [&'static str];
    /// Reads the leaf from text: a YAML string or a rendered template.
    fn from_text(text: &str) -> Result<Self, String>;
    /// Reads the leaf from a YAML scalar.
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        match value {
            serde_json::Value::String(s) => Self::from_text(s),
            other => Self::from_text(&other.to_string()),
        }
    }
    /// The leaf as it is written back out (plans, history).
    fn to_json(&self) -> serde_json::Value;
}

/// Checks a literal leaf of the named kind; `None` when the kind is not a leaf.
pub fn check_leaf(kind: &str, value: &serde_json::Value) -> Option<Result<(), String>> {
    fn check<T: Leaf>(value: &serde_json::Value) -> Result<(), String> {
        T::from_json(value).map(drop)
    }
    Some(match kind {
        i64::KIND => check::<i64>(value),
        Partition::KIND => check::<Partition>(value),
        Count::KIND => check::<Count>(value),
        bool::KIND => check::<bool>(value),
        HumanDuration::KIND => check::<HumanDuration>(value),
        TimeSpec::KIND => check::<TimeSpec>(value),
        _ => return None,
    })
}

/// True when text holds a template to render rather than a literal.
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
}

/// A leaf written literally or as a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Templated<T> {
    /// Written literally and already checked.
    Literal(T),
    /// Template text, read as the leaf type once rendered.
    Template(String),
}

impl<T: Leaf> Templated<T> {
    /// The value, rendering a template with `render` first.
    pub fn resolve<E>(&self, render: impl FnOnce(&str) -> Result<String, E>) -> Result<Result<T, String>, E>
    where
        T: Clone,
    {
        Ok(match self {
            Templated::Literal(value) => Ok(value.clone()),
            Templated::Template(text) => T::from_text(render(text)?.trim()),
        })
    }
}

impl<'de, T: Leaf> Deserialize<'de> for Templated<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match &value {
            serde_json::Value::String(s) if is_template(s) => Ok(Templated::Template(s.clone())),
            other => T::from_json(other).map(Templated::Literal).map_err(serde::de::Error::custom),
        }
    }
}

impl<T: Leaf> Serialize for Templated<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Templated::Literal(value) => value.to_json().serialize(serializer),
            Templated::Template(text) => serializer.serialize_str(text),
        }
    }
}

impl<T: Leaf> JsonSchema for Templated<T> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("Templated_{}", T::KIND))
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut types: Vec<&str> = T::LITERAL_TYPES.to_vec();
        if !types.contains(&"string") {
            types.push("string");
        }
        json_schema!({ "type": types, LEAF_KEYWORD: T::KIND })
    }
}

impl Leaf for i64 {
    const KIND: &'static str = "integer";
    const LITERAL_TYPES: &'static [&'static str] = &["integer"];
    fn from_text(text: &str) -> Result<Self, String> {
        text.trim().parse().map_err(|_| format!("expected an integer, found {}", crate::shown::quoted(text)))
    }
    fn to_json(&self) -> serde_json::Value {
        (*self).into()
    }
}

impl Leaf for bool {
    const KIND: &'static str = "boolean";
    const LITERAL_TYPES: &'static [&'static str] = &["boolean"];
    fn from_text(text: &str) -> Result<Self, String> {
        match text.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("expected true or false, found {}", crate::shown::quoted(text))),
        }
    }
    fn to_json(&self) -> serde_json::Value {
        (*self).into()
    }
}

/// A partition number: 0 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition(pub i32);

impl Leaf for Partition {
    const KIND: &'static str = "partition";
    const LITERAL_TYPES: &'static [&'static str] = &["integer"];
    fn from_text(text: &str) -> Result<Self, String> {
        match text.trim().parse::<i32>() {
            Ok(p) if p >= 0 => Ok(Partition(p)),
            _ => Err(format!("expected a partition number (0 or more), found {}", crate::shown::quoted(text))),
        }
    }
    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

/// A count or a limit: 0 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count(pub u64);

impl Leaf for Count {
    const KIND: &'static str = "count";
    const LITERAL_TYPES: &'static [&'static str] = &["integer"];
    fn from_text(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map(Count)
            .map_err(|_| format!("expected a whole number (0 or more), found {}", crate::shown::quoted(text)))
    }
    fn to_json(&self) -> serde_json::Value {
        self.0.into()
    }
}

impl Leaf for HumanDuration {
    const KIND: &'static str = "duration";
    const LITERAL_TYPES: &'static [&'static str] = &["string"];
    fn from_text(text: &str) -> Result<Self, String> {
        HumanDuration::parse(text).map_err(|e| e.to_string())
    }
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        match value {
            serde_json::Value::String(s) => Self::from_text(s),
            other => Err(format!("expected a duration such as 90s, 2h or 7d, found {other}")),
        }
    }
    fn to_json(&self) -> serde_json::Value {
        self.text.clone().into()
    }
}

impl Leaf for TimeSpec {
    const KIND: &'static str = "time";
    const LITERAL_TYPES: &'static [&'static str] = &["string", "integer"];
    fn from_text(text: &str) -> Result<Self, String> {
        TimeSpec::parse(text).map_err(|e| e.to_string())
    }
    fn to_json(&self) -> serde_json::Value {
        self.to_string().into()
    }
}

/// A duration that is never templated (step `timeout`, schedule `jitter`).
pub type Duration = HumanDuration;

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Duration")
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", LEAF_KEYWORD: HumanDuration::KIND })
    }
}

/// The `true` that flag-like choices take: `strategy: { to_earliest: true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag;

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match bool::deserialize(deserializer)? {
            true => Ok(Flag),
            false => Err(serde::de::Error::custom("this choice takes `true`")),
        }
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(true)
    }
}

impl JsonSchema for Flag {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Flag")
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_templates_deserialize() {
        let t: Templated<i64> = serde_json::from_value(serde_json::json!(12)).unwrap();
        assert_eq!(t, Templated::Literal(12));
        let t: Templated<i64> = serde_json::from_value(serde_json::json!("12")).unwrap();
        assert_eq!(t, Templated::Literal(12));
        let t: Templated<i64> = serde_json::from_value(serde_json::json!("{{params.n}}")).unwrap();
        assert_eq!(t, Templated::Template("{{params.n}}".into()));
        assert!(serde_json::from_value::<Templated<i64>>(serde_json::json!("twelve")).is_err());
    }

    #[test]
    fn a_rendered_template_is_read_as_the_leaf_type() {
        let t: Templated<Partition> = Templated::Template("{{params.p}}".into());
        assert_eq!(t.resolve(|_| Ok::<_, ()>(" 3 ".into())).unwrap(), Ok(Partition(3)));
        assert!(t.resolve(|_| Ok::<_, ()>("-1".into())).unwrap().is_err());
    }

    #[test]
    fn leaves_check_by_kind() {
        assert_eq!(check_leaf("duration", &"7d".into()), Some(Ok(())));
        assert!(check_leaf("duration", &"7 days".into()).unwrap().is_err());
        assert!(check_leaf("time", &serde_json::json!(1763686800000_i64)).unwrap().is_ok());
        assert!(check_leaf("count", &serde_json::json!(-1)).unwrap().is_err());
        assert_eq!(check_leaf("no-such-kind", &"x".into()), None);
    }
}

/// Offsets per partition, written as a map from partition number to offset.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct PartitionOffsets(pub std::collections::BTreeMap<String, Templated<i64>>);

impl JsonSchema for PartitionOffsets {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("PartitionOffsets")
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let offset = generator.subschema_for::<Templated<i64>>();
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[0-9]+$" },
            "additionalProperties": offset,
        })
    }
}
