//! `${VAR}` and `${file:PATH}` expansion in `ebb.yaml` string values. `$${`
//! writes a literal `${`. A file reference is replaced by the file's content
//! without its trailing line breaks (a relative PATH is relative to `ebb.yaml`'s
//! folder), so a secret can live in a file only its owner may read. Every unset
//! variable and unreadable file is reported, each with the key that uses it,
//! and never with a file's content.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// A secret file larger than this is refused (it is not a secret file).
const MAX_SECRET_FILE: u64 = 1 << 20;

/// How `${file:PATH}` references are treated.
#[derive(Debug, Clone, Copy)]
pub enum Files<'a> {
    /// Read, relative to this folder.
    ReadFrom(&'a Path),
    /// Left as written (validation, where the files need not exist).
    Keep,
}

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

/// A `${file:PATH}` that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableFile {
    pub path: PathBuf,
    pub key: String,
    /// Why, from the operating system (never the content).
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Expansion {
    pub unset: Vec<UnsetVariable>,
    pub malformed: Vec<BadReference>,
    pub unreadable: Vec<UnreadableFile>,
    /// What each `${file:}` gave, by the dotted key that used it: never to be
    /// shown, wherever it ends up (a file is where secrets live).
    pub from_files: Vec<(String, String)>,
}

/// Where `${...}` references are looked up.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub variables: &'a dyn Fn(&str) -> Option<String>,
    pub files: Files<'a>,
}

/// Expands every string scalar below `value` in place.
pub fn expand_tree(value: &mut Value, sources: Sources<'_>) -> Expansion {
    let mut expansion = Expansion::default();
    walk(value, &mut String::new(), sources, &mut expansion);
    expansion
}

fn walk(value: &mut Value, path: &mut String, lookup: Sources<'_>, out: &mut Expansion) {
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

fn expand_str(text: &str, key: &str, sources: Sources<'_>, out: &mut Expansion) -> Option<String> {
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
            if let Some(file) = name.strip_prefix("file:") {
                match read_reference(file, sources.files) {
                    Ok(content) => {
                        result.push_str(&content);
                        if matches!(sources.files, Files::ReadFrom(_)) {
                            out.from_files.push((key.to_owned(), content));
                        }
                    }
                    Err(reason) => {
                        let path = PathBuf::from(file);
                        out.unreadable.push(UnreadableFile { path, key: key.to_owned(), reason });
                        ok = false;
                    }
                }
            } else if !is_variable_name(name) {
                out.malformed.push(BadReference { text: format!("${{{name}}}"), key: key.to_owned() });
                ok = false;
            } else if let Some(value) = (sources.variables)(name) {
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

/// The content of a `${file:PATH}` without trailing line breaks, or why it cannot be had.
fn read_reference(file: &str, files: Files<'_>) -> Result<String, String> {
    let base = match files {
        Files::Keep => return Ok(format!("${{file:{file}}}")),
        Files::ReadFrom(base) => base,
    };
    if file.is_empty() {
        return Err("no path given (write ${file:/path/to/secret})".to_owned());
    }
    let path = base.join(file);
    let text = crate::bounded_read::read_text(&path, MAX_SECRET_FILE).map_err(|e| e.to_string())?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
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

    fn from_env() -> Sources<'static> {
        Sources { variables: &env, files: Files::Keep }
    }

    #[test]
    fn expands_nested_values_and_keeps_escapes() {
        let mut v: Value =
            serde_yaml::from_str("a: ${HOST}\nb: {c: 'x-${PASS}-y'}\nd: ['$${HOST}', 'cost $5']\n").unwrap();
        let e = expand_tree(&mut v, from_env());
        assert!(e.unset.is_empty() && e.malformed.is_empty(), "{e:?}");
        assert_eq!(v["a"], Value::from("broker:9092"));
        assert_eq!(v["b"]["c"], Value::from("x-s3cr$t-y"));
        assert_eq!(v["d"][0], Value::from("${HOST}"));
        assert_eq!(v["d"][1], Value::from("cost $5"));
    }

    #[test]
    fn reports_every_unset_variable_with_its_key() {
        let mut v: Value = serde_yaml::from_str("x: {y: '${NOPE1}'}\nz: ['${NOPE2} ${HOST}']\n").unwrap();
        let e = expand_tree(&mut v, from_env());
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
        let e = expand_tree(&mut v, from_env());
        assert_eq!(e.malformed.len(), 2, "{e:?}");
    }

    #[test]
    fn file_references_read_the_file_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        std::fs::write(dir.join("secrets/kafka"), "pa$$word\r\n").unwrap();
        let mut v: Value =
            serde_yaml::from_str("a: ${file:secrets/kafka}\nb: 'x${file:secrets/kafka}y'\nc: '$${file:kept}'\n")
                .unwrap();
        let e = expand_tree(&mut v, Sources { variables: &env, files: Files::ReadFrom(&dir) });
        assert!(e.unreadable.is_empty() && e.malformed.is_empty(), "{e:?}");
        assert_eq!(v["a"], Value::from("pa$$word"));
        assert_eq!(v["b"], Value::from("xpa$$wordy"));
        assert_eq!(v["c"], Value::from("${file:kept}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unreadable_file_is_reported_with_its_key_and_kept_files_stay_as_written() {
        let mut v: Value = serde_yaml::from_str("k: {p: '${file:/nonexistent/ebb-secret}'}\n").unwrap();
        let e = expand_tree(&mut v, Sources { variables: &env, files: Files::ReadFrom(Path::new("/")) });
        assert_eq!(e.unreadable.len(), 1, "{e:?}");
        assert_eq!(
            (e.unreadable[0].key.as_str(), e.unreadable[0].path.as_path()),
            ("k.p", Path::new("/nonexistent/ebb-secret"))
        );
        assert!(e.unreadable[0].reason.contains("No such file"), "{e:?}");
        let e = expand_tree(&mut v, from_env());
        assert!(e.unreadable.is_empty());
        assert_eq!(v["k"]["p"], Value::from("${file:/nonexistent/ebb-secret}"));
    }
}
