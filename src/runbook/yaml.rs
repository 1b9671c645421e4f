//! YAML read into a tree that remembers where every node came from, so that each
//! problem validation finds can name its line and column. Scalars are typed by
//! the YAML 1.2 core schema (`true`, `12`, `null`…); quoted scalars are always
//! text. Duplicate keys are problems, not silent overwrites.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::problem::{Location, Problem};

/// One node of a YAML document and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Location,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry; keys are kept as text with their own location.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_at: Location,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("found a list").
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// The same data as JSON, for typed deserialization once the shape is known to be right.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }
}

/// A scalar as the user wrote it, for messages.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Seq(_) => f.write_str("a list"),
            Value::Map(_) => f.write_str("a map"),
        }
    }
}

/// Parses one YAML document. A syntax error ends the parse (YAML cannot be read
/// past it); duplicate keys are collected and parsing goes on.
pub fn parse(text: &str) -> (Option<Node>, Vec<Problem>) {
    let mut builder = Builder::default();
    let outcome = Parser::new_from_str(text).load(&mut builder, true);
    let mut problems = builder.problems;
    if let Err(e) = outcome {
        problems.push(Problem::new(location(e.marker()), format!("YAML syntax error: {}", e.info())));
        return (None, problems);
    }
    if builder.documents.len() > 1 {
        problems.push(Problem::new(builder.documents[1].at, "a runbook file holds one YAML document, not several"));
    }
    let root = builder.documents.into_iter().next();
    (root, problems)
}

fn location(mark: &Marker) -> Location {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Location { line: mark.line(), column: mark.col() + 1 }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    problems: Vec<Problem>,
}

enum Open {
    Seq { at: Location, anchor: usize, items: Vec<Node> },
    Map { at: Location, anchor: usize, entries: Vec<Entry>, pending_key: Option<(String, Location)> },
}

impl Builder {
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, pending_key, .. }) => match pending_key.take() {
                None => {
                    let key = match node.value {
                        Value::Str(s) => s,
                        _ => node.to_string(),
                    };
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        let first_line = first.key_at.line;
                        self.problems.push(Problem::new(
                            node.at,
                            format!("duplicate key `{key}` (first set on line {first_line})"),
                        ));
                    }
                    *pending_key = Some((key, node.at));
                }
                Some((key, key_at)) => entries.push(Entry { key, key_at, value: node }),
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = location(&mark);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value =
                    if style == TScalarStyle::Plain && tag.is_none() { plain_scalar(text) } else { Value::Str(text) };
                self.finish(Node { at, value }, anchor);
            }
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node { at, value: Value::Null });
                self.finish(Node { at, ..node }, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq { at, anchor, items: Vec::new() }),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Open::Map { at, anchor, entries: Vec::new(), pending_key: None })
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq { at, anchor, items }) => self.finish(Node { at, value: Value::Seq(items) }, anchor),
                Some(Open::Map { at, anchor, entries, .. }) => {
                    // A block map's start event sits after its first key; the first key is where people look.
                    let at = entries.first().map_or(at, |e| e.key_at.min(at));
                    self.finish(Node { at, value: Value::Map(entries) }, anchor)
                }
                None => {}
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

/// The YAML 1.2 core schema for unquoted scalars.
fn plain_scalar(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(int) = parse_int(&text) {
        return Value::Int(int);
    }
    let looks_numeric = text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
        && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    if looks_numeric && let Ok(x) = text.parse::<f64>() {
        return Value::Float(x);
    }
    match text.as_str() {
        ".inf" | ".Inf" | ".INF" | "+.inf" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => Value::Str(text),
    }
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_line_and_column() {
        let (root, problems) = parse("name: x\nsteps:\n  - id: a\n    check: { that: yes }\n");
        assert!(problems.is_empty(), "{problems:?}");
        let root = root.unwrap();
        let step = &root.get("steps").unwrap().items()[0];
        assert_eq!(step.at, Location { line: 3, column: 5 });
        let that = step.get("check").unwrap().get("that").unwrap();
        assert_eq!(that.at, Location { line: 4, column: 20 });
        assert_eq!(step.entry("check").unwrap().key_at, Location { line: 4, column: 5 });
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let (root, _) = parse("a: 12\nb: '12'\nc: true\nd: ~\ne: 1.5\nf: -3\ng: 1h\nh: 0x1F\n");
        let root = root.unwrap();
        let value = |k: &str| root.get(k).unwrap().value.clone();
        assert_eq!(value("a"), Value::Int(12));
        assert_eq!(value("b"), Value::Str("12".into()));
        assert_eq!(value("c"), Value::Bool(true));
        assert_eq!(value("d"), Value::Null);
        assert_eq!(value("e"), Value::Float(1.5));
        assert_eq!(value("f"), Value::Int(-3));
        assert_eq!(value("g"), Value::Str("1h".into()));
        assert_eq!(value("h"), Value::Int(31));
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_are_located() {
        let (_, problems) = parse("a: 1\nb: 2\na: 3\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].at, Location { line: 3, column: 1 });
        assert!(problems[0].message.contains("duplicate key `a` (first set on line 1)"));

        let (root, problems) = parse("a: [1, 2\nb: 3\n");
        assert!(root.is_none());
        assert!(problems[0].message.starts_with("YAML syntax error"), "{problems:?}");
    }

    #[test]
    fn aliases_copy_their_anchor() {
        let (root, _) = parse("base: &b { x: 1 }\ncopy: *b\n");
        assert_eq!(root.unwrap().get("copy").unwrap().get("x").unwrap().value, Value::Int(1));
    }
}
