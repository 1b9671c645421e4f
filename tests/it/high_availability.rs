//! Several `ebb daemon` processes as one deployment (docs/HA.md), proven
//! with real processes on the real broker: each replica coordinates over a
//! path of its own through the fault proxy, and works on the shared broker
//! directly, so a cut coordination path leaves its work path up. Apache's
//! consumer-groups tool is the oracle for what the groups hold.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ebb::provider::{CommitFence, Provider, ProviderError, TopicPartition};
use ebb_testkit::{LiveMember, Seeder, apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::now_ms;
use crate::daemon_support::OPERATOR;
use crate::ha_support::{Deployment, REPLICAS, SESSION, TAKEOVER_BOUND, slot, turn};
use crate::history_support::topic_and_groups;

/// A reset of `group` on `topic` to the log end that waits (5 minutes at
/// most) for the group to have no members, so a live member holds it mid-apply.
fn waiting_reset(name: &str, schedule: &str, group: &str, topic: &str) -> String {
    format!(
        "name: {name}\ncluster: local\n{schedule}steps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets, wait_for_inactive: 5m }}\n"
    )
}

fn in_reset(run: &Value) -> bool {
    run["apply"]["steps"]
        .as_array()
        .is_some_and(|steps| steps.iter().any(|s| s["id"] == "reset" && s["status"] == "running"))
}

fn apache_offsets(group: &str) -> BTreeMap<(String, i32), Option<i64>> {
    apache::group_offsets(&shared_cluster().bootstrap, group)
        .into_iter()
        .map(|row| ((row.topic, row.partition), row.current))
        .collect()
}

fn both(topic: &str, offset: i64) -> BTreeMap<(String, i32), Option<i64>> {
    (0..2).map(|p| ((topic.to_owned(), p), Some(offset))).collect()
}

/// A runbook `name` that plans, every second, a read of the newest record of
/// a topic of its own (slots missed during a takeover run late, in order).
async fn every_second(name: &str) -> String {
    let topic = unique(&format!("{name}-t"));
    Seeder::new(&shared_cluster().bootstrap).create_topic(&topic, 1).await;
    format!(
        "name: {name}\ncluster: local\nschedule: {{ cron: \"* * * * * *\", mode: plan, missed: all, max_catchup: 300, overlap: queue }}\nsteps:\n  - id: newest\n    query_messages: {{ topic: {topic}, last: 1 }}\n"
    )
}

/// (a) A per-second schedule for two minutes across three replicas, its
/// owner stopped and started again halfway (so the schedule moves to another
/// replica and on): every slot fires exactly once, and every replica holds
/// the same runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_per_second_schedule_fires_every_slot_exactly_once_across_replicas() {
    let _turn = turn().await;
    let mut deployment = Deployment::start("ha-slots").await;
    deployment.runbook("every-second.yaml", &every_second("every-second").await);
    tokio::time::sleep(Duration::from_secs(50)).await;
    let owner = deployment.owner().await;
    deployment.replicas[owner].as_mut().unwrap().terminate();
    deployment.replicas[owner] = None;
    tokio::time::sleep(Duration::from_secs(15)).await;
    deployment.restart(owner).await;
    tokio::time::sleep(Duration::from_secs(55)).await;
    deployment.remove_runbook("every-second.yaml");
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut seen: Vec<BTreeSet<String>> = Vec::new();
    let mut runs = Vec::new();
    for i in 0..REPLICAS {
        let on_replica = deployment.runs(i, "every-second").await;
        seen.push(on_replica.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect());
        if i == 0 {
            runs = on_replica;
        }
    }
    assert!(seen.iter().all(|ids| ids == &seen[0]), "every replica answers with the same runs");
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:#?}");
    let slots: Vec<DateTime<Utc>> = runs.iter().map(|r| slot(r).expect("a slot").parse().unwrap()).collect();
    let unique_slots: BTreeSet<DateTime<Utc>> = slots.iter().copied().collect();
    assert_eq!(unique_slots.len(), slots.len(), "no slot fired twice");
    let (first, last) = (*unique_slots.first().unwrap(), *unique_slots.last().unwrap());
    let span = (last - first).num_seconds() + 1;
    assert_eq!(span as usize, slots.len(), "every slot from {first} to {last} fired");
    assert!(slots.len() >= 110, "two minutes of slots: {}", slots.len());
}

