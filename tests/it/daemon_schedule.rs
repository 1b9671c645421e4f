//! The daemon on the clock, on the real broker: scheduled runs recorded with
//! their slots (mode `plan` too), hot reload of the runbooks directory (an
//! invalid edit keeps the last good version and shows its problems), pause
//! and resume, slots missed while the daemon was down, notifications to a
//! local webhook (retried; a failing one never fails the run), SIGTERM
//! with a run in progress (the run ends `interrupted`, the daemon exits 0), and
//! SIGKILL in the middle of a scheduled apply (the run is found `interrupted` on
//! restart, its slot never runs again, the slots missed meanwhile caught up as
//! `missed: all` says).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Utc};
use ebb_testkit::{LiveMember, shared_cluster};
use serde_json::Value;

use crate::daemon_support::{DaemonWorkspace, OPERATOR, VIEWER};
use crate::history_support::{at, committed, topic_and_groups};

/// A plan-only runbook on `cron` reading `group`'s lag.
fn scheduled(name: &str, cron: &str, group: &str, topic: &str, schedule_extra: &str) -> String {
    format!(
        "name: {name}\ncluster: local\nschedule: {{ cron: \"{cron}\", mode: plan{schedule_extra} }}\nsteps:\n  - id: lag\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: catch-up\n    reset_offsets: {{ offsets: lag }}\n"
    )
}

