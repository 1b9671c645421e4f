//! Broken runbooks, one mistake each: validation names the line, the column and
//! what is wrong — and reports nothing else, so each case isolates its mistake.

use std::path::Path;

use ebb::runbook::{Catalog, Location, check_text};

fn catalog() -> Catalog {
    Catalog {
        clusters: vec![("local".into(), "kafka"), ("tencent".into(), "ckafka"), ("huawei".into(), "dms")],
        notify_targets: ["ops-chat".to_owned()].into(),
        lenient_targets: false,
    }
}

/// A valid runbook the cases below change in one place.
const VALID: &str = r#"name: table-case
cluster: local
params:
  topic: { type: string, default: orders }
steps:
  - id: find
    query_messages:
      topic: "{{params.topic}}"
      from: -1h
      contains: POISON
  - id: targets
    compute_offsets:
      group: billing
      strategy: { after_messages: find }
  - id: reset
    reset_offsets: { offsets: targets }
"#;

struct Case {
    mistake: &'static str,
    yaml: String,
    line: usize,
    column: usize,
    message: &'static str,
}

fn case(mistake: &'static str, yaml: &str, at: (usize, usize), message: &'static str) -> Case {
    Case { mistake, yaml: yaml.to_owned(), line: at.0, column: at.1, message }
}

