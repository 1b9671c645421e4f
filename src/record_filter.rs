//! `where:` filters of `query_messages` in the Common Expression Language
//! (CEL, the filter language of kafbat kafka-ui), evaluated per record by the
//! `cel` crate. Below `runbook` (which checks an expression when it validates
//! a file) and `steps` (which runs it on every record a query reads).
//! A record is seen as `key`, `value` (text), `json` (the value parsed as
//! JSON when it parses, else null), `headers` (name → text), `partition`,
//! `offset` and `timestamp`. An expression is parsed and type-checked once
//! (`compile`); a record it cannot be evaluated on counts as no match.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use cel::context::VariableResolver;
use cel::{Context, Env, Program, Value};

/// The variables a record offers, with their types.
pub const VARIABLES: [(&str, Type); 8] = [
    ("key", Type::String),
    ("value", Type::String),
    ("json", Type::Dyn),
    ("headers", Type::Map),
    ("partition", Type::Int),
    ("offset", Type::Int),
    ("timestamp", Type::Timestamp),
    // The run's params, as values: never spliced into the expression's text.
    ("params", Type::Map),
];

/// Functions and macros the evaluator knows.
const FUNCTIONS: [&str; 30] = [
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "timestamp",
    "duration",
    "dyn",
    "type",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMinutes",
    "getMonth",
    "getSeconds",
];

/// A parsed and checked expression, ready to run on records from many threads.
#[derive(Clone)]
pub struct Expression {
    pub source: String,
    program: Arc<Program>,
    env: Arc<Env>,
    uses_json: bool,
    /// Texts a record must hold somewhere for the expression to be true (see [`required_texts`]).
    required: Arc<Vec<regex::bytes::Regex>>,
    /// The run's params, as `params` sees them.
    params: Value,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression").field("source", &self.source).finish()
    }
}

/// The static type of a sub-expression, as far as the check can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int,
    UInt,
    Double,
    String,
    Bytes,
    Null,
    Timestamp,
    Duration,
    List,
    Map,
    /// Known only when evaluated (`json`, an element of a list, a map's value).
    Dyn,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::UInt => "uint",
            Type::Double => "double",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Null => "null",
            Type::Timestamp => "timestamp",
            Type::Duration => "duration",
            Type::List => "list",
            Type::Map => "map",
            Type::Dyn => "dyn",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Type::Int | Type::UInt | Type::Double)
    }
}

fn stdlib() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(Env::stdlib())))
}

impl Expression {
    /// Parses and type-checks `source`; the error says what is wrong and where.
    pub fn compile(source: &str) -> Result<Expression, String> {
        let program = Program::compile(source).map_err(|errors| {
            let first = errors.errors.first();
            match first {
                Some(e) => format!("line {}, column {}: {}", e.pos.0, e.pos.1 + 1, e.msg),
                None => "it does not parse".to_owned(),
            }
        })?;
        let mut scope: Vec<String> = Vec::new();
        let found = check(program.expression(), &mut scope)?;
        if !matches!(found, Type::Bool | Type::Dyn) {
            return Err(format!("it gives a {}, and a filter must give a bool", found.name()));
        }
        let uses_json = program.references().has_variable("json");
        let mut texts = Vec::new();
        required_texts(program.expression(), &mut texts);
        let required = texts
            .iter()
            .filter_map(|t| regex::bytes::RegexBuilder::new(&regex::escape(t)).unicode(false).build().ok())
            .collect();
        Ok(Expression {
            source: source.to_owned(),
            program: Arc::new(program),
            env: stdlib(),
            uses_json,
            required: Arc::new(required),
            params: Value::Map(HashMap::<String, Value>::new().into()),
        })
    }

    /// The expression with the run's params, as the variable `params`.
    pub fn with_params(mut self, params: &serde_json::Value) -> Self {
        if let Ok(value) = cel::to_value(params) {
            self.params = value;
        }
        self
    }

    /// Whether `m` passes; `Err` when the expression cannot be evaluated on it.
    pub fn evaluate(&self, m: &RecordView<'_>) -> Result<bool, String> {
        if !self.may_match(m) {
            return Ok(false);
        }
        let record = Record { message: m, json: OnceLock::new(), uses_json: self.uses_json, params: &self.params };
        let mut context = Context::with_env(Arc::clone(&self.env));
        context.set_variable_resolver(&record);
        match self.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("gave {other:?}, not a bool")),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A record's parts an expression reads, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [(String, Vec<u8>)],
    pub partition: i32,
    pub offset: i64,
    /// Epoch milliseconds.
    pub timestamp: Option<i64>,
}

