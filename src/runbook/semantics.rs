//! Meaning checks on a runbook's YAML tree, after (and independent of) its
//! shape: step ids unique, references to earlier steps of the right kind, one
//! position per query, inline or referenced resets, cron and time zone, params
//! typed, clusters and notification targets known, step kinds the cluster's
//! provider can run, and every template against what it may see. They run on
//! the located tree, so a problem in one step never hides one in another.

use std::collections::BTreeSet;

use chrono::Utc;

use super::problem::Problem;
use super::spec::values::is_template;
use super::spec::{ParamType, STEP_KINDS};
use super::templates::{self, Scope};
use super::yaml::{Node, Value};
use crate::schedule::{Crontab, parse_timezone};
use crate::step_support::unsupported_step;
use crate::time::TimeSpec;

/// What validation knows from `ebb.yaml`: cluster names with their provider,
/// and notification targets.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub clusters: Vec<(String, &'static str)>,
    pub notify_targets: BTreeSet<String>,
    /// An unknown notify target is a warning, not a problem: a runbook can
    /// be planned and run from the command line against a minimal ebb.yaml.
    /// The daemon and `ebb validate --strict` keep it a problem.
    pub lenient_targets: bool,
}

impl Catalog {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Catalog {
            clusters: config.clusters.iter().map(|(name, c)| (name.clone(), c.provider_name())).collect(),
            notify_targets: config.notify.keys().cloned().collect(),
            lenient_targets: false,
        }
    }

    /// This catalog, with unknown notify targets as warnings.
    pub fn lenient(self) -> Self {
        Catalog { lenient_targets: true, ..self }
    }

    fn provider(&self, cluster: &str) -> Option<&'static str> {
        self.clusters.iter().find(|(name, _)| name == cluster).map(|(_, p)| *p)
    }
}

/// A step as far as references need it.
struct StepRef<'n> {
    id: &'n str,
    kind: &'n str,
    at: super::problem::Location,
}

/// The problems in a runbook's meaning, and the warnings (what a lenient
/// catalog lets through).
pub fn check(root: &Node, catalog: &Catalog) -> (Vec<Problem>, Vec<Problem>) {
    let mut checker = Checker { catalog, problems: Vec::new(), warnings: Vec::new() };
    checker.runbook(root);
    (checker.problems, checker.warnings)
}

