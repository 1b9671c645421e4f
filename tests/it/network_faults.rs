//! Network faults between ebb and a broker, through a fault proxy on loopback
//! (testkit/fault_proxy.rs): a slow network, a connection cut in the middle of
//! an apply, a broker that stops answering, and the worst moments to lose a
//! connection: right after every OffsetCommit or DeleteRecords reached the
//! broker (the change is made, every answer lost), or with the request
//! swallowed (no change, no answer). Each ends in the truth: success when the
//! read-back shows the plan carried out, otherwise exit 1 within the timeout
//! with each partition's account, and Apache's tools (around the proxy) agree.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ebb_testkit::{Fault, OnRequest, ProxiedCluster, Seeder, apache, unique};
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

use crate::cli_harness::now_ms;
use crate::history_support::Workspace;

const OFFSET_COMMIT: i16 = 8;
const DELETE_RECORDS: i16 = 21;
/// The cluster timeout the tests give ebb.
const TIMEOUT_S: u64 = 4;
/// No fault may keep a command longer than this: a few cluster timeouts (a
/// request, then the read-back) and the process's start; a hang fails the test.
const BOUND: Duration = Duration::from_secs(4 * TIMEOUT_S + 5);

const OFFSET_FETCH: i16 = 9;

/// One proxied broker for this file; its tests take turns, since the proxy's faults are global.
async fn proxied() -> (&'static ProxiedCluster, MutexGuard<'static, ()>) {
    static CLUSTER: OnceLock<ProxiedCluster> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::const_new(());
    let turn = TURN.lock().await;
    let cluster = CLUSTER.get_or_init(|| ProxiedCluster::start("network"));
    cluster.proxy.reset();
    (cluster, turn)
}

fn workspace(cluster: &ProxiedCluster) -> Workspace {
    Workspace::with_cluster(&format!(
        "clusters:\n  local:\n    kafka:\n      bootstrap_servers: {}\n      timeout: {TIMEOUT_S}s\n",
        cluster.bootstrap
    ))
}

/// A topic of 2 partitions × 30 messages and a group committed at 10 on both, made around the proxy.
async fn topic_and_group(cluster: &ProxiedCluster, prefix: &str) -> (String, String) {
    let seeder = Seeder::new(&cluster.direct);
    let topic = unique(&format!("{prefix}-t"));
    seeder.create_topic(&topic, 2).await;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 30, "m", now_ms() - 60_000, 1).await;
    }
    let group = unique(&format!("{prefix}-g"));
    seeder.commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    (topic, group)
}

fn reset_to_latest(topic: &str, group: &str) -> String {
    format!(
        "name: net-reset\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
    )
}

fn purge(topic: &str) -> String {
    format!(
        "name: net-purge\ncluster: local\nsteps:\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ offset: 30 }} }}\n"
    )
}

/// The group's offsets by partition, as Apache's tool sees them.
fn offsets_of(cluster: &ProxiedCluster, group: &str) -> BTreeMap<i32, Option<i64>> {
    apache::group_offsets(&cluster.direct, group).into_iter().map(|r| (r.partition, r.current)).collect()
}

fn log_starts(cluster: &ProxiedCluster, topic: &str) -> BTreeMap<i32, i64> {
    apache::get_offsets(&cluster.direct, topic, "-2")
}

/// Plans `runbook` into a file; returns its path.
fn planned(ws: &Workspace, runbook: &str) -> String {
    let rb = ws.runbook(&format!("{}.yaml", unique("rb")), runbook);
    let saved = ws.dir.join(format!("{}.json", unique("plan"))).display().to_string();
    ws.ebb(["plan", &rb, "--out", &saved]).success();
    saved
}

/// Applies a saved plan; returns its exit code, stderr and the run's record, and checks it ended in time.
fn apply(ws: &Workspace, plan: &str) -> (i32, String, Value) {
    let began = Instant::now();
    let out = ws.ebb(["apply", plan]);
    assert!(began.elapsed() < BOUND, "ebb apply took {:?}:\n{}", began.elapsed(), out.stderr);
    let runs = ws.history(["--limit", "1"]);
    let id = runs[0]["id"].as_str().expect("the apply is in history").to_owned();
    (out.code, out.stderr, ws.show(&id))
}

fn step(record: &Value) -> &Value {
    &record["apply"]["steps"][0]
}

