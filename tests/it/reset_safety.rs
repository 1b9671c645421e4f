//! What keeps a reset safe, through the CLI against the real broker: the
//! group-state gate with a real polling member, `wait_for_inactive`, guards,
//! `check`, drift between a saved plan and its apply, unknown topics, and the
//! confirmation `ebb run` needs. Every refusal exits 3 and changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use ebb_testkit::{LiveMember, Seeder, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_for, config_keeping_history, on_a_terminal};

type Offsets = BTreeMap<(String, i32), i64>;

async fn committed(group: &str) -> Offsets {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

/// A topic of 2 partitions × 30 messages and a group committed at 10 on both.
async fn topic_and_group(prefix: &str) -> (String, String) {
    crate::cli_harness::seeded_topic_and_group(prefix, 2, "m").await
}

fn to_latest(group: &str, topic: &str, extra: &str) -> String {
    format!(
        "name: to-latest\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets{extra} }}\n"
    )
}

fn ebb() -> Ebb {
    Ebb::new().config(&config_for(&shared_cluster().bootstrap))
}

/// `ebb` keeping its history in `data_dir`: a saved plan is applied only where its plan is in history.
fn ebb_keeping(data_dir: &std::path::Path) -> Ebb {
    Ebb::new().config(&config_keeping_history(&shared_cluster().bootstrap, data_dir))
}

fn before(topic: &str) -> Offsets {
    BTreeMap::from([((topic.to_owned(), 0), 10), ((topic.to_owned(), 1), 10)])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_member_refuses_the_reset_naming_state_and_members() {
    let (topic, group) = topic_and_group("live").await;
    let saved = std::env::temp_dir().join(unique("plan-live") + ".json");
    let history = std::env::temp_dir().join(unique("history-live"));
    let saved = saved.to_str().unwrap();
    let rb = to_latest(&group, &topic, "");
    ebb_keeping(&history).file("rb.yaml", &rb).args(["plan", "rb.yaml", "--out", saved]).run().success();
    let member = LiveMember::join(&shared_cluster().bootstrap, &group, &topic, "billing-worker-7");

    // A group that became active since the plan is drift, and --force does not pass the gate.
    let keeping = || ebb_keeping(&history).file("rb.yaml", &rb);
    keeping().args(["apply", saved]).run().code(3).stdout_contains("billing-worker-7 on 127.0.0.1 now");
    keeping().args(["apply", saved, "--force"]).run().code(3).stdout_contains("is Stable with 1 member(s)");
    let _ = std::fs::remove_file(saved);
    let _ = std::fs::remove_dir_all(&history);
    assert_eq!(committed(&group).await, before(&topic), "nothing was committed");

    let plan = ebb().file("rb.yaml", &to_latest(&group, &topic, "")).args(["plan", "rb.yaml"]).run().success();
    assert!(
        plan.stdout.contains("warning: group") && plan.stdout.contains("billing-worker-7 on 127.0.0.1"),
        "{}",
        plan.stdout
    );

    ebb()
        .file("rb.yaml", &to_latest(&group, &topic, ""))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(3)
        .stdout_contains("Refused: step `reset`: group")
        .stdout_contains("is Stable with 1 member(s): billing-worker-7 on 127.0.0.1");
    assert_eq!(committed(&group).await, before(&topic), "nothing was committed");

    // wait_for_inactive: the member leaves while ebb waits, and the reset goes through.
    let leave = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        drop(member);
    });
    ebb()
        .file("rb.yaml", &to_latest(&group, &topic, ", wait_for_inactive: 60s"))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .success()
        .stdout_contains("Succeeded: 2 partition(s) committed and verified.");
    leave.join().unwrap();
    assert_eq!(committed(&group).await, BTreeMap::from([((topic.clone(), 0), 30), ((topic, 1), 30)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_emptied_group_of_the_kip848_protocol_is_reset() {
    let (topic, group) = topic_and_group("kip848").await;
    let member =
        LiveMember::join_with_protocol(&shared_cluster().bootstrap, &group, &topic, "modern-worker", "consumer");
    let text = to_latest(&group, &topic, "");
    ebb()
        .file("rb.yaml", &text)
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(3)
        .stdout_contains("modern-worker on 127.0.0.1");
    drop(member);
    ebb()
        .file("rb.yaml", &to_latest(&group, &topic, ", wait_for_inactive: 60s"))
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .success()
        .stdout_contains("Succeeded: 2 partition(s) committed and verified.");
    assert_eq!(committed(&group).await, BTreeMap::from([((topic.clone(), 0), 30), ((topic, 1), 30)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn guards_and_checks_refuse_with_exit_3_and_change_nothing() {
    let (topic, group) = topic_and_group("guard").await;
    for (extra, expected) in [
        (", max_skip: 39", "would skip 40 message(s), above max_skip 39"),
        (", max_partitions: 1", "would change 2 partition(s), above max_partitions 1"),
    ] {
        let text = to_latest(&group, &topic, extra);
        ebb()
            .file("rb.yaml", &text)
            .args(["plan", "rb.yaml", "--output", "json"])
            .run()
            .code(3)
            .stdout_contains(expected)
            .stderr_contains(&format!("refused: step `reset`: the reset of group \"{group}\" would"));
        ebb().file("rb.yaml", &text).args(["run", "rb.yaml", "--yes"]).run().code(3).stdout_contains(expected);
    }
    ebb().file("rb.yaml", &to_latest(&group, &topic, ", max_skip: 40")).args(["plan", "rb.yaml"]).run().success();

    let checked = format!(
        "name: checked\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: small\n    check: {{ that: \"{{{{lt steps.targets.output.total_skip 10}}}}\", message: \"skip {{{{steps.targets.output.total_skip}}}} is too far\" }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n"
    );
    ebb()
        .file("rb.yaml", &checked)
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(3)
        .stdout_contains("skip 40 is too far");
    assert_eq!(committed(&group).await, before(&topic));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_stale_unless_forced() {
    let (topic, group) = topic_and_group("drift").await;
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let text = to_latest(&group, &topic, "");
    let history = std::env::temp_dir().join(unique("history-drift"));
    let dir_ebb = || ebb_keeping(&history).file("rb.yaml", &text);

    // Offsets moved since the plan: refused, naming the partition; --force applies the plan.
    let plan_file = std::env::temp_dir().join(unique("plan-drift") + ".json");
    let plan_path = plan_file.to_str().unwrap();
    dir_ebb().args(["plan", "rb.yaml", "--out", plan_path, "--detailed-exitcode"]).run().code(2);
    seeder.commit(&group, &[(&topic, 1, 12)]).await;
    dir_ebb()
        .args(["apply", plan_path])
        .run()
        .code(3)
        .stdout_contains(&format!("committed offset on {topic}:1 moved from 10 to 12"));
    assert_eq!(committed(&group).await[&(topic.clone(), 1)], 12, "nothing was changed");
    let applied = dir_ebb().args(["apply", plan_path, "--force", "--output", "json"]).run().success().json();
    assert_eq!(applied["status"], "succeeded");
    assert_eq!(applied["forced"], true);
    let reset = &applied["steps"][1]["reset"];
    assert_eq!(reset["snapshot"][1]["offset"], 12, "the snapshot holds the offsets as they were at apply");
    assert_eq!(committed(&group).await, BTreeMap::from([((topic.clone(), 0), 30), ((topic.clone(), 1), 30)]));

    // The runbook file changed since the plan.
    seeder.commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    let dir = std::env::temp_dir().join(unique("plan-runbook"));
    std::fs::create_dir_all(&dir).unwrap();
    let runbook = dir.join("rb.yaml");
    std::fs::write(&runbook, &text).unwrap();
    let saved = dir.join("plan.json");
    ebb_keeping(&history).args(["plan", runbook.to_str().unwrap(), "--out", saved.to_str().unwrap()]).run().success();
    std::fs::write(&runbook, format!("{text}# edited\n")).unwrap();
    ebb_keeping(&history)
        .args(["apply", saved.to_str().unwrap()])
        .run()
        .code(3)
        .stdout_contains("changed since the plan was made");
    ebb_keeping(&history).args(["apply", saved.to_str().unwrap(), "--force"]).run().success();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&history);
    let _ = std::fs::remove_file(&plan_file);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_fails_before_any_commit() {
    let (topic, group) = topic_and_group("bad").await;
    let missing = unique("no-such-topic");
    let text = to_latest(&group, &missing, "");
    ebb()
        .file("rb.yaml", &text)
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(1)
        .stdout_contains(&format!("topic \"{missing}\" does not exist"))
        .stderr_contains("error: step `targets`: cluster local: topic");

    // Without a terminal, `run` needs --yes; nothing is applied.
    let text = to_latest(&group, &topic, "");
    ebb().file("rb.yaml", &text).args(["run", "rb.yaml"]).run().code(1).stderr_contains("pass --yes");
    assert_eq!(committed(&group).await, before(&topic));

    ebb()
        .file("plan.json", "{\"format\": \"something/else\"}")
        .args(["apply", "plan.json"])
        .run()
        .code(1)
        .stderr_contains("is not an ebb.plan/v1 plan");
    ebb().args(["plan", "no-such-runbook"]).run().code(1).stderr_contains("no runbook file \"no-such-runbook\"");
    ebb()
        .file("rb.yaml", &to_latest(&group, &topic, ", max_skip: lots"))
        .args(["plan", "rb.yaml"])
        .run()
        .code(1)
        .stderr_contains("rb.yaml:7:50: step `reset`: reset_offsets.max_skip");
    ebb()
        .file("rb.yaml", &text)
        .args(["plan", "rb.yaml", "--set", "nope=1"])
        .run()
        .code(1)
        .stderr_contains("unknown param `nope`");
}

#[tokio::test(flavor = "multi_thread")]
async fn when_false_skips_and_no_changes_exit_0() {
    let (topic, group) = topic_and_group("when").await;
    let text = format!(
        "name: when\ncluster: local\nparams:\n  go: {{ type: bool, default: false }}\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    when: \"{{{{params.go}}}}\"\n    reset_offsets: {{ offsets: targets }}\n"
    );
    ebb()
        .file("rb.yaml", &text)
        .args(["plan", "rb.yaml", "--detailed-exitcode"])
        .run()
        .success()
        .stdout_contains("step reset (reset_offsets): skipped")
        .stdout_contains("No changes.");
    ebb().file("rb.yaml", &text).args(["plan", "rb.yaml", "--detailed-exitcode", "--set", "go=true"]).run().code(2);
    ebb().file("rb.yaml", &text).args(["run", "rb.yaml"]).run().success();
    assert_eq!(committed(&group).await, before(&topic));
}

fn run_on_a_terminal(runbook_text: &str, answer: &str) -> (i32, String) {
    on_a_terminal(&shared_cluster().bootstrap, runbook_text, "run rb.yaml", answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_run_asks_and_applies_only_after_yes() {
    let (topic, group) = topic_and_group("tty").await;
    let text = to_latest(&group, &topic, "");
    let (code, out) = run_on_a_terminal(&text, "no");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Apply 2 change(s) to cluster local? Type yes to apply:"), "{out}");
    assert!(out.contains("Not applied: nothing was changed."), "{out}");
    assert_eq!(committed(&group).await, before(&topic));

    let (code, out) = run_on_a_terminal(&text, "yes");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Succeeded: 2 partition(s) committed and verified."), "{out}");
    assert_eq!(committed(&group).await, BTreeMap::from([((topic.clone(), 0), 30), ((topic, 1), 30)]));
}