impl Expression {
    /// False when the record lacks a text the expression needs to be true:
    /// it is then no match without being evaluated. A value holding a
    /// backslash may spell a JSON string with escapes, so it is always evaluated.
    fn may_match(&self, m: &RecordView<'_>) -> bool {
        if self.required.is_empty() || m.value.is_some_and(|v| v.contains(&b'\\')) {
            return true;
        }
        self.required.iter().all(|text| {
            m.key.is_some_and(|k| text.is_match(k))
                || m.value.is_some_and(|v| text.is_match(v))
                || m.headers.iter().any(|(_, v)| text.is_match(v))
        })
    }
}

/// The texts an expression needs to find in a record to be true: the
/// string literal of each `==`, `contains`, `startsWith` or `endsWith` that
/// compares a record field (`key`, `value`, `headers[…]`, `json.…`) with it,
/// on every branch of an `&&` (an `||`, a `!` or a condition needs none).
/// Such a field's text is the record's own bytes, or (for `json`) a string
/// inside them unless written with escapes, so a record without the literal
/// anywhere cannot make the expression true.
fn required_texts(e: &IdedExpr, out: &mut Vec<String>) {
    use cel::common::ast::operators as op;
    let Expr::Call(call) = &e.expr else { return };
    let literal = |e: &IdedExpr| match &e.expr {
        Expr::Literal(LiteralValue::String(s)) => {
            let text = s.inner().to_string();
            (!text.is_empty() && !text.contains('\u{FFFD}')).then_some(text)
        }
        _ => None,
    };
    match (call.func_name.as_str(), call.target.as_deref(), &call.args[..]) {
        (op::LOGICAL_AND, None, [a, b]) => {
            required_texts(a, out);
            required_texts(b, out);
        }
        (op::EQUALS, None, [a, b]) => {
            if let (true, Some(text)) = (is_field(a), literal(b)) {
                out.push(text);
            } else if let (true, Some(text)) = (is_field(b), literal(a)) {
                out.push(text);
            }
        }
        ("contains" | "startsWith" | "endsWith", Some(target), [arg]) if is_field(target) => {
            out.extend(literal(arg));
        }
        _ => {}
    }
}

/// Whether `e` reads a record's text straight from its bytes: `key`,
/// `value`, a header's value, or a field somewhere in `json`.
fn is_field(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Ident(name) => matches!(name.as_str(), "key" | "value"),
        Expr::Select(select) => !select.test && is_json_path(&select.operand),
        Expr::Call(call) if call.func_name == "_[_]" && call.target.is_none() => match &call.args[..] {
            [map, _] => matches!(&map.expr, Expr::Ident(name) if name == "headers") || is_json_path(map),
            _ => false,
        },
        _ => false,
    }
}

fn is_json_path(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Ident(name) => name == "json",
        Expr::Select(select) => !select.test && is_json_path(&select.operand),
        Expr::Call(call) if call.func_name == "_[_]" && call.target.is_none() => {
            call.args.first().is_some_and(is_json_path)
        }
        _ => false,
    }
}

/// One record as the expression sees it; `json` is parsed once, on first use.
struct Record<'m> {
    message: &'m RecordView<'m>,
    json: OnceLock<Value>,
    uses_json: bool,
    params: &'m Value,
}

fn text(bytes: Option<&[u8]>) -> Value {
    match bytes {
        Some(bytes) => Value::String(Arc::new(String::from_utf8_lossy(bytes).into_owned())),
        None => Value::Null,
    }
}

impl VariableResolver for Record<'_> {
    fn resolve(&self, variable: &str) -> Option<Value> {
        let m = self.message;
        Some(match variable {
            "key" => text(m.key),
            "value" => text(m.value),
            "json" if self.uses_json => self.json.get_or_init(|| parse_json(m.value)).clone(),
            "headers" => {
                let headers: HashMap<String, Value> =
                    m.headers.iter().map(|(name, value)| (name.clone(), text(Some(value)))).collect();
                Value::from(headers)
            }
            "params" => self.params.clone(),
            "partition" => Value::Int(i64::from(m.partition)),
            "offset" => Value::Int(m.offset),
            "timestamp" => match m.timestamp.and_then(chrono::DateTime::from_timestamp_millis) {
                Some(t) => Value::Timestamp(t.fixed_offset()),
                None => Value::Null,
            },
            _ => return None,
        })
    }
}

fn parse_json(value: Option<&[u8]>) -> Value {
    value
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .and_then(|json| cel::to_value(json).ok())
        .unwrap_or(Value::Null)
}

