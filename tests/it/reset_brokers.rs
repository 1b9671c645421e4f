//! Resets that involve more than one broker, or lose one: on the three-broker
//! cluster a reset over partitions led by every broker is correct and its
//! commit is one request to the group coordinator; with the broker killed
//! between plan and commit, the step fails (exit 1) and says which partitions
//! were committed and which were not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ebb::engine::{Mode, RunInfo, RunStatus, apply, compile, no_journal, plan};
use ebb::provider::Provider;
use ebb::provider::kafka::{KafkaProvider, sent_between};
use ebb::runbook::Catalog;
use ebb::step::StepStatus;
use ebb_testkit::{PrivateCluster, Seeder, StrikeBeforeChange, apache, shared_three_broker_cluster, unique};

use crate::cli_harness::now_ms;

/// Writes the runbook and compiles it against an ebb.yaml naming `cluster`.
fn compiled(dir: &Path, cluster: &str, bootstrap: &str, runbook: &str) -> ebb::engine::CompiledRunbook {
    std::fs::create_dir_all(dir).unwrap();
    let config_text = format!("clusters:\n  {cluster}:\n    kafka:\n      bootstrap_servers: {bootstrap}\n");
    let config = ebb::config::parse(&dir.join("ebb.yaml"), &config_text, &|_| None).unwrap();
    let path = dir.join("rb.yaml");
    std::fs::write(&path, runbook).unwrap();
    compile(&path, &Catalog::from_config(&config.config), &[]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_across_three_leaders_commits_once_to_the_coordinator() {
    let cluster = shared_three_broker_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (topic, group) = (unique("spread-reset"), unique("group-spread-reset"));
    seeder.create_topic_with(&topic, 6, 1, &[]).await;
    for p in 0..6 {
        seeder.produce_sequence(&topic, p, 10 + p as usize, "m", now_ms() - 60_000, 1).await;
    }
    seeder.commit(&group, &[(&topic, 0, 2), (&topic, 3, 5)]).await;

    let provider = KafkaProvider::connect_counting_requests("three", &cluster.config()).unwrap();
    let leaders: BTreeSet<i32> =
        provider.topic(&topic).await.unwrap().partitions.iter().filter_map(|p| p.leader).collect();
    assert_eq!(leaders.len(), 3, "partitions are led by all three brokers");

    let dir = std::env::temp_dir().join(unique("three-reset"));
    let runbook = compiled(
        &dir,
        "three",
        &cluster.bootstrap,
        &format!(
            "name: spread\ncluster: three\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    let planned = plan(&runbook, &provider, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(planned.change_count(), 6, "{planned:#?}");

    let before = provider.group_request_counts(&group).await.expect("counting");
    let applied =
        apply(&planned, &provider, Some(&runbook.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    let after = provider.group_request_counts(&group).await.expect("counting");
    assert_eq!(applied.status, RunStatus::Succeeded, "{applied:#?}");

    let commits = sent_between(&before, &after, "OffsetCommit");
    assert_eq!(commits.values().sum::<i64>(), 1, "one OffsetCommit for six partitions on three leaders: {commits:?}");
    let fetches = sent_between(&before, &after, "OffsetFetch");
    assert_eq!(fetches.keys().collect::<Vec<_>>(), commits.keys().collect::<Vec<_>>(), "all to the coordinator");

    let apache: BTreeMap<i32, Option<i64>> =
        apache::group_offsets(&cluster.bootstrap, &group).into_iter().map(|r| (r.partition, r.current)).collect();
    let expected: BTreeMap<i32, Option<i64>> = (0..6).map(|p| (p, Some(10 + p as i64))).collect();
    assert_eq!(apache, expected, "Apache's tool sees every partition at its log end");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_lost_during_apply_fails_the_step_and_says_what_was_committed() {
    let broker = PrivateCluster::start("lost");
    let seeder = Seeder::new(&broker.cluster.bootstrap);
    let (topic, group) = (unique("lost"), unique("group-lost"));
    seeder.create_topic(&topic, 2).await;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 20, "m", now_ms() - 60_000, 1).await;
    }
    seeder.commit(&group, &[(&topic, 0, 3), (&topic, 1, 4)]).await;

    let mut config = broker.cluster.config();
    config.timeout = ebb::time::HumanDuration::parse("3s").unwrap();
    let kill = || broker.kill();
    let provider = StrikeBeforeChange::new(KafkaProvider::connect("lost", &config).unwrap(), &kill);
    let dir = std::env::temp_dir().join(unique("lost-reset"));
    let runbook = compiled(
        &dir,
        "lost",
        &broker.cluster.bootstrap,
        &format!(
            "name: lost\ncluster: lost\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    let planned = plan(&runbook, &provider, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(planned.change_count(), 2, "{planned:#?}");

    let started = std::time::Instant::now();
    let applied =
        apply(&planned, &provider, Some(&runbook.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "bounded by the cluster timeout");
    assert_eq!(applied.status, RunStatus::Failed);
    assert_eq!(ebb::exit::Exit::from(applied.status).code(), 1);
    let step = &applied.steps[0];
    assert_eq!(step.status, StepStatus::Failed);
    let reason = step.reason.as_deref().unwrap();
    assert!(reason.contains("the commit failed"), "{reason}");
    assert!(reason.contains("Committed: none."), "{reason}");
    // The broker is gone, so nothing can be read back: ebb says it does not know, not that nothing happened.
    assert!(reason.contains(&format!("Not committed: none. Unverified: {topic}:0, {topic}:1.")), "{reason}");
    let reset = step.reset().expect("the snapshot was taken before the commit");
    let snapshot: Vec<Option<i64>> = reset.snapshot.iter().map(|s| s.offset).collect();
    assert_eq!(snapshot, vec![Some(3), Some(4)]);
    let _ = std::fs::remove_dir_all(&dir);
}
