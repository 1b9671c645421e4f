//! Shape checks: a runbook's YAML tree against the JSON Schema generated from the
//! spec types, so the schema editors use and the checks ebb runs are one and the
//! same. It covers the subset schemars emits (`$ref`, `type`, `properties`,
//! `required`, `additionalProperties`, `propertyNames`, `items`, `enum`, `const`,
//! `anyOf`, exactly-one-key `oneOf`, `pattern`, `minimum`, `minItems`) plus ebb's
//! leaf keyword for values written as text (durations, times, templates), and it
//! reports every mismatch, not the first.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use serde_json::{Map, Value as Json};

use super::problem::Problem;
use super::spec::one_key::one_of_keys;
use super::spec::values::{LEAF_KEYWORD, check_leaf, is_template};
use super::yaml::{Node, Value};

/// Every shape problem of `root` against `schema` (a root schema with `$defs`).
pub fn check(root: &Node, schema: &Json) -> Vec<Problem> {
    let mut walker = Walker { defs: schema.get("$defs").and_then(Json::as_object), problems: Vec::new() };
    if let Some(schema) = schema.as_object() {
        walker.node(root, schema, "");
    }
    walker.problems
}

struct Walker<'s> {
    defs: Option<&'s Map<String, Json>>,
    problems: Vec<Problem>,
}

