//! Param values: typed checks for defaults, `--set key=value` on the command
//! line and `params` in API requests, and the resolved map a run's templates see.
//! `duration` and `time` values are checked, then kept as written so that
//! `-{{params.window}}` renders `-1h`; `list` is a list of text.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value as Json};

use super::spec::{ParamSpec, ParamType};
use crate::time::{HumanDuration, TimeSpec};

impl ParamType {
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Bool => "bool",
            ParamType::Duration => "duration",
            ParamType::Time => "time",
            ParamType::List => "list",
        }
    }

    /// Checks a value of this type and returns it in its canonical JSON form.
    /// Text is accepted for every type (it is what `--set` gives).
    pub fn accept(self, value: &Json) -> Result<Json, String> {
        let text = || match value {
            Json::String(s) => Some(s.trim().to_owned()),
            Json::Number(n) => Some(n.to_string()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let wrong = || format!("expected {}, found {}", self.describe(), shown_value(value));
        match self {
            ParamType::String => text().map(Json::String).ok_or_else(wrong),
            ParamType::Int => match value {
                Json::Number(n) if n.is_i64() => Ok(value.clone()),
                Json::String(s) => s.trim().parse::<i64>().map(Json::from).map_err(|_| wrong()),
                _ => Err(wrong()),
            },
            ParamType::Bool => match (value, text().as_deref()) {
                (Json::Bool(_), _) => Ok(value.clone()),
                (Json::String(_), Some("true")) => Ok(Json::Bool(true)),
                (Json::String(_), Some("false")) => Ok(Json::Bool(false)),
                _ => Err(wrong()),
            },
            ParamType::Duration => match value {
                Json::String(s) => HumanDuration::parse(s).map(|d| Json::String(d.text)).map_err(|e| e.to_string()),
                _ => Err(wrong()),
            },
            ParamType::Time => {
                let text = text().filter(|_| !value.is_boolean()).ok_or_else(wrong)?;
                TimeSpec::parse(&text).map(|_| Json::String(text)).map_err(|e| e.to_string())
            }
            ParamType::List => match value {
                Json::Array(items) => items
                    .iter()
                    .map(|item| ParamType::String.accept(item))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Json::Array)
                    .map_err(|_| format!("expected a list of text, found {}", shown_value(value))),
                Json::String(s) if s.trim().is_empty() => Ok(Json::Array(Vec::new())),
                Json::String(s) => Ok(Json::Array(s.split(',').map(|p| Json::String(p.trim().to_owned())).collect())),
                _ => Err(wrong()),
            },
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ParamType::String => "text",
            ParamType::Int => "a whole number",
            ParamType::Bool => "true or false",
            ParamType::Duration => "a duration such as 90s, 2h or 7d",
            ParamType::Time => "a time (RFC 3339, epoch milliseconds, now, -2h)",
            ParamType::List => "a list",
        }
    }
}

/// A param's value as an error quotes it: text as itself, anything else as JSON.
fn shown_value(value: &Json) -> String {
    match value {
        Json::String(text) => crate::shown::quoted(text),
        other => crate::shown::quoted(&other.to_string()),
    }
}

/// One thing wrong with the params given to a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// `--set` without `=`.
    Malformed {
        text: String,
    },
    Unknown {
        name: String,
        known: Vec<String>,
    },
    Invalid {
        name: String,
        kind: ParamType,
        message: String,
    },
    Missing {
        name: String,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Malformed { text } => write!(f, "--set {} is not key=value", crate::shown::quoted(text)),
            ParamError::Unknown { name, known } if known.is_empty() => {
                write!(f, "unknown param `{}`: this runbook declares no params", crate::shown::bare(name))
            }
            ParamError::Unknown { name, known } => {
                write!(f, "unknown param `{}` (params: {})", crate::shown::bare(name), known.join(", "))
            }
            ParamError::Invalid { name, kind, message } => write!(f, "param `{name}` ({}): {message}", kind.name()),
            ParamError::Missing { name } => write!(f, "param `{name}` is required: pass --set {name}=…"),
        }
    }
}

/// Every problem with a run's params.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ParamErrors(pub Vec<ParamError>);