fn slot(run: &Value) -> DateTime<Utc> {
    run["slot"].as_str().map(|s| s.parse().unwrap()).expect("a scheduled run has its slot")
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_runs_fire_on_their_slots_and_reload_pause_and_resume_take_effect() {
    let (topic, groups) = topic_and_groups("sched", &["g"]).await;
    let group = &groups[0];
    let ws = DaemonWorkspace::new("");
    ws.runbook("every2.yaml", &scheduled("sched-every2", "*/2 * * * * *", group, &topic, ""));
    let daemon = ws.start();

    let runs = daemon.wait_for_runs("runbook=sched-every2", |runs| runs.len() >= 2).await;
    let mut ids = Vec::new();
    for run in &runs[..2] {
        let record = daemon.get(&format!("/api/v1/runs/{}", run["id"].as_str().unwrap()), VIEWER).await;
        assert_eq!((record["trigger"].as_str(), record["mode"].as_str()), (Some("schedule"), Some("plan")));
        assert_eq!(slot(&record).timestamp() % 2, 0, "slots are even seconds");
        assert_eq!(record["plan"]["steps"][1]["changes"].as_array().unwrap().len(), 2, "{record}");
        ids.push(record["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(committed(group).await, at(&topic, [10, 10]), "mode plan changes nothing");
    let runbook = daemon.get("/api/v1/runbooks/sched-every2", VIEWER).await;
    let next: Vec<&str> =
        runbook["schedule"]["next_fires"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(next.len(), 5);
    assert!(next.windows(2).all(|w| w[0] < w[1]));

    // Pause: slots are skipped and counted; resume: they fire again.
    let (status, _) = daemon.post("/api/v1/runbooks/sched-every2/pause", OPERATOR, "").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before =
        daemon.get("/api/v1/runs?runbook=sched-every2&limit=1000", VIEWER).await["runs"].as_array().unwrap().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after =
        daemon.get("/api/v1/runs?runbook=sched-every2&limit=1000", VIEWER).await["runs"].as_array().unwrap().len();
    assert_eq!(before, after, "a paused runbook does not run");
    assert_eq!(daemon.get("/api/v1/runbooks/sched-every2", VIEWER).await["schedule"]["paused"], true);
    assert!(daemon.metrics().await.contains("ebb_schedule_skipped_total{runbook=\"sched-every2\",reason=\"paused\"}"));
    daemon.post("/api/v1/runbooks/sched-every2/resume", OPERATOR, "").await;
    daemon.wait_for_runs("runbook=sched-every2&limit=1000", |runs| runs.len() > after).await;

    // Hot reload: a new file is served, an invalid edit keeps the last good version, a removed file is gone.
    ws.runbook("hourly.yaml", &scheduled("sched-hourly", "0 * * * *", group, &topic, ""));
    let hourly = wait_for_runbook(&daemon, "sched-hourly", |r| r["runnable"] == true).await;
    assert_eq!(hourly["schedule"]["cron"], "0 * * * *");
    ws.runbook("hourly.yaml", &scheduled("sched-hourly", "0 25 * * *", group, &topic, ""));
    let broken = wait_for_runbook(&daemon, "sched-hourly", |r| r["valid"] == false).await;
    assert_eq!(broken["runnable"], true, "the last good version stays: {broken}");
    assert_eq!(broken["schedule"]["cron"], "0 * * * *");
    assert!(broken["problems"][0].as_str().unwrap().contains("hour value 25 is outside 0–23"), "{broken}");
    assert!(daemon.log().contains("runbook file is invalid"));
    let (status, planned) = daemon.post("/api/v1/runbooks/sched-hourly/plan", VIEWER, "").await;
    assert_eq!((status, planned["status"].as_str()), (200, Some("succeeded")), "the good version runs: {planned}");
    ws.remove_runbook("hourly.yaml");
    wait_for_gone(&daemon, "sched-hourly").await;

    let metrics = daemon.metrics().await;
    assert!(metrics.contains("ebb_schedule_fires_total{runbook=\"sched-every2\"}"), "{metrics}");
    assert!(metrics.contains("ebb_schedule_lateness_seconds_count"));
    assert!(metrics.contains("ebb_runs_total{runbook=\"sched-every2\",trigger=\"schedule\",status=\"succeeded\"}"));
}

async fn wait_for_runbook(daemon: &crate::daemon_support::Daemon, name: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (status, body) = daemon.request("GET", &format!("/api/v1/runbooks/{name}"), Some(VIEWER), None).await;
        if status == 200 && ready(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("runbook {name} never got there; log:\n{}", daemon.log());
}

async fn wait_for_gone(daemon: &crate::daemon_support::Daemon, name: &str) {
    for _ in 0..100 {
        let (status, _) = daemon.request("GET", &format!("/api/v1/runbooks/{name}"), Some(VIEWER), None).await;
        if status == 404 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("runbook {name} is still served after its file was removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn slots_missed_while_the_daemon_was_down_follow_missed_all_with_max_catchup() {
    let (topic, groups) = topic_and_groups("missed", &["g"]).await;
    let ws = DaemonWorkspace::new("");
    let extra = ", missed: all, max_catchup: 2";
    ws.runbook("rb.yaml", &scheduled("missed-all", "* * * * * *", &groups[0], &topic, extra));
    let mut daemon = ws.start();
    daemon.wait_for_runs("runbook=missed-all", |runs| !runs.is_empty()).await;
    assert!(daemon.terminate().success(), "SIGTERM exits 0");
    let stopped_at = Utc::now();
    tokio::time::sleep(Duration::from_secs(6)).await;

    let daemon = ws.start();
    let restarted_at = Utc::now();
    let runs = daemon
        .wait_for_runs("runbook=missed-all&limit=1000", |runs| {
            runs.iter().filter(|r| r["status"] != "running").filter(|r| started_after(r, restarted_at)).count() >= 3
        })
        .await;
    let mut down_slots: Vec<DateTime<Utc>> = Vec::new();
    for run in runs.iter().filter(|r| started_after(r, restarted_at)) {
        let record = daemon.get(&format!("/api/v1/runs/{}", run["id"].as_str().unwrap()), VIEWER).await;
        let at = slot(&record);
        if at > stopped_at && at < restarted_at - chrono::Duration::seconds(1) {
            down_slots.push(at);
        }
    }
    // About six slots passed while down: the newest is on time, two more catch up, the rest are missed.
    assert!(down_slots.len() >= 2, "catch-up runs for slots while down: {down_slots:?}");
    assert!(down_slots.len() <= 3, "at most max_catchup plus the on-time one: {down_slots:?}");
    let metrics = daemon.metrics().await;
    let missed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ebb_schedule_missed_total{runbook=\"missed-all\"} "))
        .map(|n| n.parse::<u64>().unwrap())
        .unwrap_or(0);
    assert!(missed >= 2, "slots beyond max_catchup are counted as missed:\n{metrics}");
}

fn started_after(run: &Value, at: DateTime<Utc>) -> bool {
    run["started_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap() >= at - chrono::Duration::seconds(1)
}

/// A local webhook: records what it is sent; answers 500 to the first `failures` posts.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Value>>>,
    failures: Arc<Mutex<u32>>,
}

async fn receive(State(receiver): State<Receiver>, Json(body): Json<Value>) -> StatusCode {
    let mut failures = receiver.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.received.lock().unwrap().push(body);
    StatusCode::OK
}

async fn start_receiver(failures: u32) -> (String, Receiver) {
    let receiver = Receiver { failures: Arc::new(Mutex::new(failures)), ..Receiver::default() };
    let app = axum::Router::new().route("/hook", post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_retried_and_a_failing_webhook_never_fails_the_run() {
    let (topic, groups) = topic_and_groups("notify", &["g"]).await;
    let group = &groups[0];
    let (url, receiver) = start_receiver(2).await;
    // Nothing listens on the second target's port.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let extra = format!(
        "notify:\n  ops: {{ webhook: {{ url: \"{url}\" }} }}\n  dead: {{ webhook: {{ url: \"http://127.0.0.1:{dead_port}/x\" }} }}\n"
    );
    let ws = DaemonWorkspace::new(&extra);
    ws.runbook(
        "rb.yaml",
        &format!(
            "name: notify-run\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n  - id: tell\n    notify: {{ to: dead, message: \"group {group} reset\" }}\nnotify:\n  - {{ on: [success], to: ops, message: \"{{{{runbook.name}}}} {{{{run.status}}}}: {{{{run.summary}}}}\" }}\n  - {{ on: [failure], to: ops }}\n"
        ),
    );
    let daemon = ws.start();
    let (status, record) = daemon.post("/api/v1/runbooks/notify-run/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["status"], "succeeded", "a notification that fails does not fail the run: {record}");
    let tell = record["apply"]["steps"].as_array().unwrap().iter().find(|s| s["id"] == "tell").unwrap().clone();
    assert_eq!(tell["status"], "failed", "{tell}");
    assert!(
        tell["reason"].as_str().unwrap().contains("not delivered to dead after 4 attempt(s): cannot connect"),
        "{tell}"
    );
    assert!(!tell["reason"].as_str().unwrap().contains(&dead_port.to_string()), "the URL is a secret: {tell}");
    assert_eq!(committed(group).await, at(&topic, [30, 30]));

    // The rule's post: refused twice with 500, delivered on the third attempt.
    let mut received = Vec::new();
    for _ in 0..100 {
        received = receiver.received.lock().unwrap().clone();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received.len(), 1, "{received:?}");
    let note = &received[0];
    assert_eq!(note["runbook"], "notify-run");
    assert_eq!(note["run_id"], record["id"]);
    assert_eq!(note["status"], "succeeded");
    assert_eq!(note["summary"], "2 change(s) applied");
    assert_eq!(note["message"], "notify-run succeeded: 2 change(s) applied");
    let metrics = daemon.metrics().await;
    assert!(metrics.contains("ebb_notifications_total{target=\"ops\",outcome=\"delivered\"} 1"), "{metrics}");
    assert!(!daemon.log().contains(&url), "webhook URLs stay out of the log");
}

/// A runbook resetting `group` to the log end that waits (up to 5 min) for the
/// group to be inactive; `schedule` is a `schedule:` line, or empty.
fn waiting_reset(name: &str, schedule: &str, group: &str, topic: &str) -> String {
    format!(
        "name: {name}\ncluster: local\n{schedule}steps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets, wait_for_inactive: 5m }}\n"
    )
}

/// Waits (30 s at most) until run `id` is in its reset, waiting for the group's member to leave.
async fn wait_for_reset_running(daemon: &crate::daemon_support::Daemon, id: &str) {
    for _ in 0..300 {
        let record = daemon.get(&format!("/api/v1/runs/{id}"), VIEWER).await;
        let steps = record["apply"]["steps"].as_array().cloned().unwrap_or_default();
        if steps.iter().any(|s| s["id"] == "reset" && s["status"] == "running") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {id} never reached its reset:\n{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_gives_running_steps_the_grace_period_then_marks_the_run_interrupted() {
    let (topic, groups) = topic_and_groups("sigterm", &["g"]).await;
    let group = &groups[0];
    let member = LiveMember::join(&shared_cluster().bootstrap, group, &topic, "sigterm-worker");
    let ws = DaemonWorkspace::new("");
    ws.runbook("rb.yaml", &waiting_reset("sigterm-wait", "", group, &topic));
    let mut daemon = ws.start();
    let (status, started) = daemon.post("/api/v1/runbooks/sigterm-wait/runs", OPERATOR, "{}").await;
    assert_eq!(status, 202, "{started}");
    let id = started["run_id"].as_str().unwrap().to_owned();
    wait_for_reset_running(&daemon, &id).await;
    let began = std::time::Instant::now();
    assert!(daemon.terminate().success(), "SIGTERM exits 0:\n{}", daemon.log());
    assert!(began.elapsed() >= Duration::from_secs(2), "the run had its grace period (2s)");
    assert!(daemon.log().contains("grace period over"));

    // The store is free again: the CLI reads it directly.
    let record = ws.ebb(["show", &id, "--output", "json"]).success().json();
    assert_eq!(record["status"], "interrupted", "{record}");
    let reset = record["apply"]["steps"].as_array().unwrap().iter().find(|s| s["id"] == "reset").unwrap().clone();
    assert_eq!(reset["status"], "interrupted");
    assert_eq!(committed(group).await, at(&topic, [10, 10]), "nothing was committed");
    drop(member);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_scheduled_apply_leaves_it_interrupted_and_its_slot_never_runs_again() {
    let (topic, groups) = topic_and_groups("sigkill", &["g"]).await;
    let group = &groups[0];
    // The member keeps the reset waiting (wait_for_inactive), so the daemon is killed mid-apply.
    let member = LiveMember::join(&shared_cluster().bootstrap, group, &topic, "sigkill-worker");
    let ws = DaemonWorkspace::new("");
    let schedule = "schedule: { cron: \"*/3 * * * * *\", mode: apply, missed: all, max_catchup: 5 }\n";
    ws.runbook("rb.yaml", &waiting_reset("sigkill-apply", schedule, group, &topic));
    let mut daemon = ws.start();
    let runs = daemon.wait_for_runs("runbook=sigkill-apply", |runs| !runs.is_empty()).await;
    let killed_id = runs[0]["id"].as_str().unwrap().to_owned();
    wait_for_reset_running(&daemon, &killed_id).await;
    let killed_slot = slot(&daemon.get(&format!("/api/v1/runs/{killed_id}"), VIEWER).await);
    daemon.kill();
    let killed_at = Utc::now();
    drop(member);
    // Two or three slots pass while it is down.
    tokio::time::sleep(Duration::from_secs(7)).await;

    let restarting_at = Utc::now();
    let daemon = ws.start();
    let restarted_at = Utc::now();
    let runs = daemon
        .wait_for_runs("runbook=sigkill-apply&limit=1000", |runs| {
            runs.iter().filter(|r| r["status"] == "succeeded" && started_after(r, restarted_at)).count() >= 2
        })
        .await;
    let killed = daemon.get(&format!("/api/v1/runs/{killed_id}"), VIEWER).await;
    assert_eq!(killed["status"], "interrupted", "{killed}");
    let reset = killed["apply"]["steps"].as_array().unwrap().iter().find(|s| s["id"] == "reset").unwrap().clone();
    assert_eq!(reset["status"], "interrupted", "{killed}");
    assert!(daemon.log().contains("a run was interrupted"), "{}", daemon.log());

    let mut slots = Vec::new();
    for run in &runs {
        let record = daemon.get(&format!("/api/v1/runs/{}", run["id"].as_str().unwrap()), VIEWER).await;
        slots.push(slot(&record));
    }
    let mut unique_slots = slots.clone();
    unique_slots.sort();
    unique_slots.dedup();
    assert_eq!(unique_slots.len(), slots.len(), "no slot ran twice: {slots:?}");
    assert_eq!(slots.iter().filter(|s| **s == killed_slot).count(), 1, "the killed slot ran once: {slots:?}");
    // `missed: all` catches up every slot after the saved cursor: had the cursor on disk
    // been older than the killed slot, that slot would have run again here.
    let while_down: Vec<_> = slots.iter().filter(|s| **s > killed_at && **s < restarting_at).collect();
    assert!(!while_down.is_empty(), "the slots that passed while down were caught up: {slots:?}\n{}", daemon.log());
    assert_eq!(committed(group).await, at(&topic, [30, 30]), "a run after the restart did the reset");
}