impl<'s> Walker<'s> {
    fn resolve(&self, schema: &'s Map<String, Json>) -> &'s Map<String, Json> {
        let target = schema.get("$ref").and_then(Json::as_str).and_then(|r| r.strip_prefix("#/$defs/"));
        match target.and_then(|name| self.defs?.get(name)?.as_object()) {
            Some(def) => self.resolve(def),
            None => schema,
        }
    }

    fn problem(&mut self, node: &Node, path: &str, message: String) {
        let message = if path.is_empty() { message } else { format!("{path}: {message}") };
        self.problems.push(Problem::new(node.at, message));
    }

    fn node(&mut self, node: &Node, schema: &'s Map<String, Json>, path: &str) {
        let schema = self.resolve(schema);
        if let Some(Json::Array(branches)) = schema.get("anyOf") {
            return self.any_of(node, branches, path);
        }
        if let Some(kind) = schema.get(LEAF_KEYWORD).and_then(Json::as_str) {
            return self.leaf(node, schema, kind, path);
        }
        if let Some(allowed) = schema.get("type")
            && !type_matches(allowed, node)
        {
            return self.problem(node, path, format!("expected {}, found {}", describe_types(allowed), found(node)));
        }
        if let Some(options) = enum_values(schema)
            && !options.contains(&node.to_json())
        {
            let names: Vec<String> = options.iter().map(|o| o.as_str().map_or(o.to_string(), str::to_owned)).collect();
            return self.problem(node, path, format!("must be one of {}, found {node}", names.join(", ")));
        }
        if let Some(constant) = schema.get("const")
            && &node.to_json() != constant
        {
            return self.problem(node, path, format!("takes `{constant}`, found {node}"));
        }
        match &node.value {
            Value::Map(_) => self.map(node, schema, path),
            Value::Seq(items) => {
                if let Some(min) = schema.get("minItems").and_then(Json::as_u64)
                    && (items.len() as u64) < min
                {
                    self.problem(node, path, format!("needs at least {min} item(s)"));
                }
                if let Some(item_schema) = schema.get("items").and_then(Json::as_object) {
                    for (i, item) in items.iter().enumerate() {
                        self.node(item, item_schema, &item_path(path, i, item));
                    }
                }
            }
            Value::Str(text) => {
                if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
                    && !matches_pattern(pattern, text)
                {
                    self.problem(node, path, format!("{node} does not match {pattern}"));
                }
            }
            Value::Int(i) => {
                if let Some(min) = schema.get("minimum").and_then(Json::as_i64)
                    && *i < min
                {
                    self.problem(node, path, format!("must be at least {min}, found {i}"));
                }
            }
            Value::Null | Value::Bool(_) | Value::Float(_) => {}
        }
    }

    /// `Option<T>` (T or null), and choices such as `all | none | [groups]`.
    fn any_of(&mut self, node: &Node, branches: &'s [Json], path: &str) {
        let branches: Vec<&Map<String, Json>> =
            branches.iter().filter_map(Json::as_object).map(|b| self.resolve(b)).collect();
        if matches!(node.value, Value::Null) && branches.iter().any(|b| b.get("type") == Some(&Json::from("null"))) {
            return;
        }
        let candidates: Vec<_> = branches.into_iter().filter(|b| b.get("type") != Some(&Json::from("null"))).collect();
        let fitting = candidates.iter().find(|b| fits(b, node));
        match (candidates.as_slice(), fitting) {
            ([only], _) => self.node(node, only, path),
            (_, Some(branch)) => self.node(node, branch, path),
            _ => {
                let expected: Vec<String> = candidates.iter().map(|b| describe_schema(b)).collect();
                self.problem(node, path, format!("expected {}, found {}", expected.join(" or "), found(node)));
            }
        }
    }

    fn leaf(&mut self, node: &Node, schema: &Map<String, Json>, kind: &str, path: &str) {
        match &node.value {
            Value::Null if schema.get("type").is_some_and(|t| type_matches(t, node)) => {}
            Value::Str(text) if is_template(text) => {}
            Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::Float(_) => {
                if let Some(Err(message)) = check_leaf(kind, &node.to_json()) {
                    self.problem(node, path, message);
                }
            }
            _ => self.problem(node, path, format!("expected {}, found {}", describe_leaf(kind), found(node))),
        }
    }

    fn map(&mut self, node: &Node, schema: &'s Map<String, Json>, path: &str) {
        let entries = node.entries();
        let properties = schema.get("properties").and_then(Json::as_object);
        let child = |key: &str| match path {
            "" => key.to_owned(),
            step if step.ends_with('`') => format!("{step}: {key}"),
            _ => format!("{path}.{key}"),
        };

        if let Some(Json::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Json::as_str) {
                if node.get(key).is_none() {
                    self.problem(node, path, format!("missing `{key}`"));
                }
            }
        }
        if let Some(keys) = one_of_keys(schema) {
            let present: Vec<_> = entries.iter().filter(|e| keys.contains(&e.key.as_str())).collect();
            match present.as_slice() {
                [] => self.problem(node, path, format!("needs exactly one of: {}", keys.join(", "))),
                [_] => {}
                [first, second, ..] => {
                    let message = format!("has both `{}` and `{}`; it takes exactly one", first.key, second.key);
                    self.problems.push(Problem::new(second.key_at, prefixed(path, message)));
                }
            }
        }
        let name_pattern = schema.get("propertyNames").and_then(|p| p.get("pattern")).and_then(Json::as_str);
        let additional = schema.get("additionalProperties");
        for entry in entries {
            if let Some(pattern) = name_pattern
                && !matches_pattern(pattern, &entry.key)
            {
                let message = format!("key `{}` must match {pattern}", entry.key);
                self.problems.push(Problem::new(entry.key_at, prefixed(path, message)));
                continue;
            }
            let property = properties.and_then(|p| p.get(&entry.key)).and_then(Json::as_object);
            match (property, additional) {
                (Some(property), _) => self.node(&entry.value, property, &child(&entry.key)),
                (None, Some(Json::Object(value_schema))) => self.node(&entry.value, value_schema, &child(&entry.key)),
                (None, Some(Json::Bool(false))) => {
                    let known: Vec<&str> =
                        properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    let mut message = format!("unknown key `{}`", entry.key);
                    if let Some(close) = closest(&entry.key, &known) {
                        message.push_str(&format!("; did you mean `{close}`?"));
                    }
                    message.push_str(&format!(" (expected one of: {})", known.join(", ")));
                    self.problems.push(Problem::new(entry.key_at, prefixed(path, message)));
                }
                (None, _) => {}
            }
        }
    }
}

/// Whether a node is of the kind a branch of a choice takes: its `type`, or the
/// kind of its listed values (`all | none` takes text, not a list).
fn fits(branch: &Map<String, Json>, node: &Node) -> bool {
    if let Some(t) = branch.get("type") {
        return type_matches(t, node);
    }
    match enum_values(branch) {
        Some(options) => {
            let kind = std::mem::discriminant(&node.to_json());
            options.iter().any(|o| std::mem::discriminant(o) == kind)
        }
        None => true,
    }
}

