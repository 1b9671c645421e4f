//! A broker killed (SIGKILL) in the middle of an apply, on a three-broker
//! cluster of the test's own with topics replicated three times: the group
//! coordinator, which also leads some of the reset's partitions, just before
//! the commit; the leader of some of a purge's partitions just before
//! DeleteRecords. Leadership moves to a surviving replica. Whether the step
//! completes or fails, its record must be the truth: every partition's
//! outcome agrees with what Apache's tools read from the surviving brokers,
//! nothing went past the plan, and a failed step exits 1. The reset completes
//! on the new coordinator; the purge's DeleteRecords follows the dead leader's
//! partitions to their new leaders and completes too.

use std::collections::BTreeMap;
use std::path::Path;

use ebb::engine::{Applied, CompiledRunbook, Mode, RunInfo, RunStatus, apply, compile, no_journal, plan};
use ebb::provider::Provider;
use ebb::provider::kafka::KafkaProvider;
use ebb::runbook::Catalog;
use ebb::step::StepStatus;
use ebb_testkit::{PrivateCluster, Seeder, StrikeBeforeChange, apache, unique};

use crate::cli_harness::now_ms;

/// Long enough for the controller to notice a dead broker (its session
/// timeout is 9 s) and move leadership; a step may still fail, honestly.
const TIMEOUT: &str = "40s";

fn compiled(dir: &Path, bootstrap: &str, runbook: &str) -> CompiledRunbook {
    std::fs::create_dir_all(dir).unwrap();
    let text =
        format!("clusters:\n  three:\n    kafka:\n      bootstrap_servers: {bootstrap}\n      timeout: {TIMEOUT}\n");
    let config = ebb::config::parse(&dir.join("ebb.yaml"), &text, &|_| None).unwrap();
    let path = dir.join("rb.yaml");
    std::fs::write(&path, runbook).unwrap();
    compile(&path, &Catalog::from_config(&config.config), &[]).unwrap()
}

/// Six partitions over three brokers, each replicated three times, 20 messages each.
async fn replicated_topic(cluster: &PrivateCluster, prefix: &str) -> (String, KafkaProvider) {
    let topic = unique(prefix);
    let seeder = Seeder::new(&cluster.cluster.bootstrap);
    seeder.create_topic_with(&topic, 6, 3, &[]).await;
    for p in 0..6 {
        seeder.produce_sequence(&topic, p, 20, "f", now_ms() - 60_000, 1).await;
    }
    let mut config = cluster.cluster.config();
    config.timeout = ebb::time::HumanDuration::parse(TIMEOUT).unwrap();
    (topic, KafkaProvider::connect("three", &config).unwrap())
}

async fn leaders(provider: &KafkaProvider, topic: &str) -> BTreeMap<i32, i32> {
    let described = provider.topic(topic).await.unwrap();
    described.partitions.iter().map(|p| (p.partition, p.leader.expect("a leader"))).collect()
}

/// The group's coordinator, from Apache's `--describe --state` (its COORDINATOR column ends in `(id)`).
fn coordinator(bootstrap: &str, group: &str) -> i32 {
    let out =
        apache::run("consumer-groups", &["--bootstrap-server", bootstrap, "--describe", "--group", group, "--state"]);
    let line = out.lines().find(|l| l.split_whitespace().next() == Some(group)).expect("a state line");
    let open = line.find('(').expect("coordinator (id)");
    let close = line[open..].find(')').expect("coordinator (id)") + open;
    line[open + 1..close].parse().expect("a broker id")
}

/// The bootstrap address of the brokers still alive (the oracle must not ask the dead one).
fn survivors(cluster: &PrivateCluster, dead: i32) -> String {
    let addresses: Vec<&str> = cluster.cluster.bootstrap.split(',').collect();
    addresses.iter().enumerate().filter(|(i, _)| *i as i32 + 1 != dead).map(|(_, a)| *a).collect::<Vec<_>>().join(",")
}

/// Plans `runbook` (six changes), then applies it with broker `victim` killed
/// just before the apply's write; checks the exit code agrees with the steps.
/// Returns the apply and the compiled runbook (in a folder of its own, deleted
/// with [`done_with`]).
async fn apply_killing(
    cluster: &PrivateCluster,
    provider: KafkaProvider,
    victim: i32,
    runbook: &str,
) -> (Applied, CompiledRunbook) {
    let kill = || cluster.kill_broker(victim);
    let provider = StrikeBeforeChange::new(provider, &kill);
    let dir = std::env::temp_dir().join(unique("failover"));
    let runbook = compiled(&dir, &cluster.cluster.bootstrap, runbook);
    let planned = plan(&runbook, &provider, &RunInfo::cli(Mode::Plan)).await;
    assert_eq!(planned.change_count(), 6, "{planned:#?}");
    let applied =
        apply(&planned, &provider, Some(&runbook.sha256), &RunInfo::cli(Mode::Apply), false, &no_journal).await;
    assert!(provider.struck(), "the broker was killed mid-apply");
    check_exit_matches(&applied);
    (applied, runbook)
}

