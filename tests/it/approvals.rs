//! The two-person rule through a real daemon with several tokens and the real
//! broker: an apply of a runbook under `approval:` becomes a pending plan;
//! self-approval, too low a role, an expired plan and drift after approval
//! are refused; the approval that completes a plan applies it; a rejection
//! ends it; history says who planned, approved, rejected and applied. Without
//! a daemon, the command line refuses to apply such a runbook.

use std::collections::BTreeMap;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use ebb_testkit::{Seeder, shared_cluster};
use serde_json::Value;

use crate::cli_harness::{Ebb, config_for, seeded_topic_and_group};
use crate::daemon_support::{ADMIN, DaemonWorkspace, OPERATOR, VIEWER};

const BOB: &str = "bob-token-51c0";

fn reset_runbook(name: &str, approval: &str, topic: &str, group: &str) -> String {
    format!(
        "name: {name}\ncluster: local\napproval: {approval}\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_offset: 15 }} }}\n"
    )
}

async fn committed(group: &str) -> BTreeMap<(String, i32), i64> {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

fn at(topic: &str, offset: i64) -> BTreeMap<(String, i32), i64> {
    [((topic.to_owned(), 0), offset), ((topic.to_owned(), 1), offset)].into()
}

fn message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or_default().to_owned()
}