/// Splits `--set key=value` arguments; the values stay text until typed.
pub fn parse_sets(sets: &[String]) -> Result<Vec<(String, Json)>, ParamErrors> {
    let mut pairs = Vec::new();
    let mut errors = Vec::new();
    for set in sets {
        match set.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                pairs.push((key.trim().to_owned(), Json::String(value.to_owned())))
            }
            _ => errors.push(ParamError::Malformed { text: set.clone() }),
        }
    }
    if errors.is_empty() { Ok(pairs) } else { Err(ParamErrors(errors)) }
}

/// The params a run sees: given values over defaults, each checked against its
/// type; undeclared names and missing required params are errors. A param with
/// neither a value nor a default is `null`.
pub fn resolve(
    specs: &BTreeMap<String, ParamSpec>,
    given: &[(String, Json)],
) -> Result<Map<String, Json>, ParamErrors> {
    let mut errors = Vec::new();
    let mut values = Map::new();
    for (name, value) in given {
        let Some(spec) = specs.get(name) else {
            errors.push(ParamError::Unknown { name: name.clone(), known: specs.keys().cloned().collect() });
            continue;
        };
        match spec.kind.accept(value) {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(message) => errors.push(ParamError::Invalid { name: name.clone(), kind: spec.kind, message }),
        }
    }
    for (name, spec) in specs {
        if values.contains_key(name)
            || errors.iter().any(|e| matches!(e, ParamError::Invalid { name: n, .. } if n == name))
        {
            continue;
        }
        match &spec.default {
            _ if spec.required => errors.push(ParamError::Missing { name: name.clone() }),
            Some(default) => match spec.kind.accept(default) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(message) => errors.push(ParamError::Invalid { name: name.clone(), kind: spec.kind, message }),
            },
            None => {
                values.insert(name.clone(), Json::Null);
            }
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(ParamErrors(errors)) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn specs() -> BTreeMap<String, ParamSpec> {
        let spec = |kind, default: Option<Json>, required| ParamSpec { kind, default, required, description: None };
        BTreeMap::from([
            ("topic".to_owned(), spec(ParamType::String, Some(json!("orders")), false)),
            ("max".to_owned(), spec(ParamType::Int, Some(json!(100)), false)),
            ("force".to_owned(), spec(ParamType::Bool, Some(json!(false)), false)),
            ("window".to_owned(), spec(ParamType::Duration, Some(json!("1h")), false)),
            ("since".to_owned(), spec(ParamType::Time, None, false)),
            ("groups".to_owned(), spec(ParamType::List, Some(json!(["a", "b"])), false)),
            ("group".to_owned(), spec(ParamType::String, None, true)),
        ])
    }

    fn set(args: &[&str]) -> Vec<(String, Json)> {
        parse_sets(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn sets_override_defaults_with_type_checks() {
        let values = resolve(
            &specs(),
            &set(&["group=billing", "max=5", "force=true", "window=PT2H", "since=-2h", "groups=x, y"]),
        )
        .unwrap();
        assert_eq!(values["topic"], json!("orders"));
        assert_eq!(values["max"], json!(5));
        assert_eq!(values["force"], json!(true));
        assert_eq!(values["window"], json!("PT2H"));
        assert_eq!(values["since"], json!("-2h"));
        assert_eq!(values["groups"], json!(["x", "y"]));
        assert_eq!(values["group"], json!("billing"));
    }

    #[test]
    fn every_problem_is_reported() {
        let errors = resolve(&specs(), &set(&["max=lots", "force=yes", "window=7 days", "since=later", "colour=red"]))
            .unwrap_err()
            .to_string();
        for expected in [
            "param `max` (int): expected a whole number, found \"lots\"",
            "param `force` (bool): expected true or false",
            "param `window` (duration): invalid duration \"7 days\"",
            "param `since` (time): invalid time \"later\"",
            "unknown param `colour` (params: force, group, groups, max, since, topic, window)",
            "param `group` is required: pass --set group=…",
        ] {
            assert!(errors.contains(expected), "missing {expected:?} in {errors}");
        }
        assert_eq!(parse_sets(&["novalue".to_owned()]).unwrap_err().to_string(), "--set \"novalue\" is not key=value");
    }

    #[test]
    fn an_optional_param_without_default_is_null() {
        let values = resolve(&specs(), &set(&["group=g"])).unwrap();
        assert_eq!(values["since"], Json::Null);
    }
}