struct Checker<'c> {
    catalog: &'c Catalog,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, node: &Node, message: String) {
        self.problems.push(Problem::new(node.at, message));
    }

    fn runbook(&mut self, root: &Node) {
        let provider = root.get("cluster").and_then(|n| self.cluster(n));
        let params = self.params(root.get("params"));
        let param_names: Vec<&str> = params.iter().map(String::as_str).collect();
        if let Some(schedule) = root.get("schedule") {
            self.schedule(schedule);
        }

        let steps: Vec<&Node> = root.get("steps").map(|s| s.items().iter().collect()).unwrap_or_default();
        let all: Vec<StepRef> = steps.iter().filter_map(|s| step_ref(s)).collect();
        let mut earlier: Vec<StepRef> = Vec::new();
        for step in steps {
            let Some(this) = step_ref(step) else { continue };
            let label = format!("step `{}`", this.id);
            if let Some(first) = earlier.iter().find(|s| s.id == this.id) {
                let message = format!("duplicate step id `{}` (first used on line {})", this.id, first.at.line);
                self.problems.push(Problem::new(this.at, message));
            }
            let body = step.get(this.kind);
            if let (Some(provider), Some(entry)) = (provider, step.entry(this.kind))
                && let Some(reason) = unsupported_step(provider, this.kind)
            {
                let cluster = root.get("cluster").and_then(Node::as_str).unwrap_or_default();
                let message =
                    format!("{label}: {} cannot run on cluster `{cluster}` ({provider}): {reason}", this.kind);
                self.problems.push(Problem::new(entry.key_at, message));
            }
            if let Some(body) = body {
                self.names(body, &label);
                match this.kind {
                    "query_messages" => self.query(body, &label),
                    "compute_offsets" => self.strategy(body.get("strategy"), &label, &earlier, &all),
                    "reset_offsets" => self.reset(body, &label, &earlier, &all),
                    "notify" => self.target(body.get("to"), &label),
                    _ => {}
                }
            }
            let earlier_ids: Vec<&str> = earlier.iter().map(|s| s.id).collect();
            let scope = Scope { params: &param_names, steps: &earlier_ids };
            self.templates(step, &label, "", &scope);
            earlier.push(this);
        }

        let all_ids: Vec<&str> = all.iter().map(|s| s.id).collect();
        for (i, rule) in root.get("notify").map(Node::items).unwrap_or_default().iter().enumerate() {
            let label = format!("notify[{i}]");
            self.target(rule.get("to"), &label);
            if let Some(message) = rule.get("message") {
                let scope = Scope { params: &param_names, steps: &all_ids };
                self.template(message, &format!("{label}: message"), &scope);
            }
        }
    }

    /// Literal topic and group names against Kafka's rules; templated ones
    /// are checked once rendered.
    fn names(&mut self, body: &Node, label: &str) {
        fn one(node: Option<&Node>) -> Vec<&Node> {
            node.into_iter().collect()
        }
        fn many(node: Option<&Node>) -> Vec<&Node> {
            node.map(|n| n.items().iter().collect()).unwrap_or_default()
        }
        let strategy = body.get("strategy");
        let before = body.get("before");
        let fields: [(&str, Vec<&Node>, bool); 6] = [
            ("topic", one(body.get("topic")), true),
            ("topics", many(body.get("topics")), true),
            ("group", one(body.get("group")), false),
            ("strategy.from_group", one(strategy.and_then(|s| s.get("from_group"))), false),
            ("before.committed_by", many(before.and_then(|b| b.get("committed_by"))), false),
            ("protect_groups", many(body.get("protect_groups")), false),
        ];
        for (field, nodes, is_topic) in fields {
            for node in nodes {
                let Some(name) = node.as_str().filter(|n| !is_template(n)) else { continue };
                if let Err(e) = crate::kafka_names::check(is_topic, name) {
                    self.problem(node, format!("{label}: `{field}`: {e}"));
                }
            }
        }
    }

    fn cluster(&mut self, node: &Node) -> Option<&'static str> {
        let name = node.as_str()?;
        let provider = self.catalog.provider(name);
        if provider.is_none() {
            let known = names_or_none(self.catalog.clusters.iter().map(|(n, _)| n.as_str()));
            self.problem(node, format!("unknown cluster `{name}` (clusters in ebb.yaml: {known})"));
        }
        provider
    }

    fn target(&mut self, node: Option<&Node>, label: &str) {
        let Some((node, name)) = node.and_then(|n| Some((n, n.as_str()?))) else { return };
        if !self.catalog.notify_targets.contains(name) {
            let known = names_or_none(self.catalog.notify_targets.iter().map(String::as_str));
            let message = format!("{label}: unknown notify target `{name}` (targets in ebb.yaml: {known})");
            if self.catalog.lenient_targets {
                self.warnings.push(Problem::new(node.at, message));
            } else {
                self.problem(node, message);
            }
        }
    }

    /// Checks each param and returns the declared names.
    fn params(&mut self, params: Option<&Node>) -> Vec<String> {
        let Some(params) = params else { return Vec::new() };
        let mut names = Vec::new();
        for entry in params.entries() {
            let name = &entry.key;
            names.push(name.clone());
            if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                let message =
                    format!("param name `{name}` must be letters, digits and `_` (templates write params.{name})");
                self.problems.push(Problem::new(entry.key_at, message));
            }
            let spec = &entry.value;
            let kind = spec.get("type").and_then(Node::as_str).and_then(param_type);
            let required = spec.get("required").is_some_and(|r| r.value == Value::Bool(true));
            if let Some(default) = spec.get("default") {
                if required {
                    let at = spec.entry("required").map_or(spec.at, |e| e.key_at);
                    let message = format!("param `{name}` is required, so it cannot have a default");
                    self.problems.push(Problem::new(at, message));
                }
                if let Some(kind) = kind
                    && !matches!(default.value, Value::Null)
                    && let Err(message) = kind.accept(&default.to_json())
                {
                    self.problem(
                        default,
                        format!("param `{name}`: default does not fit type {}: {message}", kind.name()),
                    );
                }
            }
        }
        names
    }

    fn schedule(&mut self, schedule: &Node) {
        if let Some(cron) = schedule.get("cron")
            && let Some(text) = cron.as_str()
            && let Err(e) = Crontab::parse(text)
        {
            self.problem(cron, format!("schedule: {e}"));
        }
        if let Some(zone) = schedule.get("timezone")
            && let Some(name) = zone.as_str()
            && let Err(e) = parse_timezone(name)
        {
            self.problem(zone, format!("schedule: {e}"));
        }
    }

    fn query(&mut self, body: &Node, label: &str) {
        const POSITIONS: [(&str, &[&str]); 4] = [
            ("a time window (from/to)", &["from", "to"]),
            ("one message (partition + offset)", &["partition", "offset"]),
            ("an offset range (from_offset/to_offset)", &["from_offset", "to_offset"]),
            ("the newest messages (last)", &["last"]),
        ];
        let present: Vec<(&str, &super::yaml::Entry)> = POSITIONS
            .iter()
            .filter_map(|(what, keys)| Some((*what, keys.iter().find_map(|k| body.entry(k))?)))
            .collect();
        match present.as_slice() {
            [] => {
                let choices: Vec<&str> = POSITIONS.iter().map(|(what, _)| *what).collect();
                self.problem(body, format!("{label}: query_messages needs a position: {}", choices.join(", or ")));
            }
            [_] => {}
            [(first, _), (second, entry), ..] => {
                let message = format!("{label}: query_messages has both {first} and {second}; use one position");
                self.problems.push(Problem::new(entry.key_at, message));
            }
        }
        match (body.get("partition"), body.get("offset")) {
            (Some(p), None) => {
                self.problem(p, format!("{label}: `partition` names one message and needs `offset` too"))
            }
            (None, Some(o)) => {
                self.problem(o, format!("{label}: `offset` names one message and needs `partition` too"))
            }
            (Some(_), Some(_)) => {
                if let Some(entry) = body.entry("partitions") {
                    let message =
                        format!("{label}: `partitions` does not apply to one exact message (partition + offset)");
                    self.problems.push(Problem::new(entry.key_at, message));
                }
            }
            (None, None) => {}
        }
        if let (Some(Value::Int(from)), Some(to @ Node { value: Value::Int(to_value), .. })) =
            (body.get("from_offset").map(|n| &n.value), body.get("to_offset"))
            && from >= to_value
        {
            self.problem(to, format!("{label}: from_offset {from} is not before to_offset {to_value}"));
        }
        if let (Some(from), Some(to)) = (body.get("from").and_then(literal_time), body.get("to")) {
            let now = Utc::now();
            if let Some(to_time) = literal_time(to)
                && from.resolve(now) >= to_time.resolve(now)
            {
                self.problem(to, format!("{label}: `from` ({from}) is not before `to` ({to_time})"));
            }
        }
        if let Some(node) = body.get("where")
            && let Some(text) = node.as_str()
            && let Err(e) = crate::record_filter::Expression::compile(text)
        {
            self.problem(node, format!("{label}: where: {e}"));
        }
        if let Some(regex) = body.get("value_regex")
            && let Some(text) = regex.as_str()
            && !is_template(text)
            && let Err(e) = regex::Regex::new(text)
        {
            let reason = e.to_string().lines().last().unwrap_or_default().trim().to_owned();
            self.problem(regex, format!("{label}: value_regex {text:?} is not a valid regular expression: {reason}"));
        }
    }

    fn strategy(&mut self, strategy: Option<&Node>, label: &str, earlier: &[StepRef], all: &[StepRef]) {
        let Some(strategy) = strategy else { return };
        for key in ["after_messages", "at_messages", "past_matches"] {
            if let Some(node) = strategy.get(key) {
                self.reference(node, key, "query_messages", label, earlier, all);
            }
        }
    }

    fn reset(&mut self, body: &Node, label: &str, earlier: &[StepRef], all: &[StepRef]) {
        const INLINE: [&str; 4] = ["group", "strategy", "topics", "partitions"];
        match body.get("offsets") {
            Some(offsets) => {
                self.reference(offsets, "offsets", "compute_offsets", label, earlier, all);
                for entry in body.entries().iter().filter(|e| INLINE.contains(&e.key.as_str())) {
                    let message = format!(
                        "{label}: `{}` conflicts with `offsets`; either name a compute_offsets step or compute inline with group + strategy",
                        entry.key
                    );
                    self.problems.push(Problem::new(entry.key_at, message));
                }
            }
            None => match (body.get("group"), body.get("strategy")) {
                (Some(_), Some(strategy)) => self.strategy(Some(strategy), label, earlier, all),
                (Some(group), None) => {
                    self.problem(group, format!("{label}: an inline reset needs `strategy` with `group`"))
                }
                (None, Some(strategy)) => {
                    self.problem(strategy, format!("{label}: an inline reset needs `group` with `strategy`"))
                }
                (None, None) => self.problem(
                    body,
                    format!(
                        "{label}: reset_offsets needs `offsets: <compute_offsets step>`, or `group` and `strategy`"
                    ),
                ),
            },
        }
    }

    fn reference(&mut self, node: &Node, field: &str, kind: &str, label: &str, earlier: &[StepRef], all: &[StepRef]) {
        let Some(id) = node.as_str() else { return };
        let message = if let Some(target) = earlier.iter().rev().find(|s| s.id == id) {
            if target.kind == kind {
                return;
            }
            format!("{label}: `{field}` needs a {kind} step, but `{id}` is a {} step", target.kind)
        } else if all.iter().any(|s| s.id == id) {
            format!("{label}: `{field}` refers to step `{id}`, which comes later; a step can use only earlier steps")
        } else {
            let candidates: Vec<&str> = earlier.iter().filter(|s| s.kind == kind).map(|s| s.id).collect();
            let known = if candidates.is_empty() {
                format!("there is no earlier {kind} step")
            } else {
                format!("earlier {kind} steps: {}", candidates.join(", "))
            };
            format!("{label}: `{field}` refers to no step `{id}` ({known})")
        };
        self.problem(node, message);
    }

    /// Every template in a step, found by walking its text values. Step ids,
    /// references to steps and notification targets are names, not templates.
    fn templates(&mut self, node: &Node, label: &str, field: &str, scope: &Scope<'_>) {
        const NAMES: [&str; 6] = [
            "id",
            "notify.to",
            "reset_offsets.offsets",
            "strategy.after_messages",
            "strategy.at_messages",
            "query_messages.where",
        ];
        if NAMES.iter().any(|name| field == *name || field.ends_with(&format!(".{name}"))) {
            return;
        }
        match &node.value {
            Value::Str(_) => self.template(node, &format!("{label}: {field}"), scope),
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.templates(item, label, &format!("{field}[{i}]"), scope);
                }
            }
            Value::Map(entries) => {
                for entry in entries {
                    let child = if field.is_empty() { entry.key.clone() } else { format!("{field}.{}", entry.key) };
                    self.templates(&entry.value, label, &child, scope);
                }
            }
            _ => {}
        }
    }

    fn template(&mut self, node: &Node, label: &str, scope: &Scope<'_>) {
        let Some(text) = node.as_str() else { return };
        if !is_template(text) {
            return;
        }
        for problem in templates::check(text, scope) {
            self.problem(node, format!("{label}: {problem}"));
        }
    }
}

/// Names from ebb.yaml for a message: `a, b`, or `none defined`.
fn names_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() { "none defined".to_owned() } else { names.join(", ") }
}

fn step_ref(step: &Node) -> Option<StepRef<'_>> {
    let id_node = step.get("id")?;
    let kind = STEP_KINDS.iter().copied().find(|k| step.get(k).is_some())?;
    Some(StepRef { id: id_node.as_str()?, kind, at: id_node.at })
}

fn param_type(name: &str) -> Option<ParamType> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

fn literal_time(node: &Node) -> Option<TimeSpec> {
    match &node.value {
        Value::Str(text) if !is_template(text) => TimeSpec::parse(text).ok(),
        Value::Int(millis) => TimeSpec::from_epoch_millis(*millis),
        _ => None,
    }
}