/// The type of `e`, or why it cannot be evaluated on any record.
fn check(e: &IdedExpr, scope: &mut Vec<String>) -> Result<Type, String> {
    match &e.expr {
        Expr::Literal(literal) => Ok(match literal {
            LiteralValue::Boolean(_) => Type::Bool,
            LiteralValue::Bytes(_) => Type::Bytes,
            LiteralValue::Double(_) => Type::Double,
            LiteralValue::Int(_) => Type::Int,
            LiteralValue::Null => Type::Null,
            LiteralValue::String(_) => Type::String,
            LiteralValue::UInt(_) => Type::UInt,
        }),
        Expr::Ident(name) => {
            if scope.iter().any(|s| s == name) {
                return Ok(Type::Dyn);
            }
            VARIABLES.iter().find(|(n, _)| n == name).map(|(_, t)| *t).ok_or_else(|| {
                let known: Vec<&str> = VARIABLES.iter().map(|(n, _)| *n).collect();
                format!("unknown variable `{name}` (known: {})", known.join(", "))
            })
        }
        Expr::Select(select) => {
            let operand = check(&select.operand, scope)?;
            match operand {
                Type::Map | Type::Dyn => Ok(if select.test { Type::Bool } else { Type::Dyn }),
                other => Err(format!(
                    "`{}` is a {}, which has no field `{}`",
                    shown(&select.operand),
                    other.name(),
                    select.field
                )),
            }
        }
        Expr::List(list) => {
            for element in &list.elements {
                check(element, scope)?;
            }
            Ok(Type::List)
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let cel::common::ast::EntryExpr::MapEntry(entry) = &entry.expr {
                    check(&entry.key, scope)?;
                    check(&entry.value, scope)?;
                }
            }
            Ok(Type::Map)
        }
        Expr::Comprehension(c) => {
            let range = check(&c.iter_range, scope)?;
            if !matches!(range, Type::List | Type::Map | Type::Dyn) {
                return Err(format!("`{}` is a {}, which cannot be iterated", shown(&c.iter_range), range.name()));
            }
            let bound = [Some(c.iter_var.clone()), c.iter_var2.clone(), Some(c.accu_var.clone())];
            let depth = scope.len();
            scope.extend(bound.into_iter().flatten());
            let result = (|| {
                check(&c.accu_init, scope)?;
                check(&c.loop_cond, scope)?;
                check(&c.loop_step, scope)?;
                check(&c.result, scope)
            })();
            scope.truncate(depth);
            result.map(|_| Type::Dyn)
        }
        Expr::Call(call) => check_call(e, call, scope),
        Expr::Struct(_) => Err("message literals are not supported".to_owned()),
        Expr::Unspecified => Err("an empty expression".to_owned()),
    }
}

