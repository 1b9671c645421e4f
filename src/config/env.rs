//! `${VAR}` expansion in `ebb.yaml` string values. `$${` writes a literal `${`.
//! Every unset variable is reported, each with the key that uses it.

use serde_yaml::Value;

/// A variable that `ebb.yaml` names but the environment does not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariable {
    pub variable: String,
    /// Dotted key path of the value that names it, e.g. `clusters.local.kafka.properties.sasl.password`.
    pub key: String,
}

/// A `${...}` that is not a variable reference ebb understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReference {
    pub text: String,
    pub key: String,
}

#[derive(Debug, Default)]
pub struct Expansion {
    pub unset: Vec<UnsetVariable>,
    pub malformed: Vec<BadReference>,
}

/// Expands every string scalar below `value` in place.
pub fn expand_tree(value: &mut Value, lookup: &dyn Fn(&str) -> Option<String>) -> Expansion {
    let mut expansion = Expansion::default();
    walk(value, &mut String::new(), lookup, &mut expansion);
    expansion
}

fn walk(value: &mut Value, path: &mut String, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Expansion) {
    match value {
        Value::String(text) if text.contains('$') => {
            if let Some(expanded) = expand_str(text, path, lookup, out) {
                *text = expanded;
            }
        }
        Value::Mapping(map) => {
            for (key, child) in map.iter_mut() {
                let before = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                match key {
                    Value::String(k) => path.push_str(k),
                    other => path.push_str(serde_yaml::to_string(other).unwrap_or_default().trim_end()),
                }
                walk(child, path, lookup, out);
                path.truncate(before);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                let before = path.len();
                path.push_str(&format!("[{i}]"));
                walk(child, path, lookup, out);
                path.truncate(before);
            }
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, lookup, out),
        _ => {}
    }
}

fn expand_str(text: &str, key: &str, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Expansion) -> Option<String> {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    let mut ok = true;
    while let Some(pos) = rest.find('$') {
        result.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            result.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(end) = tail.find('}') else {
                out.malformed.push(BadReference { text: after.to_owned(), key: key.to_owned() });
                return None;
            };
            let name = &tail[..end];
            if !is_variable_name(name) {
                out.malformed.push(BadReference { text: format!("${{{name}}}"), key: key.to_owned() });
                ok = false;
            } else if let Some(value) = lookup(name) {
                result.push_str(&value);
            } else {
                out.unset.push(UnsetVariable { variable: name.to_owned(), key: key.to_owned() });
                ok = false;
            }
            rest = &tail[end + 1..];
        } else {
            result.push('$');
            rest = &after[1..];
        }
    }
    result.push_str(rest);
    ok.then_some(result)
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("broker:9092".into()),
            "PASS" => Some("s3cr$t".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_nested_values_and_keeps_escapes() {
        let mut v: Value =
            serde_yaml::from_str("a: ${HOST}\nb: {c: 'x-${PASS}-y'}\nd: ['$${HOST}', 'cost $5']\n").unwrap();
        let e = expand_tree(&mut v, &env);
        assert!(e.unset.is_empty() && e.malformed.is_empty(), "{e:?}");
        assert_eq!(v["a"], Value::from("broker:9092"));
        assert_eq!(v["b"]["c"], Value::from("x-s3cr$t-y"));
        assert_eq!(v["d"][0], Value::from("${HOST}"));
        assert_eq!(v["d"][1], Value::from("cost $5"));
    }

    #[test]
    fn reports_every_unset_variable_with_its_key() {
        let mut v: Value = serde_yaml::from_str("x: {y: '${NOPE1}'}\nz: ['${NOPE2} ${HOST}']\n").unwrap();
        let e = expand_tree(&mut v, &env);
        assert_eq!(
            e.unset,
            vec![
                UnsetVariable { variable: "NOPE1".into(), key: "x.y".into() },
                UnsetVariable { variable: "NOPE2".into(), key: "z[0]".into() },
            ]
        );
    }

    #[test]
    fn malformed_references_are_reported() {
        let mut v: Value = serde_yaml::from_str("a: '${not closed'\nb: '${1BAD}'\n").unwrap();
        let e = expand_tree(&mut v, &env);
        assert_eq!(e.malformed.len(), 2, "{e:?}");
    }
}