fn outcomes(record: &Value, kind: &str) -> Vec<String> {
    step(record)[kind]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("the step records its {kind} results: {record}"))
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_network_is_waited_for_and_the_reset_lands_exactly() {
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "slow").await;
    let ws = workspace(cluster);
    cluster.proxy.set(Fault::Latency(Duration::from_millis(150)));
    let plan = planned(&ws, &reset_to_latest(&topic, &group));
    let (code, stderr, record) = apply(&ws, &plan);
    cluster.proxy.set(Fault::Pass);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(record["status"], "succeeded");
    assert_eq!(outcomes(&record, "reset"), ["committed", "committed"]);
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(30)), (1, Some(30))]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_cut_mid_apply_is_made_again_and_the_reset_completes() {
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "cut").await;
    let ws = workspace(cluster);
    let plan = planned(&ws, &reset_to_latest(&topic, &group));
    // The apply reads the group's offsets again before it commits: that read's connection is cut.
    cluster.proxy.on_next_request(OFFSET_FETCH, OnRequest::ForwardThenCut);
    let (code, stderr, record) = apply(&ws, &plan);
    assert_eq!(cluster.proxy.sprung(), 1, "the apply's read went through the proxy");
    assert_eq!(code, 0, "the read was made again on a new connection: {stderr}");
    assert_eq!(record["status"], "succeeded");
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(30)), (1, Some(30))]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_whose_answer_is_lost_is_proven_by_its_read_back() {
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "lost-answer").await;
    let ws = workspace(cluster);
    let plan = planned(&ws, &reset_to_latest(&topic, &group));
    // Every commit, retries included, reaches the broker and loses its answer: the call fails.
    cluster.proxy.on_every_request(OFFSET_COMMIT, OnRequest::ForwardThenCut);
    let (code, stderr, record) = apply(&ws, &plan);
    let sprung = cluster.proxy.sprung();
    cluster.proxy.reset();
    assert!(sprung >= 1, "the commit went through the proxy");
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(30)), (1, Some(30))]));
    // The broker applied it; reading the offsets back proves it, so the run says so.
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("every target reads back as committed"), "the commit call itself failed: {stderr}");
    assert_eq!(record["status"], "succeeded", "{record}");
    assert_eq!(outcomes(&record, "reset"), ["committed", "committed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_that_is_never_answered_fails_within_the_timeout_and_claims_nothing() {
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "no-answer").await;
    let ws = workspace(cluster);
    let plan = planned(&ws, &reset_to_latest(&topic, &group));
    cluster.proxy.on_next_request(OFFSET_COMMIT, OnRequest::Swallow);
    let (code, stderr, record) = apply(&ws, &plan);
    cluster.proxy.cut_all();
    assert_eq!(cluster.proxy.sprung(), 1);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(record["status"], "failed");
    assert_eq!(step(&record)["status"], "failed");
    let reason = step(&record)["reason"].as_str().unwrap();
    assert!(reason.contains("Committed: none."), "{reason}");
    // The commit never reached the broker; whatever ebb could read back, it does not claim a change.
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(10)), (1, Some(10))]));
    for outcome in outcomes(&record, "reset") {
        assert!(["not_committed", "unverified"].contains(&outcome.as_str()), "{record}");
    }
    let snapshot: Vec<i64> =
        step(&record)["reset"]["snapshot"].as_array().unwrap().iter().map(|s| s["offset"].as_i64().unwrap()).collect();
    assert_eq!(snapshot, [10, 10], "the snapshot for a rollback was kept");
}