fn check_call(e: &IdedExpr, call: &cel::common::ast::CallExpr, scope: &mut Vec<String>) -> Result<Type, String> {
    use cel::common::ast::operators as op;
    let target = call.target.as_deref().map(|t| check(t, scope)).transpose()?;
    let args: Vec<Type> = call.args.iter().map(|a| check(a, scope)).collect::<Result<_, _>>()?;
    let mismatch = |what: &str| {
        let types: Vec<&str> = args.iter().map(|t| t.name()).collect();
        Err(format!("`{}`: {what} cannot take {}", shown(e), types.join(" and ")))
    };
    let known = |t: Type| t != Type::Dyn;
    let name = call.func_name.as_str();
    match name {
        op::LOGICAL_AND | op::LOGICAL_OR | op::LOGICAL_NOT | op::NOT_STRICTLY_FALSE => {
            if args.iter().any(|t| known(*t) && *t != Type::Bool) {
                return mismatch("a logical operator");
            }
            Ok(Type::Bool)
        }
        op::EQUALS | op::NOT_EQUALS => {
            if let [a, b] = args[..]
                && known(a)
                && known(b)
                && a != b
                && !(a.numeric() && b.numeric())
                && a != Type::Null
                && b != Type::Null
            {
                return mismatch("`==` and `!=`");
            }
            Ok(Type::Bool)
        }
        op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS => {
            if let [a, b] = args[..]
                && known(a)
                && known(b)
                && a != b
                && !(a.numeric() && b.numeric())
            {
                return mismatch("a comparison");
            }
            if args.iter().any(|t| matches!(t, Type::Bool | Type::Null | Type::List | Type::Map)) {
                return mismatch("a comparison");
            }
            Ok(Type::Bool)
        }
        op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO => match args[..] {
            [a, b] if known(a) && known(b) => {
                let fits = (a == b
                    && (a.numeric()
                        || (name == op::ADD && matches!(a, Type::String | Type::Bytes | Type::List | Type::Duration))))
                    || matches!((a, b), (Type::Timestamp, Type::Duration) | (Type::Duration, Type::Timestamp))
                    || (name == op::SUBSTRACT
                        && matches!((a, b), (Type::Timestamp, Type::Timestamp) | (Type::Duration, Type::Duration)));
                if !fits {
                    return mismatch("arithmetic");
                }
                Ok(if a == Type::Timestamp && b == Type::Timestamp {
                    Type::Duration
                } else if a == Type::Duration && b == Type::Timestamp {
                    Type::Timestamp
                } else {
                    a
                })
            }
            _ => Ok(args.iter().copied().find(|t| known(*t)).unwrap_or(Type::Dyn)),
        },
        op::NEGATE => Ok(args.first().copied().unwrap_or(Type::Dyn)),
        op::CONDITIONAL => {
            if args.first().is_some_and(|c| known(*c) && *c != Type::Bool) {
                return mismatch("a condition");
            }
            Ok(Type::Dyn)
        }
        op::INDEX | op::OPT_INDEX => match args[..] {
            [Type::Map | Type::List | Type::Dyn, _] => Ok(Type::Dyn),
            _ => mismatch("indexing"),
        },
        op::IN => match args[..] {
            [_, Type::Map | Type::List | Type::Dyn] => Ok(Type::Bool),
            _ => mismatch("`in`"),
        },
        "contains" | "startsWith" | "endsWith" | "matches" => match target {
            Some(Type::String | Type::Dyn) | None => {
                if args.iter().any(|t| known(*t) && *t != Type::String) {
                    return mismatch(&format!("`{name}`"));
                }
                Ok(Type::Bool)
            }
            Some(other) => Err(format!("`{}`: `{name}` works on text, not on a {}", shown(e), other.name())),
        },
        "size" => Ok(Type::Int),
        "int" => Ok(Type::Int),
        "uint" => Ok(Type::UInt),
        "double" => Ok(Type::Double),
        "string" => Ok(Type::String),
        "bytes" => Ok(Type::Bytes),
        "bool" | "has" | "all" | "exists" | "exists_one" => Ok(Type::Bool),
        "timestamp" => Ok(Type::Timestamp),
        "duration" => Ok(Type::Duration),
        other if FUNCTIONS.contains(&other) => Ok(Type::Dyn),
        other => Err(format!("unknown function `{other}`")),
    }
}

