//! Retention against plan noise, through the CLI: plans and applies are kept
//! under separate limits, so a stream of plans never pushes an apply and its
//! rollback snapshot out, and the newest apply that reset a group outlives
//! both the age limit and the count; the rollback still restores it (checked
//! with Apache's kafka-consumer-groups).

use std::time::Duration;

use ebb_testkit::{Seeder, apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{config_for, now_ms};
use crate::history_support::Workspace;

fn offsets(group: &str) -> Vec<Option<i64>> {
    apache::group_offsets(&shared_cluster().bootstrap, group).into_iter().map(|row| row.current).collect()
}

fn modes(runs: &[Value]) -> (usize, usize) {
    let plans = runs.iter().filter(|r| r["mode"] == "plan").count();
    (plans, runs.len() - plans)
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_never_evict_the_apply_a_rollback_needs() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, group) = (unique("retain-t"), unique("retain-g"));
    seeder.create_topic(&topic, 2).await;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 30, "m", now_ms() - 60_000, 1).await;
    }
    seeder.commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    let ws = Workspace::with_cluster(&format!(
        "{}history: {{ max_age: 4s, max_runs: 2, max_plans: 3 }}\n",
        config_for(&shared_cluster().bootstrap)
    ));
    let rb = ws.runbook(
        "rb.yaml",
        &format!(
            "name: retain\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    ws.ebb(["run", &rb, "--yes"]).success();
    assert_eq!(offsets(&group), [Some(30), Some(30)]);
    let applied = ws.history([])[0]["id"].as_str().unwrap().to_owned();

    // Past the age limit, and with ten plans made since (each ebb opens the store and applies retention).
    std::thread::sleep(Duration::from_secs(5));
    for _ in 0..10 {
        ws.ebb(["plan", &rb]).success();
    }
    let runs = ws.history([]);
    assert!(runs.iter().any(|r| r["id"] == applied.as_str()), "the apply was evicted: {runs:?}");
    assert_eq!(modes(&runs), (3, 1), "plans are kept to max_plans: {runs:?}");

    // Its snapshot still rolls the group back.
    ws.ebb(["rollback", &applied, "--yes"]).success();
    assert_eq!(offsets(&group), [Some(10), Some(10)]);

    // Once a newer apply of the group exists, the old one ages out like any run.
    ws.ebb(["run", &rb, "--yes"]).success();
    ws.ebb(["plan", &rb]).success();
    let runs = ws.history([]);
    assert!(!runs.iter().any(|r| r["id"] == applied.as_str()), "the superseded old apply stays: {runs:?}");
}