/// (b) The owner killed with SIGKILL in the middle of an apply: another
/// replica marks the run interrupted within the bound, the slot is not run
/// again, and the group holds its old offsets or the planned ones only.
#[tokio::test(flavor = "multi_thread")]
async fn the_owner_killed_mid_apply_is_taken_over_and_its_run_marked_interrupted() {
    let _turn = turn().await;
    let (topic, groups) = topic_and_groups("ha-kill", &["g"]).await;
    let group = &groups[0];
    let member = LiveMember::join(&shared_cluster().bootstrap, group, &topic, "ha-kill-worker");
    let mut deployment = Deployment::start("ha-kill").await;
    let schedule = "schedule: { cron: \"*/4 * * * * *\", mode: apply, missed: all, max_catchup: 5 }\n";
    deployment.runbook("kill.yaml", &waiting_reset("ha-kill", schedule, group, &topic));
    let owner = deployment.owner().await;
    let watcher = (owner + 1) % REPLICAS;
    let first = loop {
        let runs = deployment.runs(watcher, "ha-kill").await;
        if let Some(run) = runs.into_iter().find(in_reset) {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let id = first["id"].as_str().unwrap().to_owned();
    let killed_slot = slot(&first).expect("a scheduled run");
    deployment.replicas[owner].as_mut().unwrap().kill();
    deployment.replicas[owner] = None;
    let (record, took) = deployment.wait_for_run(watcher, &id, |run| run["status"] == "interrupted").await;
    eprintln!("failover: run {id} marked interrupted {took:?} after the kill");
    assert!(took < TAKEOVER_BOUND, "taken over in {took:?}");
    let reason = record["reason"].as_str().unwrap();
    assert!(reason.contains("took its cluster over") && reason.contains(&format!("group {group} fenced")), "{reason}");
    // Offsets as they were: the killed run waited for the member and never committed.
    assert_eq!(apache_offsets(group), both(&topic, 10));
    drop(member);
    // Later slots reset the group to the plan's target; none reruns the killed one.
    // Apache's tool shows the old offsets or the planned ones, never anything else.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let offsets = apache_offsets(group);
        if offsets == both(&topic, 30) {
            break;
        }
        assert_eq!(offsets, both(&topic, 10), "only the old or the planned offsets");
        assert!(Instant::now() < deadline, "the new owner never ran the schedule");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    deployment.remove_runbook("kill.yaml");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let runs = deployment.runs(watcher, "ha-kill").await;
    let killed: Vec<&Value> = runs.iter().filter(|r| slot(r).as_deref() == Some(killed_slot.as_str())).collect();
    assert_eq!(killed.len(), 1, "the killed run's slot ran once: {runs:#?}");
    let slots: Vec<String> = runs.iter().filter_map(slot).collect();
    assert_eq!(slots.iter().collect::<BTreeSet<_>>().len(), slots.len(), "no slot ran twice");
}

/// (c) The owner frozen (SIGSTOP) inside an apply; another replica takes
/// over and resets the same group; the frozen one, let go (SIGCONT), is
/// refused (fenced, or knowing it lost the cluster) before it changes
/// anything: the group holds the new run's offsets.
#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_owner_that_wakes_after_a_takeover_changes_nothing() {
    let _turn = turn().await;
    let (topic, groups) = topic_and_groups("ha-stop", &["g"]).await;
    let group = &groups[0];
    let member = LiveMember::join(&shared_cluster().bootstrap, group, &topic, "ha-stop-worker");
    let deployment = Deployment::start("ha-stop").await;
    deployment.runbook("stop.yaml", &waiting_reset("ha-stop", "", group, &topic));
    let owner = deployment.owner().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Asked of a replica that does not own the cluster, the run is passed to the owner.
    let asked = (owner + 2) % REPLICAS;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/runbooks/ha-stop/runs", deployment.replica(asked).url))
        .bearer_auth(OPERATOR)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-ebb-answered-by"], format!("r{owner}").as_str());
    let started: Value = response.json().await.unwrap();
    let id = started["run_id"].as_str().unwrap().to_owned();
    deployment.wait_for_run(owner, &id, in_reset).await;
    // The run holds the group for the whole deployment, as every replica sees.
    let held = |status: &Value| {
        status["locks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["target"] == format!("group:{group}") && l["run_id"] == id.as_str())
    };
    assert!(held(&deployment.status((owner + 1) % REPLICAS)), "{:#}", deployment.status(owner));
    deployment.replica(owner).signal("STOP");
    let other = (owner + 1) % REPLICAS;
    let (_, took) = deployment.wait_for_run(other, &id, |run| run["status"] == "interrupted").await;
    eprintln!("failover: frozen owner's run {id} marked interrupted after {took:?}");
    // The topic grows, and the group is left: the new owner's run moves it to 40.
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 10, "n", now_ms(), 1).await;
    }
    drop(member);
    let new_owner = deployment.owner().await;
    assert_ne!(new_owner, owner);
    let (status, run) =
        deployment.replica(new_owner).post("/api/v1/runbooks/ha-stop/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(status, 200, "{run:#}");
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(apache_offsets(group), both(&topic, 40));
    // The takeover let go of the frozen run's lock, and the new run of its own.
    let status = deployment.status(new_owner);
    assert!(!status["locks"].as_array().unwrap().iter().any(|l| l["target"] == format!("group:{group}")), "{status:#}");
    // The frozen owner wakes and is stopped before it changes anything: it
    // learns it lost the cluster and stops the run, or its write is refused
    // (fenced, or no longer owned).
    deployment.replica(owner).signal("CONT");
    let deadline = Instant::now() + Duration::from_secs(60);
    let stopped = |metrics: &str, log: &str| {
        let count = |name: &str| {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        count("ebb_coordination_fenced_total") + count("ebb_coordination_refused_total") > 0
            || log
                .lines()
                .any(|l| l.contains("run stopped: this replica no longer owns its cluster") && l.contains(&id))
    };
    // A fresh connection each time: a kept-alive one may have timed out while the daemon was frozen.
    let metrics_url = format!("{}/metrics", deployment.replica(owner).url);
    loop {
        let metrics = match reqwest::Client::new().get(&metrics_url).send().await {
            Ok(answer) => answer.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if stopped(&metrics, &deployment.replica(owner).log()) {
            break;
        }
        assert!(Instant::now() < deadline, "the woken owner was never stopped:\n{}", deployment.replica(owner).log());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(apache_offsets(group), both(&topic, 40), "the group holds the new run's offsets");
    for i in 0..REPLICAS {
        let record = deployment.replica(i).get(&format!("/api/v1/runs/{id}"), crate::daemon_support::VIEWER).await;
        assert_eq!(record["status"], "interrupted", "r{i} keeps the takeover's record");
    }
}

/// (d) A replica cut off from the coordination cluster stops acting
/// within the session, and another takes its clusters over.
#[tokio::test(flavor = "multi_thread")]
async fn a_replica_cut_off_from_coordination_stops_acting_within_the_bound() {
    let _turn = turn().await;
    let deployment = Deployment::start("ha-cut").await;
    deployment.runbook("cut.yaml", &every_second("cut").await);
    let owner = deployment.owner().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cut_at = Instant::now();
    deployment.cut(owner);
    let deadline = cut_at + SESSION + Duration::from_secs(2);
    loop {
        let metrics = deployment.replica(owner).metrics().await;
        if metrics.contains("ebb_coordination_owned_partitions 0") {
            break;
        }
        assert!(Instant::now() < deadline, "the cut replica still owns partitions:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stopped = cut_at.elapsed();
    eprintln!("cut off: the replica stopped acting {stopped:?} after the cut");
    let log_at_stop = deployment.replica(owner).log().matches("slot fires").count();
    let other = (owner + 1) % REPLICAS;
    let before = deployment.runs(other, "cut").await.len();
    tokio::time::sleep(TAKEOVER_BOUND).await;
    assert_eq!(
        deployment.replica(owner).log().matches("slot fires").count(),
        log_at_stop,
        "the cut replica fired nothing once it let go"
    );
    let after = deployment.runs(other, "cut").await;
    assert!(after.len() > before + 5, "another replica took the schedule over: {} then {}", before, after.len());
    deployment.mend(owner);
    deployment.remove_runbook("cut.yaml");
    // Mended, it claims partitions again.
    deployment.settled().await;
    let slots: Vec<String> = after.iter().filter_map(slot).collect();
    assert_eq!(slots.iter().collect::<BTreeSet<_>>().len(), slots.len(), "no slot ran twice");
}

/// A fence that holds the committer between its `init_transactions` and its
/// commit (its second proof) until the test lets it go.
struct HeldFence {
    id: String,
    proofs: std::sync::atomic::AtomicUsize,
    reached: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl CommitFence for HeldFence {
    fn transactional_id(&self, _group: &str) -> String {
        self.id.clone()
    }

    fn still_owner(&self) -> Result<(), String> {
        // The first proof comes before `init_transactions`, the second after it.
        let second = self.proofs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1;
        if let Some(reached) = second.then(|| self.reached.lock().unwrap().take()).flatten() {
            let _ = reached.send(());
            let _ = self.release.lock().unwrap().recv();
        }
        Ok(())
    }
}

/// A fence whose owner has lost the cluster.
struct Disowned;

impl CommitFence for Disowned {
    fn transactional_id(&self, _group: &str) -> String {
        unique("ebb.test.disowned")
    }

    fn still_owner(&self) -> Result<(), String> {
        Err("replica r9 does not own cluster local now".to_owned())
    }
}

/// The transactional fence on its own: a committer held after taking the
/// group's transactional id loses it to a newer one, and its commit fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_commit_under_an_older_transactional_id_epoch_is_fenced() {
    let (topic, groups) = topic_and_groups("ha-fence", &["g"]).await;
    let group = groups[0].clone();
    let id = unique("ebb.test.commit");
    let (reached_tx, reached) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    let held = Arc::new(HeldFence {
        id: id.clone(),
        proofs: Default::default(),
        reached: std::sync::Mutex::new(Some(reached_tx)),
        release: std::sync::Mutex::new(release_rx),
    });
    let (_, never) = std::sync::mpsc::channel();
    let newer = Arc::new(HeldFence {
        id,
        proofs: Default::default(),
        reached: std::sync::Mutex::new(None),
        release: std::sync::Mutex::new(never),
    });
    let config = shared_cluster().config();
    let old = ebb::provider::kafka::KafkaProvider::connect_fenced("local", &config, held).unwrap();
    let new = ebb::provider::kafka::KafkaProvider::connect_fenced("local", &config, newer).unwrap();
    let to =
        |offset| vec![(TopicPartition::new(topic.clone(), 0), offset), (TopicPartition::new(topic.clone(), 1), offset)];
    let (old_group, old_offsets) = (group.clone(), to(20));
    let late = tokio::spawn(async move { old.commit_offsets(&old_group, &old_offsets).await });
    tokio::task::spawn_blocking(move || {
        reached.recv_timeout(Duration::from_secs(30)).expect("the old committer took the id")
    })
    .await
    .unwrap();
    new.commit_offsets(&group, &to(25)).await.expect("the newer committer commits");
    release.send(()).unwrap();
    let refused = late.await.unwrap().expect_err("the older committer is fenced");
    assert!(matches!(&refused, ProviderError::NotSent { detail, .. } if detail.contains("fenced")), "{refused}");
    assert_eq!(apache_offsets(&group), both(&topic, 25));
    // A committer that cannot prove it still owns the cluster sends nothing.
    let disowned = ebb::provider::kafka::KafkaProvider::connect_fenced("local", &config, Arc::new(Disowned)).unwrap();
    let refused = disowned.commit_offsets(&group, &to(5)).await.expect_err("no proof, no commit");
    assert!(matches!(&refused, ProviderError::NotSent { detail, .. } if detail.contains("replica r9")), "{refused}");
    assert_eq!(apache_offsets(&group), both(&topic, 25));
}

/// What every run of the chaos loop must hold to: no slot twice, no two
/// commits to the group at once, and each committed reset read back at its target.
fn check_invariants(runs: &[Value]) {
    let slots: Vec<String> = runs.iter().filter_map(slot).collect();
    assert_eq!(slots.iter().collect::<BTreeSet<_>>().len(), slots.len(), "a slot ran twice: {slots:?}");
    let mut commits: Vec<(DateTime<Utc>, DateTime<Utc>, String)> = Vec::new();
    for run in runs {
        for step in run["apply"]["steps"].as_array().into_iter().flatten() {
            let results = step["reset"]["results"].as_array().cloned().unwrap_or_default();
            let committed: Vec<&Value> = results.iter().filter(|r| r["outcome"] == "committed").collect();
            if committed.is_empty() {
                continue;
            }
            for result in &committed {
                assert_eq!(result["after"], result["target"], "a committed reset reads back at its target: {run:#}");
            }
            let at = |key: &str| step[key].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
            commits.push((at("started_at"), at("finished_at"), run["id"].as_str().unwrap().to_owned()));
        }
    }
    commits.sort();
    for pair in commits.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two runs changed the group at once: {} and {}", pair[0].2, pair[1].2);
    }
}

/// (e) A bounded chaos loop: the owner killed and restarted, frozen and
/// woken, cut off and mended, in turn, for three minutes, while a schedule
/// resets a group to a growing log end every two seconds. After each step
/// the invariants hold; at the end the group holds what the newest run says.
#[tokio::test(flavor = "multi_thread")]
async fn a_chaos_loop_of_kills_freezes_and_cuts_keeps_every_invariant() {
    let _turn = turn().await;
    let (topic, groups) = topic_and_groups("ha-chaos", &["g"]).await;
    let group = groups[0].clone();
    let mut deployment = Deployment::start("ha-chaos").await;
    let growing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let producer = {
        let (growing, topic) = (growing.clone(), topic.clone());
        tokio::spawn(async move {
            let seeder = Seeder::new(&shared_cluster().bootstrap);
            while growing.load(std::sync::atomic::Ordering::SeqCst) {
                for p in 0..2 {
                    seeder.produce_sequence(&topic, p, 1, "c", now_ms(), 1).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    let runbook = format!(
        "name: chaos\ncluster: local\nschedule: {{ cron: \"*/2 * * * * *\", mode: apply, missed: all, max_catchup: 10 }}\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n"
    );
    deployment.runbook("chaos.yaml", &runbook);
    let until = Instant::now() + Duration::from_secs(180);
    let mut step = 0;
    // Every target is the end of a growing log: a stale commit would move the group back.
    let mut seen = apache_offsets(&group);
    while Instant::now() < until {
        let owner = deployment.owner().await;
        match step % 3 {
            0 => {
                deployment.replicas[owner].as_mut().unwrap().kill();
                deployment.replicas[owner] = None;
                tokio::time::sleep(Duration::from_secs(8)).await;
                deployment.restart(owner).await;
            }
            1 => {
                deployment.replica(owner).signal("STOP");
                tokio::time::sleep(SESSION + Duration::from_secs(4)).await;
                deployment.replica(owner).signal("CONT");
            }
            _ => {
                deployment.cut(owner);
                tokio::time::sleep(SESSION + Duration::from_secs(4)).await;
                deployment.mend(owner);
            }
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
        let watcher = (owner + 1) % REPLICAS;
        check_invariants(&deployment.runs(watcher, "chaos").await);
        let now = apache_offsets(&group);
        for (partition, offset) in &now {
            assert!(offset >= &seen[partition], "the group moved back on {partition:?}: {seen:?} then {now:?}");
        }
        seen = now;
        step += 1;
    }
    growing.store(false, std::sync::atomic::Ordering::SeqCst);
    producer.await.unwrap();
    // Quiet again: a few more slots run on a topic that no longer grows.
    tokio::time::sleep(Duration::from_secs(10)).await;
    deployment.remove_runbook("chaos.yaml");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let runs = deployment.runs(deployment.owner().await, "chaos").await;
    check_invariants(&runs);
    // The newest run that committed: runs after it found the group at the target already.
    let results = |run: &Value| -> Option<Vec<Value>> {
        let steps = run["apply"]["steps"].as_array()?;
        let reset = steps.iter().find(|s| s["id"] == "reset")?;
        let results = reset["reset"]["results"].as_array()?.clone();
        results.iter().any(|r| r["outcome"] == "committed").then_some(results)
    };
    let newest = runs
        .iter()
        .filter(|r| r["status"] == "succeeded" && results(r).is_some())
        .max_by_key(|r| r["finished_at"].as_str().unwrap().to_owned())
        .expect("runs committed");
    let recorded: BTreeMap<(String, i32), Option<i64>> = results(newest)
        .unwrap()
        .iter()
        .map(|r| {
            ((r["topic"].as_str().unwrap().to_owned(), r["partition"].as_i64().unwrap() as i32), r["after"].as_i64())
        })
        .collect();
    assert_eq!(apache_offsets(&group), recorded, "the group holds what the newest run recorded");
    eprintln!("chaos: {step} steps, {} runs", runs.len());
}
