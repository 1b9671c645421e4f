//! What people expect of a command line: `ebb init` for a first ebb.yaml and
//! runbook, completions and a man page generated from the command line,
//! colour on a terminal only (never in a pipe, never with NO_COLOR), and each
//! error said once.

use ebb_testkit::shared_cluster;

use crate::cli_harness::{Ebb, config_for, on_a_terminal_in_env};

/// Whether `text` sets a colour or weight (SGR: `ESC [ digits ; … m`); a
/// progress bar's line clearing does not count.
fn has_colour(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|rest| {
        let Some(body) = rest.strip_prefix('[') else { return false };
        let end = body.find(|c: char| !(c.is_ascii_digit() || c == ';')).unwrap_or(body.len());
        body[end..].starts_with('m')
    })
}

#[test]
fn init_writes_a_config_and_runbook_that_validate_and_never_replaces_them() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("ops");
    let at_text = at.to_str().unwrap();
    Ebb::new()
        .args(["init", "--bootstrap", "127.0.0.1:9092", "--dir", at_text])
        .run()
        .success()
        .stdout_contains("Wrote");
    let config = std::fs::read_to_string(at.join("ebb.yaml")).unwrap();
    assert!(config.contains("bootstrap_servers: 127.0.0.1:9092") && config.contains("# "), "{config}");
    // Validates with none of the commented variables set.
    Ebb::new().args(["--config", at.join("ebb.yaml").to_str().unwrap(), "validate"]).run().success();
    let again = Ebb::new().args(["init", "--bootstrap", "127.0.0.1:9093", "--dir", at_text]).run().code(1);
    assert!(again.stderr.contains("exists") && again.stderr.contains("ebb.yaml"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(at.join("ebb.yaml")).unwrap(), config, "never replaced");
    Ebb::new()
        .args(["init", "--bootstrap", "a:1\nruns: /etc", "--dir", at_text])
        .run()
        .code(1)
        .stderr_contains("--bootstrap");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let script = Ebb::new().args(["completions", shell]).run().success();
        assert!(script.stdout.contains("reset") && script.stdout.contains("rollback"), "{shell}: {}", script.stdout);
    }
    let man = Ebb::new().args(["man"]).run().success();
    assert!(man.stdout.contains(".TH ebb") && man.stdout.contains("reset"), "{}", &man.stdout[..200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn colour_on_a_terminal_only_and_each_error_said_once() {
    let bootstrap = &shared_cluster().bootstrap;
    let runbook = "name: t\ncluster: local\nparams:\n  topic: { type: string, required: true }\nsteps:\n  - id: find\n    query_messages:\n      topic: \"{{params.topic}}\"\n      last: 1\n";
    let config = config_for(bootstrap);
    let topic = ebb_testkit::unique("polish");
    ebb_testkit::Seeder::new(bootstrap).create_topic(&topic, 1).await;
    let plan = format!("plan rb.yaml --set topic={topic}");
    let (code, screen) = on_a_terminal_in_env(&config, runbook, &plan, "", &[("TERM", "xterm")]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("\u{1b}[32mNo changes."), "green on a terminal: {screen:?}");
    let (_, plain) = on_a_terminal_in_env(&config, runbook, &plan, "", &[("TERM", "xterm"), ("NO_COLOR", "1")]);
    assert!(plain.contains("No changes.") && !has_colour(&plain), "NO_COLOR: {plain:?}");
    let piped = Ebb::new()
        .config(&config)
        .file("rb.yaml", runbook)
        .args(["plan", "rb.yaml", "--set", &format!("topic={topic}")])
        .run()
        .success();
    assert!(!piped.stdout.contains('\u{1b}') && !piped.stderr.contains('\u{1b}'), "a pipe: {:?}", piped.stdout);

    let bad = Ebb::new()
        .config(&config)
        .file("rb.yaml", runbook)
        .args(["plan", "rb.yaml", "--set", "topic=no/slash"])
        .run()
        .code(1);
    assert_eq!(bad.stderr.matches("step `find`").count(), 1, "said once: {}", bad.stderr);
    assert!(bad.stderr.contains("field `topic`"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_variable_only_the_daemon_uses_stops_only_the_daemon() {
    let bootstrap = &shared_cluster().bootstrap;
    let config = format!(
        "{}daemon:\n  tokens:\n    - {{ name: me, role: operator, token: \"${{EBB_TOKEN_SURELY_UNSET}}\" }}\nnotify:\n  ops-chat: {{ webhook: {{ url: \"${{EBB_HOOK_SURELY_UNSET}}\" }} }}\n",
        config_for(bootstrap)
    );
    let topic = ebb_testkit::unique("lazy");
    ebb_testkit::Seeder::new(bootstrap).create_topic(&topic, 1).await;
    Ebb::new().config(&config).args(["cluster", "describe", "--topic", &topic]).run().success();
    Ebb::new().config(&config).args(["query", &topic]).run().success();
    let daemon = Ebb::new().config(&config).args(["daemon", "--listen", "127.0.0.1:0"]).run().code(1);
    assert!(daemon.stderr.contains("EBB_TOKEN_SURELY_UNSET is not set"), "{}", daemon.stderr);
    assert!(daemon.stderr.contains("daemon.tokens[0].token"), "{}", daemon.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_examples_plan_against_a_minimal_config_and_strict_validation_names_missing_targets() {
    let bootstrap = &shared_cluster().bootstrap;
    let config = config_for(bootstrap);
    let example = ebb_testkit::repo_root().join("runbooks/skip-poison-orders.yaml");
    let example = example.to_str().unwrap();
    let topic = ebb_testkit::unique("minimal");
    ebb_testkit::Seeder::new(bootstrap).create_topic(&topic, 1).await;
    let lenient = Ebb::new().config(&config).args(["validate", example]).run().success();
    assert!(lenient.stdout.contains("warning: notify[0]: unknown notify target `ops-chat`"), "{}", lenient.stdout);
    let strict = Ebb::new().config(&config).args(["validate", "--strict", example]).run().code(1);
    assert!(strict.stdout.contains("unknown notify target `ops-chat`"), "{}", strict.stdout);
    let planned =
        Ebb::new().config(&config).args(["plan", example, "--set", &format!("topic={topic}")]).run().success();
    assert!(planned.stderr.contains("warning:") && planned.stderr.contains("ops-chat"), "{}", planned.stderr);
}