/// A topic of 2 partitions × 30 messages, one group committed at 12 and 20: a purge deletes up to there.
async fn purgeable(cluster: &ProxiedCluster, prefix: &str) -> String {
    let (topic, group) = topic_and_group(cluster, prefix).await;
    Seeder::new(&cluster.direct).commit(&group, &[(&topic, 0, 12), (&topic, 1, 20)]).await;
    topic
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_records_whose_answer_is_lost_is_proven_by_its_read_back() {
    let (cluster, _turn) = proxied().await;
    let topic = purgeable(cluster, "purge-lost").await;
    let ws = workspace(cluster);
    let plan = planned(&ws, &purge(&topic));
    // Every DeleteRecords, retries included, reaches the leader and loses its answer.
    cluster.proxy.on_every_request(DELETE_RECORDS, OnRequest::ForwardThenCut);
    let (code, stderr, record) = apply(&ws, &plan);
    let sprung = cluster.proxy.sprung();
    cluster.proxy.reset();
    assert!(sprung >= 1, "DeleteRecords went through the proxy");
    assert_eq!(log_starts(cluster, &topic), BTreeMap::from([(0, 12), (1, 20)]), "exactly the plan, no further");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("every log start reads back at its target"), "the call itself failed: {stderr}");
    assert_eq!(record["status"], "succeeded", "{record}");
    assert_eq!(outcomes(&record, "purge"), ["deleted", "deleted"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_records_that_is_never_answered_fails_within_the_timeout_and_claims_nothing() {
    let (cluster, _turn) = proxied().await;
    let topic = purgeable(cluster, "purge-stall").await;
    let ws = workspace(cluster);
    let plan = planned(&ws, &purge(&topic));
    cluster.proxy.on_next_request(DELETE_RECORDS, OnRequest::Swallow);
    let (code, stderr, record) = apply(&ws, &plan);
    cluster.proxy.cut_all();
    assert_eq!(cluster.proxy.sprung(), 1);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(record["status"], "failed");
    let reason = step(&record)["reason"].as_str().unwrap();
    assert!(reason.contains("Deleted: none."), "{reason}");
    assert_eq!(log_starts(cluster, &topic), BTreeMap::from([(0, 0), (1, 0)]), "nothing was deleted");
    for outcome in outcomes(&record, "purge") {
        assert!(["not_deleted", "unverified"].contains(&outcome.as_str()), "{record}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_that_stops_answering_ends_a_plan_within_its_timeout() {
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "stalled").await;
    let ws = workspace(cluster);
    let rb = ws.runbook("stalled.yaml", &reset_to_latest(&topic, &group));
    cluster.proxy.set(Fault::Stall);
    let began = Instant::now();
    let out = ws.ebb(["plan", &rb]);
    let took = began.elapsed();
    cluster.proxy.set(Fault::Pass);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(took < BOUND, "plan took {took:?}");
    assert!(out.stderr.contains("local"), "the error names the cluster: {}", out.stderr);
    // The plan recorded nothing, and the broker is fine once it answers again.
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(10)), (1, Some(10))]));
    ws.ebb(["plan", &rb]).success();
}

/// A cluster client that stops answering is found out after the run it failed
/// and replaced, so the daemon's next run connects afresh; no restart needed.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_replaces_a_cluster_client_that_stopped_answering() {
    use crate::daemon_support::{Daemon, OPERATOR, VIEWER};
    let (cluster, _turn) = proxied().await;
    let (topic, group) = topic_and_group(cluster, "health").await;
    let dir = std::env::temp_dir().join(unique("ebb-health"));
    std::fs::create_dir_all(dir.join("runbooks")).unwrap();
    std::fs::write(
        dir.join("ebb.yaml"),
        format!(
            "clusters:\n  local:\n    kafka:\n      bootstrap_servers: {}\n      timeout: {TIMEOUT_S}s\nrunbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: dash, role: viewer, token: {VIEWER} }}\n    - {{ name: ci, role: operator, token: {OPERATOR} }}\n",
            cluster.bootstrap,
            dir.join("runbooks").display(),
            dir.join("data").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("runbooks/rb.yaml"), reset_to_latest(&topic, &group)).unwrap();
    let daemon = Daemon::start(&dir, &["--grace", "2s"]);
    let (status, planned) = daemon.post("/api/v1/runbooks/net-reset/plan", VIEWER, "{}").await;
    assert_eq!((status, planned["status"].as_str()), (200, Some("succeeded")), "{planned}");

    cluster.proxy.set(Fault::Stall);
    let (status, failed) = daemon.post("/api/v1/runbooks/net-reset/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!((status, failed["status"].as_str()), (200, Some("failed")), "{failed}");
    let deadline = Instant::now() + BOUND;
    while !daemon.log().contains("did not answer a health check") {
        assert!(Instant::now() < deadline, "the stalled client was never checked:\n{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(10)), (1, Some(10))]));

    cluster.proxy.reset();
    let (status, done) = daemon.post("/api/v1/runbooks/net-reset/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!((status, done["status"].as_str()), (200, Some("succeeded")), "{done}");
    assert_eq!(offsets_of(cluster, &group), BTreeMap::from([(0, Some(30)), (1, Some(30))]));
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
}
