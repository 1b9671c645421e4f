//! A plan file is evidence, not instructions: `ebb apply` applies only a file
//! that equals the plan history stored under its run id. Hand edits — a
//! negative target, a target past the runbook's guard, another group, another
//! cluster, another runbook with its own SHA — are refused with exit 3, with or
//! without `--force`, and nothing is committed (checked with Apache's
//! kafka-consumer-groups). And `ebb run FILE` / `ebb plan FILE` through a
//! daemon never run the daemon's different runbook of the same name.

use std::collections::BTreeMap;
use std::path::Path;

use ebb_testkit::{Seeder, apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, config_keeping_history, now_ms};
use crate::daemon_support::DaemonWorkspace;

/// A topic of 2 partitions × 30 messages, and two groups committed at 10 on both.
async fn topic_and_groups(prefix: &str) -> (String, String, String) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique(&format!("{prefix}-t"));
    let (group, other) = (unique(&format!("{prefix}-g")), unique(&format!("{prefix}-o")));
    seeder.create_topic(&topic, 2).await;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 30, "m", now_ms() - 60_000, 1).await;
    }
    for g in [&group, &other] {
        seeder.commit(g, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    }
    (topic, group, other)
}

fn to_offset(name: &str, group: &str, topic: &str) -> String {
    format!(
        "name: {name}\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_offset: 20 }}, max_skip: 25 }}\n"
    )
}

/// The group's offsets as Apache's kafka-consumer-groups describes them.
fn oracle(group: &str) -> BTreeMap<(String, i32), Option<i64>> {
    apache::group_offsets(&shared_cluster().bootstrap, group)
        .into_iter()
        .map(|row| ((row.topic, row.partition), row.current))
        .collect()
}

