//! Schema shape for "a map with exactly one of these keys" — step kinds,
//! `strategy`, `before`. schemars describes such an enum as a `oneOf` of
//! single-key objects; this rewrites it to one object that lists every key under
//! `properties`, forbids other keys, and requires exactly one of them. Editors
//! then complete every key, and validation can say "exactly one of …".

use schemars::Schema;
use serde_json::{Map, Value};

/// Rewrites `schema` in place (a schemars `transform`).
pub fn exactly_one_key(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else { return };
    let Some(Value::Array(branches)) = object.remove("oneOf") else { return };
    let mut properties = match object.remove("properties") {
        Some(Value::Object(existing)) => existing,
        _ => Map::new(),
    };
    let mut choices = Vec::new();
    for branch in branches {
        let Value::Object(mut branch) = branch else { continue };
        let Some(Value::Object(branch_properties)) = branch.remove("properties") else { continue };
        for (key, mut property) in branch_properties {
            if let (Some(Value::String(doc)), Value::Object(p)) = (branch.get("description"), &mut property) {
                p.entry("description").or_insert_with(|| Value::String(doc.clone()));
            }
            choices.push(serde_json::json!({ "required": [key.clone()] }));
            properties.insert(key, property);
        }
    }
    object.insert("type".into(), "object".into());
    object.insert("properties".into(), Value::Object(properties));
    object.insert("additionalProperties".into(), false.into());
    object.insert("oneOf".into(), Value::Array(choices));
}

/// The keys of which exactly one must be present, when `schema` has this shape.
pub fn one_of_keys(schema: &Map<String, Value>) -> Option<Vec<&str>> {
    let branches = schema.get("oneOf")?.as_array()?;
    branches
        .iter()
        .map(|b| match b.get("required")?.as_array()?.as_slice() {
            [Value::String(key)] if b.as_object()?.len() == 1 => Some(key.as_str()),
            _ => None,
        })
        .collect()
}