/// The valid runbook with one line replaced.
fn changed(mistake: &'static str, from: &str, to: &str, at: (usize, usize), message: &'static str) -> Case {
    assert!(VALID.contains(from), "{mistake}: the valid runbook has no {from:?}");
    case(mistake, &VALID.replacen(from, to, 1), at, message)
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "YAML syntax: an unclosed flow map",
            "name: x\ncluster: local\nsteps: [{id: a\n",
            (4, 1),
            "YAML syntax error",
        ),
        changed(
            "duplicate key",
            "cluster: local\n",
            "cluster: local\ncluster: local\n",
            (3, 1),
            "duplicate key `cluster` (first set on line 2)",
        ),
        changed(
            "unknown top-level key",
            "cluster: local\n",
            "cluster: local\nowner: me\n",
            (3, 1),
            "unknown key `owner`",
        ),
        changed("missing cluster", "cluster: local\n", "", (1, 1), "missing `cluster`"),
        changed(
            "misspelt key, with a suggestion",
            "      group: billing",
            "      grup: billing\n      group: billing",
            (13, 7),
            "compute_offsets: unknown key `grup`; did you mean `group`?",
        ),
        changed(
            "wrong type",
            "      contains: POISON",
            "      contains: POISON\n      limit: lots",
            (11, 14),
            "step `find`: query_messages.limit: expected a whole number (0 or more), found \"lots\"",
        ),
        changed(
            "value outside an enum",
            "      contains: POISON",
            "      contains: POISON\n      order: sideways",
            (11, 14),
            "query_messages.order: must be one of asc, desc, found \"sideways\"",
        ),
        changed(
            "step with no kind",
            "    reset_offsets: { offsets: targets }\n",
            "    timeout: 5s\n",
            (15, 5),
            "step `reset`: needs exactly one of: query_messages, compute_offsets, reset_offsets, purge_messages, delete_offsets, check, notify",
        ),
        changed(
            "step with two kinds",
            "    reset_offsets: { offsets: targets }\n",
            "    reset_offsets: { offsets: targets }\n    check: { that: x }\n",
            (17, 5),
            "step `reset`: has both `reset_offsets` and `check`; it takes exactly one",
        ),
        changed(
            "strategy with no choice",
            "strategy: { after_messages: find }",
            "strategy: {}",
            (14, 17),
            "compute_offsets.strategy: needs exactly one of: to_earliest, to_latest",
        ),
        changed(
            "strategy with two choices",
            "strategy: { after_messages: find }",
            "strategy: { to_latest: true, shift_by: 3 }",
            (14, 36),
            "has both `to_latest` and `shift_by`; it takes exactly one",
        ),
        changed(
            "a flag that is not true",
            "strategy: { after_messages: find }",
            "strategy: { to_earliest: false }",
            (14, 32),
            "strategy.to_earliest: takes `true`, found false",
        ),
        changed(
            "duplicate step id",
            "  - id: reset",
            "  - id: targets",
            (15, 9),
            "duplicate step id `targets` (first used on line 11)",
        ),
        changed(
            "reference to a missing step",
            "{ after_messages: find }",
            "{ after_messages: fnd }",
            (14, 35),
            "`after_messages` refers to no step `fnd` (earlier query_messages steps: find)",
        ),
        changed(
            "reference to a wrong-kind step",
            "{ after_messages: find }",
            "{ after_messages: targets }",
            (14, 35),
            "`after_messages` refers to step `targets`, which comes later",
        ),
        changed(
            "reference to a step of the wrong kind",
            "{ offsets: targets }",
            "{ offsets: find }",
            (16, 31),
            "`offsets` needs a compute_offsets step, but `find` is a query_messages step",
        ),
        changed(
            "reset both by reference and inline",
            "{ offsets: targets }",
            "{ offsets: targets, group: billing }",
            (16, 40),
            "`group` conflicts with `offsets`",
        ),
        changed(
            "reset with nothing to reset to",
            "{ offsets: targets }",
            "{ max_skip: 10 }",
            (16, 20),
            "reset_offsets needs `offsets: <compute_offsets step>`, or `group` and `strategy`",
        ),
        changed(
            "query without a position",
            "      from: -1h\n",
            "",
            (8, 7),
            "step `find`: query_messages needs a position",
        ),
        changed(
            "query with two positions",
            "      from: -1h\n",
            "      from: -1h\n      last: 10\n",
            (10, 7),
            "has both a time window (from/to) and the newest messages (last)",
        ),
        changed(
            "partition without offset",
            "      from: -1h\n",
            "      partition: 0\n",
            (9, 18),
            "`partition` names one message and needs `offset` too",
        ),
        changed(
            "window that ends before it starts",
            "      from: -1h\n",
            "      from: -1h\n      to: -2h\n",
            (10, 11),
            "`from` (-3600s) is not before `to` (-7200s)",
        ),
        changed(
            "invalid regex",
            "      contains: POISON",
            "      value_regex: \"(unclosed\"",
            (10, 20),
            "value_regex \"(unclosed\" is not a valid regular expression",
        ),
        changed(
            "bad duration",
            "strategy: { after_messages: find }",
            "strategy: { by_duration: 2 hours }",
            (14, 32),
            "invalid duration \"2 hours\"",
        ),
        changed("bad time", "      from: -1h", "      from: yesterday", (9, 13), "invalid time \"yesterday\""),
        changed(
            "unknown cluster",
            "cluster: local",
            "cluster: staging",
            (2, 10),
            "unknown cluster `staging` (clusters in ebb.yaml: local, tencent, huawei)",
        ),
        changed(
            "unknown param type",
            "{ type: string, default: orders }",
            "{ type: text, default: orders }",
            (4, 18),
            "params.topic.type: must be one of string, int, bool, duration, time, list, found \"text\"",
        ),
        changed(
            "default of the wrong type",
            "{ type: string, default: orders }",
            "{ type: int, default: orders }",
            (4, 32),
            "param `topic`: default does not fit type int",
        ),
        changed(
            "required param with a default",
            "{ type: string, default: orders }",
            "{ type: string, required: true, default: orders }",
            (4, 26),
            "param `topic` is required, so it cannot have a default",
        ),
        changed(
            "template that does not parse",
            "topic: \"{{params.topic}}\"",
            "topic: \"{{params.topic}\"",
            (8, 14),
            "query_messages.topic: template does not parse",
        ),
        changed(
            "template naming an undeclared param",
            "topic: \"{{params.topic}}\"",
            "topic: \"{{params.topik}}\"",
            (8, 14),
            "`params.topik` names no declared param `topik` (known: topic)",
        ),
        changed(
            "template naming a later step",
            "    reset_offsets:",
            "    when: \"{{gt steps.later.output.count 0}}\"\n    reset_offsets:",
            (16, 11),
            "step `reset`: when: `steps.later.output.count` names no earlier step `later`",
        ),
        changed(
            "template calling an unknown helper",
            "    reset_offsets:",
            "    when: \"{{bigger steps.find.output.count 0}}\"\n    reset_offsets:",
            (16, 11),
            "unknown helper `bigger`",
        ),
        changed(
            "unknown notify target",
            "    reset_offsets: { offsets: targets }\n",
            "    reset_offsets: { offsets: targets }\nnotify:\n  - { on: [failure], to: pager }\n",
            (18, 26),
            "notify[0]: unknown notify target `pager` (targets in ebb.yaml: ops-chat)",
        ),
        changed(
            "unknown run event",
            "    reset_offsets: { offsets: targets }\n",
            "    reset_offsets: { offsets: targets }\nnotify:\n  - { on: [explosion], to: ops-chat }\n",
            (18, 12),
            "notify[0].on[0]: must be one of success, failure, refused, missed, changes",
        ),
        changed(
            "name with capitals",
            "name: table-case",
            "name: Table_Case",
            (1, 7),
            "name: \"Table_Case\" does not match",
        ),
        changed(
            "retries below one attempt",
            "    reset_offsets:",
            "    retries: { attempts: 0 }\n    reset_offsets:",
            (16, 26),
            "retries.attempts: must be at least 1, found 0",
        ),
        case(
            "an empty file",
            "# nothing here yet\n",
            (1, 1),
            "the file is empty; a runbook needs name, cluster and steps",
        ),
        case("a list instead of a map", "- name: x\n", (1, 1), "expected a map, found a list"),
        case("no steps", "name: x\ncluster: local\nsteps: []\n", (3, 8), "steps: needs at least 1 item(s)"),
        case(
            "two documents in one file",
            "name: x\ncluster: local\nsteps: [{id: a, check: {that: x}}]\n---\nname: y\n",
            (5, 1),
            "a runbook file holds one YAML document",
        ),
        case(
            "cron with four fields",
            "name: x\ncluster: local\nschedule: { cron: \"* * * *\" }\nsteps: [{id: a, check: {that: x}}]\n",
            (3, 19),
            "schedule: invalid cron \"* * * *\": it has 4 fields",
        ),
        case(
            "cron day-of-week out of range",
            "name: x\ncluster: local\nschedule: { cron: \"0 3 * * 8\" }\nsteps: [{id: a, check: {that: x}}]\n",
            (3, 19),
            "day-of-week value 8 is outside 0–7",
        ),
        case(
            "cron with an unknown name",
            "name: x\ncluster: local\nschedule: { cron: \"0 3 * * FUNDAY\" }\nsteps: [{id: a, check: {that: x}}]\n",
            (3, 19),
            "day-of-week value \"FUNDAY\" is not a number or a name (SUN–SAT)",
        ),
        case(
            "unknown time zone",
            "name: x\ncluster: local\nschedule: { cron: \"@daily\", timezone: Europe/Berlinn }\nsteps: [{id: a, check: {that: x}}]\n",
            (3, 39),
            "unknown time zone \"Europe/Berlinn\"",
        ),
        case(
            "bad jitter",
            "name: x\ncluster: local\nschedule: { cron: \"@daily\", jitter: soon }\nsteps: [{id: a, check: {that: x}}]\n",
            (3, 37),
            "schedule.jitter: invalid duration \"soon\"",
        ),
        case(
            "purge without before",
            "name: x\ncluster: local\nsteps:\n  - id: p\n    purge_messages: { topic: t }\n",
            (5, 21),
            "step `p`: purge_messages: missing `before`",
        ),
        case(
            "purge on CKafka",
            "name: x\ncluster: tencent\nsteps:\n  - id: p\n    purge_messages: { topic: t, before: { older_than: 7d } }\n",
            (5, 5),
            "purge_messages cannot run on cluster `tencent` (ckafka): the Tencent Cloud CKafka API has no action that deletes messages",
        ),
        case(
            "partition offsets keyed by name",
            "name: x\ncluster: local\nsteps:\n  - id: p\n    purge_messages: { topic: t, before: { offsets: { first: 10 } } }\n",
            (5, 54),
            "key `first` must match ^[0-9]+$",
        ),
    ]
}