fn at(topic: &str, offset: i64) -> BTreeMap<(String, i32), Option<i64>> {
    BTreeMap::from([((topic.to_owned(), 0), Some(offset)), ((topic.to_owned(), 1), Some(offset))])
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_edited_plan_is_refused_even_when_forced_and_nothing_is_committed() {
    let (topic, group, other) = topic_and_groups("evidence").await;
    let dir = std::env::temp_dir().join(unique("evidence"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_keeping_history(&shared_cluster().bootstrap, &dir.join("history"));
    let ebb = || Ebb::new().config(&config);
    let rb = dir.join("rb.yaml");
    std::fs::write(&rb, to_offset("evidence", &group, &topic)).unwrap();
    let saved = dir.join("plan.json");
    ebb().args(["plan", rb.to_str().unwrap(), "--out", saved.to_str().unwrap()]).run().success();
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(plan["steps"][0]["changes"][0]["target"], 20, "{plan}");

    // Another runbook, whose SHA the edit gives too, for another group.
    let elsewhere = dir.join("elsewhere.yaml");
    let elsewhere_text = to_offset("evidence", &other, &topic);
    std::fs::write(&elsewhere, &elsewhere_text).unwrap();
    let elsewhere_sha = ebb::engine::sha256_hex(elsewhere_text.as_bytes());

    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, &str, Edit)> = vec![
        (
            "a negative target",
            "steps[0].changes[0].target",
            Box::new(|p| p["steps"][0]["changes"][0]["target"] = (-7).into()),
        ),
        (
            "a target past the guard",
            "steps[0].changes[0].target",
            Box::new(|p| p["steps"][0]["changes"][0]["target"] = 29.into()),
        ),
        ("another group", "steps[0].group", {
            let other = other.clone();
            Box::new(move |p| p["steps"][0]["group"] = other.clone().into())
        }),
        ("another cluster", "cluster", Box::new(|p| p["cluster"] = "elsewhere".into())),
        ("another runbook with its SHA", "runbook_path", {
            let (path, sha) = (elsewhere.display().to_string(), elsewhere_sha.clone());
            Box::new(move |p| {
                p["runbook_path"] = path.clone().into();
                p["runbook_sha256"] = sha.clone().into();
            })
        }),
    ];
    for (what, field, edit) in &edits {
        let mut edited = plan.clone();
        edit(&mut edited);
        let file = dir.join("edited.json");
        write_json(&file, &edited);
        for force in [false, true] {
            let mut args = vec!["apply", file.to_str().unwrap()];
            if force {
                args.push("--force");
            }
            let out = ebb().args(args).run().code(3);
            assert!(
                out.stderr.contains("the plan file differs from the plan ebb made")
                    && out.stderr.contains(&format!("`{field}`")),
                "{what} (force {force}):\n{}",
                out.stderr
            );
        }
        assert_eq!(oracle(&group), at(&topic, 10), "{what}: nothing was committed");
        assert_eq!(oracle(&other), at(&topic, 10), "{what}: nothing was committed");
    }

    // A plan this history never made is no evidence either.
    let mut unknown = plan.clone();
    unknown["run_id"] = "01ZZZZZZZZZZZZZZZZZZZZZZZZ".into();
    write_json(&dir.join("unknown.json"), &unknown);
    ebb()
        .args(["apply", dir.join("unknown.json").to_str().unwrap(), "--force"])
        .run()
        .code(3)
        .stderr_contains("no plan with run id 01ZZZZZZZZZZZZZZZZZZZZZZZZ is in history");
    assert_eq!(oracle(&group), at(&topic, 10));

    // The faithful copy applies.
    ebb().args(["apply", saved.to_str().unwrap()]).run().success();
    assert_eq!(oracle(&group), at(&topic, 20));
    assert_eq!(oracle(&other), at(&topic, 10));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_negative_offset_never_reaches_the_broker_from_a_runbook() {
    let (topic, group, _) = topic_and_groups("negative").await;
    let dir = std::env::temp_dir().join(unique("negative"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_keeping_history(&shared_cluster().bootstrap, &dir.join("history"));
    // Given offsets are clamped to the log; a file's negative offset is refused.
    let given = format!(
        "name: negative\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, strategy: {{ offsets: {{ {topic}: {{ 0: -7 }} }} }} }}\n"
    );
    Ebb::new().config(&config).file("rb.yaml", &given).args(["run", "rb.yaml", "--yes"]).run().success();
    assert_eq!(oracle(&group)[&(topic.clone(), 0)], Some(0), "clamped to the log start, never -7");
    let from_file = format!(
        "name: negative-file\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, strategy: {{ from_file: offsets.csv }} }}\n"
    );
    Ebb::new()
        .config(&format!("{config}files_dir: .\n"))
        .file("rb.yaml", &from_file)
        .file("offsets.csv", &format!("{topic},1,-7\n"))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(1)
        .stdout_contains("line 1: the offset is not a number of 0 or more");
    assert_eq!(oracle(&group)[&(topic.clone(), 1)], Some(10), "nothing was committed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn through_the_daemon_a_file_that_differs_from_the_daemons_copy_is_never_run() {
    let (topic, group, other) = topic_and_groups("same-file").await;
    let ws = DaemonWorkspace::new("");
    let ours = to_offset("same-file", &group, &topic);
    ws.runbook("same-file.yaml", &ours);
    let _daemon = ws.start();
    // An edited copy with the same name, for another group.
    let edited = ws.dir.join("my-edit.yaml");
    std::fs::write(&edited, to_offset("same-file", &other, &topic)).unwrap();
    let edited = edited.to_str().unwrap();
    for args in [vec!["run", edited, "--yes"], vec!["plan", edited]] {
        let out = ws.ebb_args(&args).code(3);
        assert!(out.stderr.contains("is not the file you gave, so nothing was run"), "{args:?}:\n{}", out.stderr);
    }
    assert_eq!(oracle(&group), at(&topic, 10), "the daemon's runbook did not run");
    assert_eq!(oracle(&other), at(&topic, 10), "nor the edit");

    // The daemon's own file, or its name, runs; a plan saved through the daemon
    // applies through it, and an edit of that plan is refused.
    let own = ws.dir.join("runbooks/same-file.yaml");
    let saved = ws.dir.join("plan.json");
    ws.ebb_args(&["plan", own.to_str().unwrap(), "--out", saved.to_str().unwrap()]).success();
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    plan["steps"][0]["changes"][0]["target"] = (-7).into();
    let hand_edited = ws.dir.join("edited-plan.json");
    write_json(&hand_edited, &plan);
    ws.ebb_args(&["apply", hand_edited.to_str().unwrap()])
        .code(3)
        .stderr_contains("`steps[0].changes[0].target` was changed");
    assert_eq!(oracle(&group), at(&topic, 10));
    ws.ebb_args(&["apply", saved.to_str().unwrap()]).success();
    assert_eq!(oracle(&group), at(&topic, 20));
    assert_eq!(oracle(&other), at(&topic, 10));
}