fn done_with(runbook: &CompiledRunbook) {
    if let Some(dir) = runbook.path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn check_exit_matches(applied: &Applied) {
    match applied.status {
        RunStatus::Succeeded => assert_eq!(applied.steps[0].status, StepStatus::Applied),
        _ => {
            assert_eq!(applied.status, RunStatus::Failed, "{applied:#?}");
            assert_eq!(ebb::exit::Exit::from(applied.status).code(), 1);
            assert_eq!(applied.steps[0].status, StepStatus::Failed);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_coordinator_killed_mid_reset_leaves_a_record_that_matches_the_cluster() {
    let cluster = PrivateCluster::start_three("failover-reset");
    let (topic, provider) = replicated_topic(&cluster, "failover-reset").await;
    let group = unique("failover-group");
    let seeder = Seeder::new(&cluster.cluster.bootstrap);
    let start: Vec<(&str, i32, i64)> = (0..6).map(|p| (topic.as_str(), p, 5)).collect();
    seeder.commit(&group, &start).await;
    let victim = coordinator(&cluster.cluster.bootstrap, &group);
    let led = leaders(&provider, &topic).await;
    assert!(led.values().any(|l| *l == victim), "the coordinator also leads some partitions: {led:?}");

    let runbook = format!(
        "name: failover\ncluster: three\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
    );
    let (applied, runbook) = apply_killing(&cluster, provider, victim, &runbook).await;

    let reset = applied.steps[0].reset().expect("the snapshot was taken before the commit");
    assert!(reset.snapshot.iter().all(|s| s.offset == Some(5)), "{reset:#?}");
    let oracle: BTreeMap<i32, Option<i64>> = apache::group_offsets(&survivors(&cluster, victim), &group)
        .into_iter()
        .map(|r| (r.partition, r.current))
        .collect();
    for result in &reset.results {
        let now = oracle[&result.partition];
        assert!(now == Some(5) || now == Some(20), "only the snapshot or the plan: {oracle:?}");
        match format!("{:?}", result.outcome).as_str() {
            "Committed" => assert_eq!(now, Some(20), "claimed committed: {result:?}"),
            "NotCommitted" => assert_eq!(now, Some(5), "claimed not committed: {result:?}"),
            "Unverified" => assert_eq!(applied.status, RunStatus::Failed),
            other => panic!("outcome {other} for a partition with a change"),
        }
    }
    // ebb asks again where the group is after its coordinator stops answering; once the
    // controller has fenced the dead broker the group has moved, and the commit lands there.
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.steps[0].reason);
    assert!(oracle.values().all(|now| *now == Some(20)), "{oracle:?}");
    done_with(&runbook);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_killed_mid_purge_leaves_a_record_that_matches_the_cluster() {
    let cluster = PrivateCluster::start_three("failover-purge");
    let (topic, provider) = replicated_topic(&cluster, "failover-purge").await;
    let led = leaders(&provider, &topic).await;
    // A broker that leads some partitions but not all of them.
    let victim = *led.values().next().unwrap();
    assert!(led.values().any(|l| *l != victim), "leaders are spread: {led:?}");

    let runbook = format!(
        "name: failover-purge\ncluster: three\nsteps:\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ offset: 8 }}, protect_groups: none }}\n"
    );
    let (applied, runbook) = apply_killing(&cluster, provider, victim, &runbook).await;

    let purge = applied.steps[0].purge().expect("the purge's account");
    let oracle = apache::get_offsets(&survivors(&cluster, victim), &topic, "-2");
    eprintln!("leader {victim} killed mid-purge: {:?}; step {:?}", applied.status, applied.steps[0].reason);
    // DeleteRecords finds the new leaders after the old one dies: the purge
    // completes within its timeout, on the survivors, and goes no further.
    assert_eq!(applied.status, RunStatus::Succeeded, "{:?}", applied.steps[0].reason);
    for result in &purge.results {
        assert_eq!(format!("{:?}", result.outcome), "Deleted", "{result:?}");
    }
    assert_eq!(oracle, (0..6).map(|p| (p, 8)).collect(), "every partition at the plan's target");
    done_with(&runbook);
}
