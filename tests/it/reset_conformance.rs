//! `ebb plan` and `ebb run` against Apache Kafka's `kafka-consumer-groups`:
//! for each strategy both have, over whole topics, a partition subset, several
//! topics and the group's committed partitions, on a state with a partition
//! without a commit, a commit below a raised log start, an empty topic and
//! targets out of range on both sides. The plan's targets must equal Apache's
//! `--dry-run`; after `ebb run --yes` the group's committed offsets must equal
//! what Apache's `--execute` commits for a twin group with the same start.

use std::collections::BTreeMap;

use ebb_testkit::{Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_for, now_ms};

const MINUTE: i64 = 60_000;

struct Case {
    name: &'static str,
    /// Whether the group starts with the shared commits, or with none at all.
    committed: bool,
    /// The runbook's compute_offsets fields after `group`.
    ebb: String,
    scope: Vec<String>,
    strategy: Vec<String>,
}

type Offsets = BTreeMap<(String, i32), i64>;

async fn committed(group: &str) -> Offsets {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

fn runbook(name: &str, group: &str, compute: &str) -> String {
    format!(
        "name: {name}\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets:\n      group: {group}\n{compute}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n"
    )
}

/// Targets of every partition in the plan's reset step, changing or not.
fn plan_targets(plan: &serde_json::Value) -> Offsets {
    let reset = plan["steps"].as_array().unwrap().iter().find(|s| s["kind"] == "reset_offsets").expect("a reset step");
    let mut targets = Offsets::new();
    for c in reset["changes"].as_array().unwrap() {
        targets.insert(
            (c["topic"].as_str().unwrap().to_owned(), c["partition"].as_i64().unwrap() as i32),
            c["target"].as_i64().unwrap(),
        );
    }
    for u in reset["unchanged"].as_array().unwrap() {
        targets.insert(
            (u["topic"].as_str().unwrap().to_owned(), u["partition"].as_i64().unwrap() as i32),
            u["current"].as_i64().unwrap(),
        );
    }
    targets
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_equals_apache_dry_run_and_run_equals_apache_execute() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (a, b, empty) = (unique("rc-a"), unique("rc-b"), unique("rc-empty"));
    seeder.create_topic(&a, 3).await;
    seeder.create_topic(&b, 2).await;
    seeder.create_topic(&empty, 1).await;
    // Message k is at base + k minutes; "now − 30m" falls 2–3 s after message 29,
    // so the by-duration target stays message 30 for the next 57 s (Apache's
    // tool runs last and reads "now" later), and that case runs first.
    let base = (now_ms() - 59 * MINUTE - 2_000) / 1000 * 1000;
    for p in 0..3 {
        seeder.produce_sequence(&a, p, 50, "a", base, MINUTE).await;
    }
    for p in 0..2 {
        seeder.produce_sequence(&b, p, 20, "b", base, MINUTE).await;
    }
    seeder.delete_records(&a, 1, 10).await;
    let commits = [(&a, 0, 20), (&a, 1, 12), (&b, 0, 5), (&b, 1, 20), (&empty, 0, 0)];

    let datetime = chrono::DateTime::from_timestamp_millis(base + 40 * MINUTE).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        Case {
            committed: true,
            name: "duration-several-topics",
            ebb: format!("      topics: [{a}, {b}, {empty}]\n      strategy: {{ by_duration: 30m }}"),
            scope: s(&["--topic", &a, "--topic", &b, "--topic", &empty]),
            strategy: s(&["--by-duration", "PT30M"]),
        },
        Case {
            committed: true,
            name: "earliest-whole-topic",
            ebb: format!("      topics: [{a}]\n      strategy: {{ to_earliest: true }}"),
            scope: s(&["--topic", &a]),
            strategy: s(&["--to-earliest"]),
        },
        Case {
            committed: true,
            name: "shift-committed-partitions",
            ebb: "      strategy: { shift_by: -7 }".to_owned(),
            scope: s(&["--all-topics"]),
            strategy: s(&["--shift-by", "-7"]),
        },
        Case {
            committed: true,
            name: "offset-past-end-on-a-subset",
            ebb: format!("      topics: [{a}]\n      partitions: [0, 2]\n      strategy: {{ to_offset: 1000 }}"),
            scope: s(&["--topic", &format!("{a}:0,2")]),
            strategy: s(&["--to-offset", "1000"]),
        },
        Case {
            committed: true,
            name: "offset-below-start",
            ebb: format!("      topics: [{a}]\n      strategy: {{ to_offset: 3 }}"),
            scope: s(&["--topic", &a]),
            strategy: s(&["--to-offset", "3"]),
        },
        Case {
            committed: true,
            name: "datetime-committed-partitions",
            ebb: format!(
                "      strategy: {{ to_datetime: \"{}\" }}",
                datetime.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            scope: s(&["--all-topics"]),
            strategy: s(&["--to-datetime", &datetime.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()]),
        },
        Case {
            committed: true,
            name: "latest-two-topics",
            ebb: format!("      topics: [{a}, {b}]\n      strategy: {{ to_latest: true }}"),
            scope: s(&["--topic", &a, "--topic", &b]),
            strategy: s(&["--to-latest"]),
        },
        Case {
            committed: false,
            name: "earliest-for-a-new-group",
            ebb: format!("      topics: [{a}, {b}]\n      strategy: {{ to_earliest: true }}"),
            scope: s(&["--topic", &a, "--topic", &b]),
            strategy: s(&["--to-earliest"]),
        },
        Case {
            committed: false,
            name: "datetime-for-a-new-group",
            ebb: format!(
                "      topics: [{a}]\n      partitions: [1, 2]\n      strategy: {{ to_datetime: \"{}\" }}",
                datetime.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            scope: s(&["--topic", &format!("{a}:1,2")]),
            strategy: s(&["--to-datetime", &datetime.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()]),
        },
        Case {
            committed: true,
            name: "current-with-a-gap",
            ebb: format!("      topics: [{a}]\n      strategy: {{ to_current: true }}"),
            scope: s(&["--topic", &a]),
            strategy: s(&["--to-current"]),
        },
    ];

    for case in cases {
        let (group, twin) = (unique(&format!("rc-{}", case.name)), unique(&format!("rc-twin-{}", case.name)));
        if case.committed {
            seeder.commit(&group, &commits.map(|(t, p, o)| (t.as_str(), p, o))).await;
            seeder.commit(&twin, &commits.map(|(t, p, o)| (t.as_str(), p, o))).await;
        }
        let text = runbook("conformance", &group, &case.ebb);
        let scope: Vec<&str> = case.scope.iter().map(String::as_str).collect();
        let strategy: Vec<&str> = case.strategy.iter().map(String::as_str).collect();

        let plan = Ebb::new()
            .config(&config_for(&cluster.bootstrap))
            .file("rb.yaml", &text)
            .args(["plan", "rb.yaml", "--output", "json"])
            .run()
            .success()
            .json();
        let apache_plan = apache::reset_offsets(&cluster.bootstrap, &group, &scope, &strategy, false)
            .unwrap_or_else(|e| panic!("{}: Apache's dry run failed: {e}", case.name));
        assert_eq!(plan_targets(&plan), apache_plan, "{}: plan targets", case.name);

        Ebb::new()
            .config(&config_for(&cluster.bootstrap))
            .file("rb.yaml", &text)
            .args(["run", "rb.yaml", "--yes"])
            .run()
            .success()
            .stdout_contains("Succeeded:");
        apache::reset_offsets(&cluster.bootstrap, &twin, &scope, &strategy, true)
            .unwrap_or_else(|e| panic!("{}: Apache's execute failed: {e}", case.name));
        assert_eq!(committed(&group).await, committed(&twin).await, "{}: committed after run vs execute", case.name);
    }
}
