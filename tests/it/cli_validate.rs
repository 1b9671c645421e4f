//! `ebb validate` and `ebb schema` as an operator or a CI job runs them.

use crate::cli_harness::Ebb;

const CONFIG: &str = r#"
runbooks: ./runbooks
clusters:
  local: { kafka: { bootstrap_servers: "127.0.0.1:1" } }
  tencent:
    ckafka: { region: r, instance_id: i, secret_id: "${EBB_TEST_UNSET_ID}", secret_key: "${EBB_TEST_UNSET_KEY}" }
notify:
  ops-chat: { webhook: { url: "${EBB_TEST_UNSET_HOOK}" } }
"#;

const GOOD: &str =
    "name: good\ncluster: local\nsteps:\n  - id: purge\n    purge_messages: { topic: t, before: { older_than: 7d } }\n";
const BAD: &str = "name: bad\ncluster: tencent\nsteps:\n  - id: purge\n    purge_messages: { topic: t, before: { older_than: 7 days } }\n    colour: red\n";

#[test]
fn the_runbooks_directory_is_the_default_and_secrets_need_not_be_set() {
    Ebb::new()
        .config(CONFIG)
        .file("runbooks/good.yaml", GOOD)
        .file("runbooks/notes.txt", "not a runbook")
        .args(["validate"])
        .run()
        .success()
        .stdout_contains("runbooks/good.yaml: ok (good)")
        .stdout_contains("1 runbook(s) valid");
}

#[test]
fn problems_print_as_file_line_column_and_exit_1() {
    let out = Ebb::new()
        .config(CONFIG)
        .file("runbooks/good.yaml", GOOD)
        .file("runbooks/bad.yaml", BAD)
        .args(["validate"])
        .run()
        .code(1)
        .stdout_contains("runbooks/bad.yaml:5:5: step `purge`: purge_messages cannot run on cluster `tencent` (ckafka)")
        .stdout_contains(
            "runbooks/bad.yaml:5:55: step `purge`: purge_messages.before.older_than: invalid duration \"7 days\"",
        )
        .stdout_contains("runbooks/bad.yaml:6:5: step `purge`: unknown key `colour`")
        .stdout_contains("1 of 2 runbook(s) invalid, 3 problem(s)");
    assert!(out.stdout.contains("good.yaml: ok"), "{}", out.stdout);
}

#[test]
fn json_output_is_for_machines() {
    let out = Ebb::new()
        .config(CONFIG)
        .file("a.yaml", GOOD)
        .file("b.yaml", BAD)
        .args(["validate", "a.yaml", "b.yaml", "--output", "json"])
        .run()
        .code(1);
    let report = out.json();
    assert_eq!(report["valid"], false);
    assert_eq!(report["files"][0]["valid"], true);
    assert_eq!(report["files"][0]["name"], "good");
    let problems = report["files"][1]["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 3);
    assert_eq!(problems[0]["line"], 5);
    assert_eq!(problems[0]["column"], 5);
    assert!(problems[0]["message"].as_str().unwrap().contains("cannot run on cluster `tencent`"));
}

#[test]
fn names_are_unique_across_files_and_missing_paths_are_errors() {
    Ebb::new()
        .config(CONFIG)
        .file("runbooks/a.yaml", GOOD)
        .file("runbooks/b.yaml", GOOD)
        .args(["validate"])
        .run()
        .code(1)
        .stdout_contains("runbooks/b.yaml:1:7: runbook name `good` is already used by");
    Ebb::new()
        .config(CONFIG)
        .args(["validate", "nowhere.yaml"])
        .run()
        .code(1)
        .stdout_contains("nowhere.yaml:0:0: cannot read");
}

#[test]
fn schema_needs_no_config_and_matches_the_checked_in_file() {
    let out = Ebb::new().args(["schema"]).run().success();
    let checked_in = std::fs::read_to_string(ebb_testkit::repo_root().join("schemas/runbook.schema.json")).unwrap();
    assert!(out.stdout == checked_in, "`ebb schema` differs from schemas/runbook.schema.json");
    let schema = out.json();
    assert_eq!(schema["title"], "ebb runbook");
    assert!(schema["$defs"]["Strategy"]["properties"]["after_messages"]["description"].is_string());
}

#[test]
fn set_checks_params_as_a_run_would() {
    let runbook = "name: p\ncluster: local\nparams:\n  max: { type: int, default: 5 }\n  group: { type: string, required: true }\nsteps:\n  - id: c\n    check: { that: \"{{gt params.max 1}}\" }\n";
    Ebb::new()
        .config(CONFIG)
        .file("p.yaml", runbook)
        .args(["validate", "p.yaml", "--set", "group=billing", "--set", "max=9"])
        .run()
        .success();
    Ebb::new()
        .config(CONFIG)
        .file("p.yaml", runbook)
        .args(["validate", "p.yaml", "--set", "max=lots", "--set", "colour=red"])
        .run()
        .code(1)
        .stdout_contains("p.yaml:3:1: --set: param `max` (int): expected a whole number, found \"lots\"")
        .stdout_contains("p.yaml:3:1: --set: unknown param `colour` (params: group, max)")
        .stdout_contains("p.yaml:3:1: --set: param `group` is required");
    Ebb::new()
        .config(CONFIG)
        .file("p.yaml", runbook)
        .args(["validate", "p.yaml", "--set", "novalue"])
        .run()
        .code(1)
        .stderr_contains("--set \"novalue\" is not key=value");
}