/// A sub-expression, shortly, for messages.
fn shown(e: &IdedExpr) -> String {
    match &e.expr {
        Expr::Ident(name) => name.clone(),
        Expr::Select(select) => format!("{}.{}", shown(&select.operand), select.field),
        Expr::Literal(LiteralValue::String(s)) => format!("{:?}", s.inner()),
        Expr::Literal(LiteralValue::Int(i)) => format!("{}", i.inner()),
        Expr::Call(call) => {
            const SYMBOLS: [(&str, &str); 14] = [
                ("_==_", "=="),
                ("_!=_", "!="),
                ("_<_", "<"),
                ("_<=_", "<="),
                ("_>_", ">"),
                ("_>=_", ">="),
                ("_+_", "+"),
                ("_-_", "-"),
                ("_*_", "*"),
                ("_/_", "/"),
                ("_%_", "%"),
                ("_&&_", "&&"),
                ("_||_", "||"),
                ("@in", "in"),
            ];
            match (call.target.as_deref(), SYMBOLS.iter().find(|(n, _)| *n == call.func_name), &call.args[..]) {
                (_, Some((_, symbol)), [a, b]) => format!("{} {symbol} {}", shown(a), shown(b)),
                (Some(target), _, _) => format!("{}.{}(…)", shown(target), call.func_name),
                (None, _, [a, b]) if call.func_name == "_[_]" => format!("{}[{}]", shown(a), shown(b)),
                (None, _, _) => format!("{}(…)", call.func_name),
            }
        }
        _ => "…".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Owned {
        value: String,
        headers: Vec<(String, Vec<u8>)>,
    }

    fn record(value: &str, headers: &[(&str, &str)]) -> Owned {
        let headers = headers.iter().map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec())).collect();
        Owned { value: value.to_owned(), headers }
    }

    fn passes(expression: &str, m: &Owned) -> Result<bool, String> {
        let view = RecordView {
            key: Some(b"order-7"),
            value: Some(m.value.as_bytes()),
            headers: &m.headers,
            partition: 2,
            offset: 41,
            timestamp: Some(1_767_225_600_000),
        };
        Expression::compile(expression).expect("compiles").evaluate(&view)
    }

    #[test]
    fn every_variable_of_a_record_is_seen() {
        let m = record(r#"{"amount": 50, "customer": {"tier": "gold"}, "note": "x"}"#, &[("source", "legacy")]);
        assert_eq!(passes(r#"json.amount == 50 && headers["source"] == "legacy""#, &m), Ok(true));
        assert_eq!(passes(r#"json.customer.tier == "gold" && key.startsWith("order-")"#, &m), Ok(true));
        assert_eq!(passes("json.amount > 49.5 && partition == 2 && offset >= 41", &m), Ok(true));
        assert_eq!(passes(r#"timestamp >= timestamp("2026-01-01T00:00:00Z")"#, &m), Ok(true));
        assert_eq!(passes(r#"value.contains("gold") && !("missing" in headers)"#, &m), Ok(true));
        assert_eq!(passes(r#"value.matches("amount.: 5[0-9]")"#, &m), Ok(true));
    }

    #[test]
    fn params_are_values_never_text_of_the_expression() {
        let m = record("{}", &[("source", "legacy")]);
        let view = RecordView {
            key: None,
            value: Some(m.value.as_bytes()),
            headers: &m.headers,
            partition: 0,
            offset: 0,
            timestamp: None,
        };
        let expression = Expression::compile(r#"headers["source"] == params.source"#).unwrap();
        let with =
            |source: &str| expression.clone().with_params(&serde_json::json!({ "source": source })).evaluate(&view);
        assert_eq!(with("legacy"), Ok(true));
        assert_eq!(with(r#"x" || true || "y"#), Ok(false), "a param's text is a value, not part of the expression");
    }

    #[test]
    fn a_value_that_is_not_json_is_null_and_a_missing_field_is_an_error() {
        let m = record("plain text", &[]);
        assert_eq!(passes("json == null", &m), Ok(true));
        assert!(passes("json.amount == 50", &m).is_err(), "no field on null: counted as an error, not a match");
    }

    #[test]
    fn a_record_without_a_needed_text_is_no_match_unevaluated_and_escapes_are_evaluated() {
        let needs = |e: &str| {
            let mut texts = Vec::new();
            required_texts(Expression::compile(e).unwrap().program.expression(), &mut texts);
            texts
        };
        assert_eq!(needs(r#"json.status == "NEEDLE" && headers["source"] == "legacy""#), ["NEEDLE", "legacy"]);
        assert_eq!(needs(r#"value.contains("x") && json.a.b.startsWith("y") && "z" == key"#), ["x", "y", "z"]);
        assert!(needs(r#"json.status == "A" || json.status == "B""#).is_empty(), "either one may hold");
        assert!(needs(r#"!(json.status == "A")"#).is_empty());
        assert!(needs(r#"string(json.n) == "5""#).is_empty(), "a conversion is not the record's text");
        // Without the text, no match even where evaluating would fail (json is null here).
        assert_eq!(passes(r#"json.status == "NEEDLE""#, &record("plain text", &[])), Ok(false));
        // With an escape, the text need not appear as written: evaluated, and it matches.
        let escaped = record(r#"{"status": "NEE\u0044LE"}"#, &[]);
        assert_eq!(passes(r#"json.status == "NEEDLE""#, &escaped), Ok(true));
    }

    #[test]
    fn mistakes_are_found_before_any_record_is_read() {
        let refused = |e: &str| Expression::compile(e).unwrap_err();
        assert!(refused("json.amount ==").starts_with("line 1, column"), "{}", refused("json.amount =="));
        assert_eq!(
            refused("amount == 5"),
            "unknown variable `amount` (known: key, value, json, headers, partition, offset, timestamp, params)"
        );
        assert!(
            refused(r#"partition == "2""#).contains("`partition == \"2\"`: `==` and `!=` cannot take int and string"),
            "{}",
            refused(r#"partition == "2""#)
        );
        assert!(refused("offset.contains(\"1\")").contains("`contains` works on text, not on a int"));
        assert!(refused("size(value)").contains("a filter must give a bool"));
        assert!(refused("lookup(value)").contains("unknown function `lookup`"));
        assert!(refused("key + 1 == key").contains("arithmetic cannot take string and int"));
        assert!(Expression::compile("[1, 2].exists(x, x == partition)").is_ok(), "a macro's variable is in scope");
    }
}
