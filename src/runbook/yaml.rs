//! YAML read into a tree that remembers where every node came from, so that each
//! problem validation finds can name its line and column. Scalars are typed by
//! the YAML 1.2 core schema (`true`, `12`, `null`…); quoted scalars are always
//! text. Duplicate keys are problems, not silent overwrites.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

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

/// The deepest nesting of lists and maps a document may have; runbooks stay under ten.
pub const DEEPEST: usize = 64;
/// The most nodes a document may hold with its aliases expanded, so that a few
/// lines of nested aliases ("billion laughs") cannot take all memory.
pub const MOST_NODES: usize = 200_000;

/// Parses one YAML document. A syntax error ends the parse (YAML cannot be read
/// past it); duplicate keys are collected and parsing goes on. A document
/// nested deeper than [`DEEPEST`] or larger than [`MOST_NODES`] is refused.
pub fn parse(text: &str) -> (Option<Node>, Vec<Problem>) {
    let mut builder = Builder::default();
    let outcome = read_events(text, &mut builder);
    let mut problems = builder.problems;
    if let Err(e) = outcome {
        problems.push(Problem::new(location(e.marker()), format!("YAML syntax error: {}", e.info())));
        return (None, problems);
    }
    if builder.refused {
        return (None, problems);
    }
    if builder.documents.len() > 1 {
        problems.push(Problem::new(builder.documents[1].at, "a runbook file holds one YAML document, not several"));
    }
    let root = builder.documents.into_iter().next();
    (root, problems)
}

/// Feeds the parser's events to `builder` one at a time. The parser's own
/// `load` descends one call per nesting level, so a deeply nested document
/// would overflow the stack before the builder could refuse it.
fn read_events(text: &str, builder: &mut Builder) -> Result<(), ScanError> {
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token()?;
        if event == Event::StreamEnd {
            return Ok(());
        }
        builder.on_event(event, mark);
        if builder.refused {
            return Ok(());
        }
    }
}

fn location(mark: &Marker) -> Location {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Location { line: mark.line(), column: mark.col() + 1 }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    /// Anchored nodes with their sizes in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    problems: Vec<Problem>,
    /// Nodes made so far, aliases counted at their full size.
    nodes: usize,
    /// Too deep or too large: the rest of the document is not built.
    refused: bool,
}

enum Open {
    Seq {
        at: Location,
        anchor: usize,
        nodes_before: usize,
        items: Vec<Node>,
    },
    Map {
        at: Location,
        anchor: usize,
        nodes_before: usize,
        entries: Vec<Entry>,
        first_line_of: HashMap<String, usize>,
        pending_key: Option<(String, Location)>,
    },
}

impl Builder {
    /// Counts `size` more nodes; false (and the document refused) past the limit.
    fn count(&mut self, at: Location, size: usize) -> bool {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > MOST_NODES {
            self.refuse(at, format!("the document holds more than {MOST_NODES} values (counting what aliases repeat)"));
        }
        !self.refused
    }

    fn refuse(&mut self, at: Location, message: String) {
        self.problems.push(Problem::new(at, message));
        self.refused = true;
        self.stack.clear();
        self.anchors.clear();
        self.documents.clear();
    }

    fn open(&mut self, at: Location, open: Open) {
        if self.stack.len() >= DEEPEST {
            self.refuse(at, format!("lists and maps are nested more than {DEEPEST} deep"));
        } else if self.count(at, 1) {
            self.stack.push(open);
        }
    }

    fn finish(&mut self, node: Node, anchor: usize, nodes_before: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), self.nodes - nodes_before));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, first_line_of, pending_key, .. }) => match pending_key.take() {
                None => {
                    let key = match node.value {
                        Value::Str(s) => s,
                        _ => node.to_string(),
                    };
                    if let Some(first_line) = first_line_of.get(&key) {
                        self.problems.push(Problem::new(
                            node.at,
                            format!("duplicate key `{key}` (first set on line {first_line})"),
                        ));
                    } else {
                        first_line_of.insert(key.clone(), node.at.line);
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
        if self.refused {
            return;
        }
        let at = location(&mark);
        let nodes_before = self.nodes;
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if self.count(at, 1) {
                    let value = if style == TScalarStyle::Plain && tag.is_none() {
                        plain_scalar(text)
                    } else {
                        Value::Str(text)
                    };
                    self.finish(Node { at, value }, anchor, nodes_before);
                }
            }
            Event::Alias(anchor) => {
                let (node, size) = self.anchors.get(&anchor).cloned().unwrap_or((Node { at, value: Value::Null }, 1));
                if self.count(at, size) {
                    self.finish(Node { at, ..node }, 0, nodes_before);
                }
            }
            Event::SequenceStart(anchor, _) => self.open(at, Open::Seq { at, anchor, nodes_before, items: Vec::new() }),
            Event::MappingStart(anchor, _) => self.open(
                at,
                Open::Map {
                    at,
                    anchor,
                    nodes_before,
                    entries: Vec::new(),
                    first_line_of: HashMap::new(),
                    pending_key: None,
                },
            ),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq { at, anchor, nodes_before, items }) => {
                    self.finish(Node { at, value: Value::Seq(items) }, anchor, nodes_before)
                }
                Some(Open::Map { at, anchor, nodes_before, entries, .. }) => {
                    // A block map's start event sits after its first key; the first key is where people look.
                    let at = entries.first().map_or(at, |e| e.key_at.min(at));
                    self.finish(Node { at, value: Value::Map(entries) }, anchor, nodes_before)
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
    fn nesting_past_the_limit_is_refused_with_where_it_went_too_deep() {
        // Block lists, one `- ` per level: each level opens at its own column.
        let at_limit = format!("{}1\n", "- ".repeat(DEEPEST));
        assert!(parse(&at_limit).0.is_some());
        let deep = format!("{}1\n", "- ".repeat(100_000));
        let (root, problems) = parse(&deep);
        assert!(root.is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].message, format!("lists and maps are nested more than {DEEPEST} deep"));
        assert_eq!(problems[0].at, Location { line: 1, column: 2 * DEEPEST + 1 });
        // Flow lists: the YAML reader's own limit answers first.
        let flow = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let (root, problems) = parse(&flow);
        assert!(root.is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("recursion limit exceeded"), "{problems:?}");
    }

    #[test]
    fn aliases_that_multiply_past_the_node_limit_are_refused() {
        // Nine levels of ten aliases each: a billion values from eleven lines.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            text.push_str(&format!("a{level}: &a{level} [{}]\n", vec![previous; 10].join(", ")));
        }
        let (root, problems) = parse(&text);
        assert!(root.is_none());
        assert!(problems[0].message.starts_with(&format!("the document holds more than {MOST_NODES} values")));
        // A few aliases are fine.
        let (root, problems) = parse("base: &b { group: g }\none: *b\ntwo: *b\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(root.unwrap().get("two").unwrap().get("group").unwrap().as_str(), Some("g"));
    }

    #[test]
    fn a_map_with_very_many_keys_still_names_each_duplicate_once() {
        let mut text: String = (0..50_000).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\n");
        let (root, problems) = parse(&text);
        assert_eq!(root.unwrap().entries().len(), 50_001);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "duplicate key `k7` (first set on line 8)");
    }

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
