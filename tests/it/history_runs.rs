//! History through the CLI against the real broker: every plan, run, apply and
//! rollback is recorded; `ebb history` filters; `ebb show` has the plan, the
//! steps and the snapshot; `ebb rollback` restores the snapshot (cross-checked
//! with Apache's `kafka-consumer-groups --reset-offsets --from-file`) and says
//! purges cannot be undone.

use std::collections::BTreeMap;

use ebb_testkit::{Seeder, apache, shared_cluster};
use serde_json::{Value, json};

use crate::history_support::{Workspace, at, committed, topic_and_groups};

/// A topic of 2 partitions × 30 messages and a group committed at 10 on both.
async fn topic_and_group(prefix: &str) -> (String, String) {
    let (topic, mut groups) = topic_and_groups(prefix, &["g"]).await;
    (topic, groups.remove(0))
}

fn to_latest(name: &str, group: &str, topic: &str, guard: &str) -> String {
    format!(
        "name: {name}\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets{guard} }}\n"
    )
}

fn ids(runs: &[Value]) -> Vec<&str> {
    runs.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_is_recorded_and_history_filters_them() {
    let (topic, group) = topic_and_group("hist").await;
    let ws = Workspace::new();
    let rb = ws.runbook("rb.yaml", &to_latest("hist-latest", &group, &topic, ""));
    let guarded = ws.runbook("guarded.yaml", &to_latest("hist-guarded", &group, &topic, ", max_skip: 1"));
    let saved = ws.dir.join("plan.json").display().to_string();

    ws.ebb(["plan", &rb, "--out", &saved]).success();
    ws.ebb(["apply", &saved]).success();
    ws.ebb(["run", &rb, "--yes"]).success().stdout_contains("No changes.");
    Seeder::new(&shared_cluster().bootstrap).commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    ws.ebb(["run", &guarded, "--yes"]).code(3);

    let runs = ws.history([]);
    let summary: Vec<(&str, &str, &str, &str, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["runbook"].as_str().unwrap(),
                r["trigger"].as_str().unwrap(),
                r["mode"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["changes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("hist-guarded", "cli", "apply", "refused", 0),
            ("hist-latest", "cli", "apply", "succeeded", 0),
            ("hist-latest", "cli", "apply", "succeeded", 2),
            ("hist-latest", "cli", "plan", "succeeded", 2),
        ],
        "newest first"
    );
    let mut sorted = ids(&runs);
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(sorted, ids(&runs), "ids sort by start time");
    assert!(runs[0]["reason"].as_str().unwrap().contains("max_skip"), "{}", runs[0]);

    assert_eq!(ids(&ws.history(["--status", "refused"])), [ids(&runs)[0]]);
    assert_eq!(ids(&ws.history(["--runbook", "hist-latest"])), ids(&runs)[1..]);
    assert_eq!(
        ids(&ws.history(["--runbook", "hist-latest", "--status", "succeeded", "--limit", "2"])),
        ids(&runs)[1..3]
    );
    assert_eq!(ws.history(["--since", "-1h"]).len(), 4);
    assert!(ws.history(["--since", "2099-01-01T00:00:00Z"]).is_empty());
    let since_apply = runs[2]["started_at"].as_str().unwrap();
    assert_eq!(ids(&ws.history(["--since", since_apply])), ids(&runs)[..3]);
    ws.ebb(["history", "--status", "done"]).code(1).stderr_contains("running, succeeded, failed, refused, interrupted");
    ws.ebb(["history"]).success().stdout_contains("RUN").stdout_contains("hist-guarded");

    // The apply of the saved plan: its plan, its steps, its snapshot.
    let apply = ws.show(ids(&runs)[2]);
    assert_eq!(apply["format"], "ebb.run/v1");
    for (key, value) in [
        ("runbook", json!("hist-latest")),
        ("cluster", json!("local")),
        ("trigger", json!("cli")),
        ("mode", json!("apply")),
        ("status", json!("succeeded")),
        ("plan_id", runs[3]["id"].clone()),
        ("params", json!({})),
    ] {
        assert_eq!(apply[key], value, "{key}");
    }
    assert_eq!(apply["runbook_sha256"].as_str().unwrap().len(), 64);
    assert!(apply["started_at"].is_string() && apply["finished_at"].is_string());
    assert_eq!(apply["plan"]["format"], "ebb.plan/v1");
    assert_eq!(apply["plan"]["steps"][1]["changes"].as_array().unwrap().len(), 2);
    let reset = &apply["apply"]["steps"][1];
    assert_eq!((&reset["id"], &reset["status"]), (&json!("reset"), &json!("applied")));
    assert_eq!(
        reset["reset"]["snapshot"],
        json!([{"topic": topic, "partition": 0, "offset": 10}, {"topic": topic, "partition": 1, "offset": 10}])
    );
    assert_eq!(reset["reset"]["results"][0]["outcome"], "committed");
    assert!(reset["started_at"].as_str().unwrap() <= reset["finished_at"].as_str().unwrap(), "{reset}");
    // A unique start of an id will do.
    let start = &ids(&runs)[2][..22];
    ws.ebb(["show", start]).success().stdout_contains("Snapshot").stdout_contains("OFFSET-BEFORE");
    ws.ebb(["show", "0000000000"]).code(1).stderr_contains("no run 0000000000 in history");
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_restores_the_snapshot_like_apaches_from_file_and_is_recorded() {
    let (topic, group) = topic_and_group("undo").await;
    let ws = Workspace::new();
    let rb = ws.runbook("rb.yaml", &to_latest("undo-latest", &group, &topic, ""));
    ws.ebb(["run", &rb, "--yes"]).success();
    assert_eq!(committed(&group).await, at(&topic, [30, 30]));
    let run = ws.history([])[0]["id"].as_str().unwrap().to_owned();

    // Apache's tool, given the snapshot as a CSV, computes the same targets.
    let csv = ws.dir.join("snapshot.csv");
    std::fs::write(&csv, format!("{topic},0,10\n{topic},1,10\n")).unwrap();
    let apache = apache::reset_offsets(
        &shared_cluster().bootstrap,
        &group,
        &["--all-topics"],
        &["--from-file", csv.to_str().unwrap()],
        false,
    )
    .unwrap();
    let plan = ws.ebb(["rollback", &run, "--plan-only", "--output", "json"]).success().json();
    assert_eq!(plan["rollback_of"], run.as_str());
    let targets: BTreeMap<(String, i32), i64> = plan["steps"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (c["topic"].as_str().unwrap().to_owned(), c["partition"].as_i64().unwrap() as i32),
                c["target"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(targets, apache);
    assert_eq!(committed(&group).await, at(&topic, [30, 30]), "a plan changes nothing");

    ws.ebb(["rollback", &run, "--yes"]).success().stdout_contains("Rollback plan for run");
    assert_eq!(committed(&group).await, at(&topic, [10, 10]));
    let runs = ws.history([]);
    let recorded: Vec<(&str, &str, &str, &str)> = runs[..2]
        .iter()
        .map(|r| {
            (
                r["trigger"].as_str().unwrap(),
                r["mode"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["rollback_of"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [("rollback", "apply", "succeeded", run.as_str()), ("rollback", "plan", "succeeded", run.as_str())]
    );
    // The rollback has its own snapshot, so it can be rolled back in turn.
    ws.ebb(["rollback", runs[0]["id"].as_str().unwrap(), "--yes"]).success();
    assert_eq!(committed(&group).await, at(&topic, [30, 30]));

    // A plan changed nothing; there is nothing to undo.
    let plan_run = ws.history(["--status", "succeeded"]).into_iter().find(|r| r["mode"] == "plan").unwrap();
    ws.ebb(["rollback", plan_run["id"].as_str().unwrap(), "--yes"]).code(1).stderr_contains("was a plan only");
    ws.ebb(["rollback", &run]).code(1).stderr_contains("pass --yes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_of_a_purge_says_it_cannot_be_undone() {
    let (topic, _) = topic_and_group("undo-purge").await;
    let ws = Workspace::new();
    let purge = format!(
        "name: undo-purge\ncluster: local\nsteps:\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ offset: 5 }}, protect_groups: none }}\n"
    );
    let rb = ws.runbook("purge.yaml", &purge);
    ws.ebb(["run", &rb, "--yes"]).success();
    let run = ws.history([])[0]["id"].as_str().unwrap().to_owned();
    ws.ebb(["rollback", &run, "--plan-only"])
        .success()
        .stdout_contains("note: step `purge` deleted 10 record(s) from topic")
        .stdout_contains("purges cannot be undone")
        .stdout_contains("No changes.");
}
