//! `ebb reset`, `ebb query` and `ebb purge`: one-offs built from flags that
//! go through the same plan, confirmation, history and rollback as a
//! runbook. Each reset's commits must equal what Apache's
//! `kafka-consumer-groups --reset-offsets --execute` commits for a twin group
//! given the same scope and strategy; a purge's log starts must equal what
//! Apache's `kafka-get-offsets` reads afterwards.

use std::collections::BTreeMap;

use ebb_testkit::{Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_keeping_history, now_ms};

type Offsets = BTreeMap<(String, i32), i64>;

async fn committed(group: &str) -> Offsets {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

/// A topic of three partitions of 40 records a minute apart, and commits at
/// 20, 25 and 30 for each group given.
async fn seeded(prefix: &str, groups: &[&str]) -> String {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique(&format!("{prefix}-t"));
    seeder.create_topic(&topic, 3).await;
    for p in 0..3 {
        seeder.produce_sequence(&topic, p, 40, &format!("order-{p}"), now_ms() - 50 * 60_000, 60_000).await;
    }
    for group in groups {
        seeder.commit(group, &[(&topic, 0, 20), (&topic, 1, 25), (&topic, 2, 30)]).await;
    }
    topic
}

fn ebb_in(data: &std::path::Path) -> Ebb {
    Ebb::new().config(&config_keeping_history(&shared_cluster().bootstrap, data))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_one_off_commits_what_apache_commits_and_rolls_back() {
    let bootstrap = &shared_cluster().bootstrap;
    let data = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<String>, Vec<&str>); 6] = [
        ("subset-to-offset", vec!["--topic".into(), ":0,2".into()], vec!["--to-offset", "5"]),
        ("shift-back", vec!["--topic".into(), String::new()], vec!["--shift-by", "-7"]),
        ("all-topics-earliest", vec!["--all-topics".into()], vec!["--to-earliest"]),
        ("latest", vec!["--topic".into(), String::new()], vec!["--to-latest"]),
        ("current", vec!["--topic".into(), String::new()], vec!["--to-current"]),
        // The file is written once the topic exists; both tools read the same one.
        ("from-file", vec!["--topic".into(), String::new()], vec!["--from-file", "@CSV"]),
    ];
    for (name, scope, strategy) in cases {
        let (ours, theirs) = (unique(&format!("oo-{name}-ebb")), unique(&format!("oo-{name}-apache")));
        let topic = seeded(name, &[&ours, &theirs]).await;
        let csv = data.path().join(format!("{name}.csv"));
        std::fs::write(&csv, format!("{topic},0,3\n{topic},1,7\n{topic},2,39\n")).unwrap();
        let csv = csv.display().to_string();
        let strategy: Vec<&str> = strategy.iter().map(|s| if *s == "@CSV" { csv.as_str() } else { s }).collect();
        // `--topic` takes the topic, with its partitions after a colon when given.
        let scope: Vec<String> = match scope.as_slice() {
            [flag, suffix] => vec![flag.clone(), format!("{topic}{suffix}")],
            other => other.to_vec(),
        };
        let before = committed(&ours).await;
        let mut args: Vec<String> = vec!["reset".into(), ours.clone()];
        args.extend(scope.iter().cloned());
        args.extend(strategy.iter().map(|s| s.to_string()));
        args.extend(["--yes".into(), "--output".into(), "json".into()]);
        let run = ebb_in(data.path()).args(args).run().success();
        let run_id = run.json()["plan"]["run_id"].as_str().expect("a run id").to_owned();

        let scope_refs: Vec<&str> = scope.iter().map(String::as_str).collect();
        apache::reset_offsets(bootstrap, &theirs, &scope_refs, &strategy, true).expect("Apache resets its twin");
        assert_eq!(committed(&ours).await, committed(&theirs).await, "{name}: ebb reset commits what Apache commits");

        let shown = ebb_in(data.path()).args(["show", &run_id]).run().success();
        assert!(shown.stdout.contains("command   ebb --config"), "{name}: {}", shown.stdout);
        assert!(shown.stdout.contains("As a runbook"), "{name}: {}", shown.stdout);
        let yaml = shown.stdout.split("As a runbook").nth(1).unwrap().split_once('\n').unwrap().1;
        let runbook: serde_yaml::Value = serde_yaml::from_str(yaml).expect("the runbook shown is YAML");
        assert_eq!(runbook["steps"][0]["reset_offsets"]["group"].as_str(), Some(ours.as_str()), "{name}");

        if name == "current" {
            // Where the group already is: nothing moved, so nothing to undo.
            ebb_in(data.path())
                .args(["rollback", &run_id, "--yes"])
                .run()
                .code(1)
                .stderr_contains("committed no offsets");
        } else {
            ebb_in(data.path()).args(["rollback", &run_id, "--yes"]).run().success();
        }
        assert_eq!(committed(&ours).await, before, "{name}: the rollback restores the group");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_changes_nothing_and_its_saved_plan_applies() {
    let data = tempfile::tempdir().unwrap();
    let group = unique("oo-dry");
    let topic = seeded("oo-dry", &[&group]).await;
    let before = committed(&group).await;
    let plan_file = data.path().join("reset.plan.json");
    let args = ["reset", &group, "--topic", &topic, "--to-earliest", "--dry-run", "--out"];
    let planned = ebb_in(data.path()).args(args).args([plan_file.to_str().unwrap()]).run().success();
    assert!(planned.stdout.contains("reset_offsets") || planned.stdout.contains("reset"), "{}", planned.stdout);
    assert_eq!(committed(&group).await, before, "a dry run commits nothing");
    ebb_in(data.path()).args(["apply", plan_file.to_str().unwrap()]).run().success();
    let after = committed(&group).await;
    assert!(after.values().all(|o| *o == 0), "the saved plan applied: {after:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_or_yes_nothing_is_changed() {
    let data = tempfile::tempdir().unwrap();
    let group = unique("oo-noterm");
    let topic = seeded("oo-noterm", &[&group]).await;
    let before = committed(&group).await;
    ebb_in(data.path())
        .args(["reset", &group, "--topic", &topic, "--to-latest"])
        .run()
        .code(1)
        .stderr_contains("stdin is not a terminal");
    assert_eq!(committed(&group).await, before);
    ebb_in(data.path())
        .args(["reset", &group, "--topic", &format!("{topic}:x"), "--to-latest", "--yes"])
        .run()
        .code(1)
        .stderr_contains("--topic");
    assert_eq!(committed(&group).await, before);
    // One partition list would narrow a topic given without one.
    ebb_in(data.path())
        .args(["reset", &group, "--topic", &topic, "--topic", &format!("{topic}:0"), "--to-latest", "--yes"])
        .run()
        .code(1)
        .stderr_contains("every topic or for none");
    assert_eq!(committed(&group).await, before);
    // An empty protection list is not `none`: refused, nothing deleted.
    ebb_in(data.path())
        .args(["purge", &topic, "--everything", "--protect", " , ", "--yes"])
        .run()
        .code(1)
        .stderr_contains("--protect");
    let starts = apache::get_offsets(&shared_cluster().bootstrap, &topic, "-2");
    assert!(starts.values().all(|s| *s == 0), "{starts:?}");
    // A backslash before braces cannot stay literal: refused, not rendered.
    ebb_in(data.path())
        .args(["query", &topic, "--contains", "x\\{{run.id}}"])
        .run()
        .code(1)
        .stderr_contains("backslash");
    // A query that stops still answers JSON when asked to.
    let missing = ebb_in(data.path()).args(["query", &unique("no-such-topic"), "--output", "json"]).run().code(1);
    assert_eq!(missing.json()["status"], "failed", "{}", missing.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_one_off_finds_what_was_written_and_keeps_typed_text_literal() {
    let data = tempfile::tempdir().unwrap();
    let topic = seeded("oo-query", &[]).await;
    let lines =
        ebb_in(data.path()).args(["query", &topic, "--contains", "order-1-3", "--output", "jsonl"]).run().success();
    let found: Vec<serde_json::Value> = lines.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // order-1-3 and order-1-30 … order-1-39.
    assert_eq!(found.len(), 11, "{}", lines.stdout);
    assert!(found.iter().all(|m| m["partition"] == 1 && m["value"].as_str().unwrap().contains("order-1-3")));

    let one = ebb_in(data.path())
        .args(["query", &topic, "--partition", "2", "--offset", "7", "--output", "json"])
        .run()
        .success();
    let one = one.json();
    assert_eq!(one["query"]["messages"][0]["value"], "order-2-7");
    assert_eq!(one["query"]["count"], 1);

    // Braces typed on the command line are text to find, not a template.
    let braces =
        ebb_in(data.path()).args(["query", &topic, "--contains", "{{params.x}}", "--output", "json"]).run().success();
    assert_eq!(braces.json()["query"]["count"], 0);
    let history = ebb_in(data.path()).args(["history", "--output", "json"]).run().success();
    assert!(history.stdout.contains("ebb-query"), "{}", history.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_one_off_deletes_what_the_group_consumed_and_no_more() {
    let bootstrap = &shared_cluster().bootstrap;
    let data = tempfile::tempdir().unwrap();
    let group = unique("oo-purge");
    let topic = seeded("oo-purge", &[&group]).await;
    ebb_in(data.path()).args(["purge", &topic, "--consumed-by", &group, "--dry-run"]).run().success();
    assert_eq!(apache::get_offsets(bootstrap, &topic, "-2"), BTreeMap::from([(0, 0), (1, 0), (2, 0)]), "dry run");
    ebb_in(data.path()).args(["purge", &topic, "--before-offset", "35", "--yes"]).run().success();
    assert_eq!(
        apache::get_offsets(bootstrap, &topic, "-2"),
        BTreeMap::from([(0, 20), (1, 25), (2, 30)]),
        "capped by what the group consumed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_run_is_declined_and_history_finds_runs_by_group_and_topic() {
    let bootstrap = &shared_cluster().bootstrap;
    let data = tempfile::tempdir().unwrap();
    let config = config_keeping_history(bootstrap, data.path());
    let (group, other) = (unique("oo-declined"), unique("oo-other"));
    let topic = seeded("oo-declined", &[&group, &other]).await;
    let before = committed(&group).await;

    let (code, screen) = crate::cli_harness::on_a_terminal_with(
        &config,
        "",
        &format!("reset {group} --topic {topic} --to-latest"),
        "no",
    );
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("Type yes to apply") && screen.contains("Not applied"), "{screen}");
    ebb_in(data.path()).args(["reset", &group, "--topic", &topic, "--to-latest"]).run().code(1);
    assert_eq!(committed(&group).await, before, "nothing was changed");

    let declined = ebb_in(data.path()).args(["history", "--status", "declined", "--output", "json"]).run().success();
    let runs = declined.json()["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2, "the prompt and the missing terminal: {runs:?}");
    assert!(
        runs.iter().all(|r| r["groups"] == serde_json::json!([group]) && r["topics"] == serde_json::json!([topic]))
    );

    ebb_in(data.path()).args(["reset", &other, "--topic", &topic, "--to-earliest", "--yes"]).run().success();
    let by_group = ebb_in(data.path()).args(["history", "--group", &other, "--output", "json"]).run().success();
    let by_group = by_group.json()["runs"].as_array().unwrap().clone();
    assert_eq!(by_group.len(), 1, "{by_group:?}");
    assert_eq!(by_group[0]["status"], "succeeded");
    let by_topic = ebb_in(data.path()).args(["history", "--topic", &topic, "--output", "json"]).run().success();
    assert_eq!(by_topic.json()["runs"].as_array().unwrap().len(), 3);
    let table = ebb_in(data.path()).args(["history", "--group", &other]).run().success();
    assert!(table.stdout.contains("GROUPS") && table.stdout.contains(&other), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_that_would_skip_says_so_and_the_example_refuses_it() {
    let data = tempfile::tempdir().unwrap();
    let group = unique("oo-replay");
    let topic = seeded("oo-replay", &[&group]).await;
    // Messages are a minute apart from 50 minutes ago; the group sits at 20, 25
    // and 30, so "the last 15 minutes" starts at about 35: forward, not back.
    let planned = ebb_in(data.path())
        .args(["reset", &group, "--topic", &topic, "--by-duration", "15m", "--dry-run"])
        .run()
        .success();
    let out = &planned.stdout;
    assert!(out.contains("MOVE") && out.contains("skip "), "{out}");
    assert!(out.contains("forward past") && out.contains("has not read"), "{out}");
    let back =
        ebb_in(data.path()).args(["reset", &group, "--topic", &topic, "--shift-by", "-3", "--dry-run"]).run().success();
    assert!(back.stdout.contains("re-read 3"), "{}", back.stdout);

    let example = ebb_testkit::repo_root().join("runbooks/replay-last-2h.yaml");
    let refused = ebb_in(data.path())
        .args(["plan", example.to_str().unwrap(), "--set", &format!("group={group}")])
        .args(["--set", &format!("topic={topic}"), "--set", "window=15m"])
        .run()
        .code(3);
    assert!(refused.stderr.contains("max_skip"), "{}\n{}", refused.stdout, refused.stderr);
    let before = committed(&group).await;
    ebb_in(data.path())
        .args(["plan", example.to_str().unwrap(), "--set", &format!("group={group}")])
        .args(["--set", &format!("topic={topic}"), "--set", "window=2h"])
        .run()
        .success();
    assert_eq!(committed(&group).await, before, "a plan changes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn skipping_a_poison_message_skips_only_the_poison() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let (topic, group) = (unique("oo-poison-t"), unique("oo-poison-g"));
    seeder.create_topic(&topic, 2).await;
    let recent = now_ms() - 10 * 60_000;
    // Partition 0: poison at 5 and 6, good orders 7 … 19, poison again at 20.
    let values: Vec<String> =
        (0..30).map(|i| if [5, 6, 20].contains(&i) { format!("POISON-{i}") } else { format!("order-{i}") }).collect();
    seeder.produce(&topic, 0, values.iter().map(|v| ebb_testkit::Record::value(v).at(recent))).await;
    seeder.produce_sequence(&topic, 1, 10, "order", recent, 1).await;
    seeder.commit(&group, &[(&topic, 0, 5), (&topic, 1, 3)]).await;
    let data = tempfile::tempdir().unwrap();
    let example = ebb_testkit::repo_root().join("runbooks/skip-poison-orders.yaml");
    let config = format!(
        "{}notify:\n  ops-chat: {{ webhook: {{ url: \"http://127.0.0.1:9/x\" }} }}\n",
        config_keeping_history(bootstrap, data.path())
    );
    Ebb::new()
        .config(&config)
        .args(["run", example.to_str().unwrap(), "--yes"])
        .args(["--set", &format!("topic={topic}"), "--set", &format!("group={group}")])
        .run()
        .success();
    let after = committed(&group).await;
    assert_eq!(after.get(&(topic.clone(), 0)), Some(&7), "past the poison run 5-6, not past 20: {after:?}");
    assert_eq!(after.get(&(topic.clone(), 1)), Some(&3), "no poison where the group is: unchanged");
}