/// A local webhook that keeps what it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = |State(got): State<Arc<Mutex<Vec<Value>>>>, axum::Json(body): axum::Json<Value>| async move {
        got.lock().unwrap().push(body);
    };
    let app = axum::Router::new().route("/hook", post(keep)).with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_waits_for_another_token_holder_and_is_applied_when_approved() {
    let (topic, group) = seeded_topic_and_group("appr", 2, "m").await;
    let (admin_topic, admin_group) = seeded_topic_and_group("appr-admin", 2, "m").await;
    let (hook, notified) = receiver().await;
    let workspace = DaemonWorkspace::with_daemon_settings(
        &format!("    - {{ name: bob, role: operator, token: {BOB} }}\n"),
        &format!("notify:\n  approvers: {{ webhook: {{ url: \"{hook}\" }} }}\n"),
    );
    let two_person = reset_runbook("two-person", "{ required: 1 }", &topic, &group)
        + "notify:\n  - { on: [pending], to: approvers, message: \"{{runbook.name}} waits for approval: run {{run.id}}\" }\n";
    workspace.runbook("two-person.yaml", &two_person);
    workspace
        .runbook("admins.yaml", &reset_runbook("admins", "{ required: 1, role: admin }", &admin_topic, &admin_group));
    let daemon = workspace.start();

    let (status, pending) = daemon.post("/api/v1/runbooks/two-person/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!((status, pending["status"].as_str()), (200, Some("pending")), "{pending}");
    assert_eq!(pending["approval"]["planned_by"], "ci");
    assert_eq!(committed(&group).await, at(&topic, 10), "a pending plan changes nothing");
    let id = pending["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while notified.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no pending notification");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let note = notified.lock().unwrap()[0].clone();
    assert_eq!(note["event"], "pending", "{note}");
    assert_eq!(note["message"], format!("two-person waits for approval: run {id}"), "{note}");
    let approve = format!("/api/v1/runs/{id}/approve?wait=true");

    let (status, body) = daemon.post(&approve, OPERATOR, "{}").await;
    assert_eq!(status, 403, "self-approval: {body}");
    assert!(message(&body).contains("planned run") && message(&body).contains("someone else"), "{body}");
    let (status, body) = daemon.post(&approve, VIEWER, "{}").await;
    assert_eq!(status, 403, "a viewer cannot approve: {body}");
    assert_eq!(committed(&group).await, at(&topic, 10));

    let (status, applied) = daemon.post(&approve, BOB, "{}").await;
    assert_eq!((status, applied["status"].as_str()), (200, Some("succeeded")), "{applied}");
    assert_eq!((applied["actor"].as_str(), applied["plan_id"].as_str()), (Some("bob"), Some(id.as_str())));
    assert_eq!(committed(&group).await, at(&topic, 15), "applied once approved");
    let approved = daemon.get(&format!("/api/v1/runs/{id}"), VIEWER).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approval"]["approvals"][0]["by"], "bob");
    assert_eq!(approved["approval"]["applied_in"], applied["id"]);
    let (status, body) = daemon.post(&approve, ADMIN, "{}").await;
    assert_eq!(status, 409, "approved already: {body}");

    // Its rollback is under the same rule: pending until someone else approves it.
    let undo = format!("/api/v1/runs/{}/rollback?wait=true", applied["id"].as_str().unwrap());
    let (status, pending_undo) = daemon.post(&undo, OPERATOR, "{}").await;
    assert_eq!((status, pending_undo["status"].as_str()), (200, Some("pending")), "{pending_undo}");
    assert_eq!(committed(&group).await, at(&topic, 15), "a pending rollback changes nothing");
    let approve_undo = format!("/api/v1/runs/{}/approve?wait=true", pending_undo["id"].as_str().unwrap());
    let (status, undone) = daemon.post(&approve_undo, BOB, "{}").await;
    assert_eq!((status, undone["status"].as_str()), (200, Some("succeeded")), "{undone}");
    assert_eq!(
        (undone["trigger"].as_str(), undone["rollback_of"].as_str()),
        (Some("rollback"), applied["id"].as_str())
    );
    assert_eq!(committed(&group).await, at(&topic, 10), "rolled back once approved");

    // A role below the runbook's is refused, whoever it is.
    let (_, pending) = daemon.post("/api/v1/runbooks/admins/runs?wait=true", OPERATOR, "{}").await;
    let admins = format!("/api/v1/runs/{}/approve?wait=true", pending["id"].as_str().unwrap());
    let (status, body) = daemon.post(&admins, BOB, "{}").await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("needs a token with role admin"), "{body}");
    let (status, applied) = daemon.post(&admins, ADMIN, "{}").await;
    assert_eq!((status, applied["status"].as_str()), (200, Some("succeeded")), "{applied}");
    assert_eq!(committed(&admin_group).await, at(&admin_topic, 15));

    // A rejected plan is never applied.
    Seeder::new(&shared_cluster().bootstrap).commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    let (_, pending) = daemon.post("/api/v1/runbooks/two-person/runs?wait=true", OPERATOR, "{}").await;
    let id = pending["id"].as_str().unwrap();
    let (status, rejected) =
        daemon.post(&format!("/api/v1/runs/{id}/reject"), BOB, r#"{"reason": "not during the freeze"}"#).await;
    assert_eq!((status, rejected["status"].as_str()), (200, Some("rejected")), "{rejected}");
    assert_eq!(rejected["approval"]["rejected"]["by"], "bob");
    let (status, _) = daemon.post(&format!("/api/v1/runs/{id}/approve"), ADMIN, "{}").await;
    assert_eq!(status, 409, "a rejected plan cannot be approved");
    assert_eq!(committed(&group).await, at(&topic, 10));

    // A saved plan of a runbook under approval cannot go around it.
    let (_, plan) = daemon.post("/api/v1/runbooks/two-person/plan", OPERATOR, "{}").await;
    let body = format!(r#"{{"plan_id": "{}"}}"#, plan["id"].as_str().unwrap());
    let (status, refused) = daemon.post("/api/v1/runbooks/two-person/runs?wait=true", ADMIN, &body).await;
    assert_eq!(status, 409, "{refused}");
    assert!(message(&refused).contains("needs approval"), "{refused}");

    // From the command line, through the daemon, as bob.
    let run =
        Ebb::new().config(&workspace.config).env("EBB_TOKEN", OPERATOR).args(["run", "two-person", "--yes"]).run();
    assert_eq!(run.code, 3, "a pending plan: nothing applied yet\n{}{}", run.stdout, run.stderr);
    let pending_id = daemon.wait_for_runs("runbook=two-person&status=pending", |runs| !runs.is_empty()).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approved =
        Ebb::new().config(&workspace.config).env("EBB_TOKEN", BOB).args(["approve", &pending_id]).run().success();
    assert!(approved.stdout.contains("actor     bob"), "{}", approved.stdout);
    assert_eq!(committed(&group).await, at(&topic, 15));
    let shown = workspace.ebb(["show", &pending_id]).success();
    assert!(shown.stdout.contains("planned   by ci") && shown.stdout.contains("approved  by bob"), "{}", shown.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_plan_and_drift_after_approval_are_refused() {
    let (topic, group) = seeded_topic_and_group("appr-exp", 2, "m").await;
    let (drift_topic, drift_group) = seeded_topic_and_group("appr-drift", 2, "m").await;
    let workspace =
        DaemonWorkspace::with_daemon_settings(&format!("    - {{ name: bob, role: operator, token: {BOB} }}\n"), "");
    workspace.runbook("short.yaml", &reset_runbook("short", "{ required: 1, expires: 2s }", &topic, &group));
    workspace.runbook("two.yaml", &reset_runbook("two", "{ required: 2 }", &drift_topic, &drift_group));
    let (scheduled_topic, scheduled_group) = seeded_topic_and_group("appr-sched", 2, "m").await;
    let scheduled = reset_runbook("every-second", "{ required: 1 }", &scheduled_topic, &scheduled_group)
        .replace("approval:", "schedule: { cron: \"* * * * * *\", mode: apply }\napproval:");
    workspace.runbook("every-second.yaml", &scheduled);
    let daemon = workspace.start();

    // A scheduled apply waits for approval like any other.
    let pending = daemon.wait_for_runs("runbook=every-second&status=pending", |runs| !runs.is_empty()).await;
    let first = daemon.get(&format!("/api/v1/runs/{}", pending[0]["id"].as_str().unwrap()), VIEWER).await;
    assert_eq!(
        (first["trigger"].as_str(), first["approval"]["planned_by"].as_str()),
        (Some("schedule"), Some("schedule"))
    );
    assert_eq!(committed(&scheduled_group).await, at(&scheduled_topic, 10), "nothing applied without approval");
    let (status, _) = daemon.post("/api/v1/runbooks/every-second/pause", OPERATOR, "{}").await;
    assert_eq!(status, 200);

    let (_, pending) = daemon.post("/api/v1/runbooks/short/runs?wait=true", OPERATOR, "{}").await;
    let id = pending["id"].as_str().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, body) = daemon.post(&format!("/api/v1/runs/{id}/approve?wait=true"), BOB, "{}").await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("expired"), "{body}");
    assert_eq!(daemon.get(&format!("/api/v1/runs/{id}"), VIEWER).await["status"], "expired");
    assert_eq!(committed(&group).await, at(&topic, 10), "nothing changed");

    let (_, pending) = daemon.post("/api/v1/runbooks/two/runs?wait=true", OPERATOR, "{}").await;
    let approve = format!("/api/v1/runs/{}/approve?wait=true", pending["id"].as_str().unwrap());
    let (status, waiting) = daemon.post(&approve, BOB, "{}").await;
    assert_eq!((status, waiting["status"].as_str()), (200, Some("pending")), "one of two: {waiting}");
    // The group's consumers move on before the second approval.
    Seeder::new(&shared_cluster().bootstrap).commit(&drift_group, &[(&drift_topic, 0, 12)]).await;
    let (status, applied) = daemon.post(&approve, ADMIN, "{}").await;
    assert_eq!((status, applied["status"].as_str()), (200, Some("refused")), "{applied}");
    assert!(applied["reason"].as_str().unwrap_or_default().contains("moved from 10 to 12"), "{applied}");
    assert_eq!(committed(&drift_group).await, [((drift_topic.clone(), 0), 12), ((drift_topic.clone(), 1), 10)].into());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_daemon_a_runbook_under_approval_is_never_applied() {
    let (topic, group) = seeded_topic_and_group("appr-cli", 2, "m").await;
    let runbook = reset_runbook("local", "{ required: 1 }", &topic, &group);
    let out = Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .file("rb.yaml", &runbook)
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .code(3);
    assert!(out.stderr.contains("needs approval"), "{}", out.stderr);
    assert_eq!(committed(&group).await, at(&topic, 10));
}