/// `enum`, or a `oneOf` of documented `const`s (how schemars writes an enum whose variants have docs).
fn enum_values(schema: &Map<String, Json>) -> Option<Vec<Json>> {
    if let Some(Json::Array(options)) = schema.get("enum") {
        return Some(options.clone());
    }
    let branches = schema.get("oneOf")?.as_array()?;
    branches.iter().map(|b| b.get("const").cloned()).collect()
}

fn prefixed(path: &str, message: String) -> String {
    if path.is_empty() { message } else { format!("{path}: {message}") }
}

/// Steps are named by their id (`step `find``), other list items by index.
fn item_path(path: &str, index: usize, item: &Node) -> String {
    match item.get("id").and_then(Node::as_str) {
        Some(id) if path == "steps" => format!("step `{id}`"),
        _ => format!("{path}[{index}]"),
    }
}

/// Schema patterns are few and fixed, so each is compiled once per process.
fn matches_pattern(pattern: &str, text: &str) -> bool {
    static COMPILED: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let mut compiled = COMPILED.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let regex = compiled.entry(pattern.to_owned()).or_insert_with(|| Regex::new(pattern).ok());
    regex.as_ref().is_none_or(|re| re.is_match(text))
}

fn type_matches(allowed: &Json, node: &Node) -> bool {
    let one = |t: &str| {
        matches!(
            (&node.value, t),
            (Value::Null, "null")
                | (Value::Bool(_), "boolean")
                | (Value::Int(_), "integer" | "number")
                | (Value::Float(_), "number")
                | (Value::Str(_), "string")
                | (Value::Seq(_), "array")
                | (Value::Map(_), "object")
        )
    };
    match allowed {
        Json::String(t) => one(t),
        Json::Array(types) => types.iter().filter_map(Json::as_str).any(one),
        _ => true,
    }
}

fn describe_type(t: &str) -> &'static str {
    match t {
        "integer" => "an integer",
        "number" => "a number",
        "string" => "text",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a map",
        _ => "nothing",
    }
}

fn describe_types(allowed: &Json) -> String {
    let names: Vec<&str> = match allowed {
        Json::String(t) => vec![describe_type(t)],
        Json::Array(types) => {
            types.iter().filter_map(Json::as_str).filter(|t| *t != "null").map(describe_type).collect()
        }
        _ => vec![],
    };
    names.join(" or ")
}

fn describe_leaf(kind: &str) -> String {
    let what = match kind {
        "integer" => "an integer",
        "partition" => "a partition number",
        "count" => "a whole number",
        "boolean" => "true or false",
        "duration" => "a duration such as 90s, 2h or 7d",
        "time" => "a time (RFC 3339, epoch milliseconds, now, -2h)",
        other => other,
    };
    format!("{what} or a template")
}

fn describe_schema(schema: &Map<String, Json>) -> String {
    if let Some(Json::Array(options)) = schema.get("enum") {
        let names: Vec<String> =
            options.iter().map(|o| o.as_str().map_or(o.to_string(), |s| format!("`{s}`"))).collect();
        return names.join(" or ");
    }
    schema.get("type").map(describe_types).unwrap_or_else(|| "a value".to_owned())
}

fn found(node: &Node) -> String {
    match node.value {
        Value::Seq(_) | Value::Map(_) | Value::Null => node.kind().to_owned(),
        _ => format!("{} {node}", node.kind()),
    }
}

/// The known key nearest to a misspelt one, when it is near enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known.iter().map(|k| (edit_distance(key, k), *k)).filter(|(d, k)| *d <= 2.max(k.len() / 4)).min().map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key() {
        assert_eq!(closest("grup", &["group", "topics", "strategy"]), Some("group"));
        assert_eq!(closest("stratgey", &["group", "topics", "strategy"]), Some("strategy"));
        assert_eq!(closest("banana", &["group", "topics", "strategy"]), None);
    }
}