#[test]
fn each_broken_runbook_reports_its_one_mistake_where_it_is() {
    let cases = cases();
    assert!(cases.len() >= 25, "the table should hold at least 25 distinct mistakes, has {}", cases.len());
    let catalog = catalog();
    assert!(check_text(Path::new("valid.yaml"), VALID, &catalog).is_valid(), "the base runbook must be valid");
    let mut failures = Vec::new();
    for case in &cases {
        let checked = check_text(Path::new("case.yaml"), &case.yaml, &catalog);
        let expected = Location { line: case.line, column: case.column };
        let hit = checked.problems.iter().any(|p| p.at == expected && p.message.contains(case.message));
        if !hit || checked.problems.len() != 1 || checked.spec.is_some() {
            failures.push(format!(
                "{}: expected one problem at {expected} containing {:?}, got {:?}",
                case.mistake, case.message, checked.problems
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let yaml = VALID
        .replacen("cluster: local", "cluster: nowhere", 1)
        .replacen("from: -1h", "from: -1 hour", 1)
        .replacen("after_messages: find", "after_messages: lost", 1)
        .replacen("{ offsets: targets }", "{ offsets: targets, max_skip: many }", 1);
    let checked = check_text(Path::new("many.yaml"), &yaml, &catalog());
    let lines: Vec<usize> = checked.problems.iter().map(|p| p.at.line).collect();
    assert_eq!(lines, [2, 9, 14, 16], "{:#?}", checked.problems);
}

#[test]
fn a_valid_runbook_loads_as_typed_spec() {
    let checked = check_text(Path::new("valid.yaml"), VALID, &catalog());
    let spec = checked.spec.expect("valid");
    assert_eq!(spec.name, "table-case");
    assert_eq!(spec.steps.len(), 3);
    assert_eq!(spec.steps[2].kind.name(), "reset_offsets");
    assert_eq!(spec.params["topic"].default, Some(serde_json::json!("orders")));
}

#[test]
fn protect_groups_takes_a_keyword_or_a_list_of_groups() {
    for protect in ["all", "none", "[billing, audit]"] {
        let yaml = format!(
            "name: purge\ncluster: local\nsteps:\n  - id: purge\n    purge_messages:\n      topic: orders\n      before: {{ older_than: 7d }}\n      protect_groups: {protect}\n"
        );
        let checked = check_text(Path::new("purge.yaml"), &yaml, &catalog());
        assert!(checked.problems.is_empty(), "{protect}: {:#?}", checked.problems);
    }
    let yaml = "name: purge\ncluster: local\nsteps:\n  - id: purge\n    purge_messages:\n      topic: orders\n      before: { older_than: 7d }\n      protect_groups: some\n";
    let checked = check_text(Path::new("purge.yaml"), yaml, &catalog());
    assert_eq!(checked.problems.len(), 1, "{:#?}", checked.problems);
    assert!(checked.problems[0].message.contains("must be one of all, none"), "{:#?}", checked.problems);
}
