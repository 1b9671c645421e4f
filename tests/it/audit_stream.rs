//! The audit stream through a real daemon and the real broker: runs' state
//! changes as CloudEvents 1.0 delivered to a webhook and to a Kafka topic
//! (read back with Apache's console consumer), with both sinks down while
//! runs happen and up afterwards: every event arrives, in order per sink.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use ebb_testkit::{Seeder, apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::seeded_topic_and_group;
use crate::daemon_support::{DaemonWorkspace, OPERATOR, VIEWER};

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Value)>>>);

async fn receive(State(received): State<Received>, headers: axum::http::HeaderMap, body: String) -> StatusCode {
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    received.0.lock().unwrap().push((kind, serde_json::from_str(&body).unwrap_or(Value::Null)));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread")]
async fn every_state_change_reaches_both_sinks_after_they_were_down() {
    let bootstrap = &shared_cluster().bootstrap;
    let (topic, group) = seeded_topic_and_group("audit", 2, "m").await;
    let audit_topic = unique("audit-events");
    // Nothing listens on the webhook's port yet, and the audit topic does not exist: both sinks are down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let extra = format!(
        "audit:\n  sinks:\n    - name: siem\n      webhook: {{ url: \"http://127.0.0.1:{port}/events\" }}\n    - name: topic\n      kafka: {{ cluster: local, topic: {audit_topic} }}\n"
    );
    let workspace = DaemonWorkspace::new(&extra);
    workspace.runbook(
        "reset.yaml",
        &format!(
            "name: reset\ncluster: local\nsteps:\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_offset: 20 }} }}\n"
        ),
    );
    let daemon = workspace.start();

    let (_, planned) = daemon.post("/api/v1/runbooks/reset/plan", OPERATOR, "{}").await;
    let (_, applied) = daemon.post("/api/v1/runbooks/reset/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!(applied["status"], "succeeded", "{applied}");
    let (_, undone) = daemon
        .post(&format!("/api/v1/runs/{}/rollback?wait=true", applied["id"].as_str().unwrap()), OPERATOR, "{}")
        .await;
    assert_eq!(undone["status"], "succeeded", "{undone}");
    let expected = [
        (planned["id"].as_str().unwrap().to_owned(), "dev.ebb.run.planned"),
        (applied["id"].as_str().unwrap().to_owned(), "dev.ebb.run.applied"),
        (undone["id"].as_str().unwrap().to_owned(), "dev.ebb.run.rolled_back"),
    ];
    tokio::time::sleep(Duration::from_secs(2)).await;
    let metrics = daemon.metrics().await;
    assert!(metrics.contains("ebb_audit_backlog 3"), "every event waits while the sinks are down:\n{metrics}");

    // The sinks come back.
    let received = Received::default();
    let app = axum::Router::new().route("/events", post(receive)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Seeder::new(bootstrap).create_topic(&audit_topic, 1).await;

    let deadline = Instant::now() + Duration::from_secs(60);
    while received.0.lock().unwrap().len() < expected.len() {
        assert!(Instant::now() < deadline, "the webhook never got every event:\n{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let by_webhook: Vec<(String, Value)> = received.0.lock().unwrap().clone();
    let from_topic: Vec<Value> = apache::consume(bootstrap, &audit_topic, expected.len())
        .iter()
        .map(|line| serde_json::from_str(line).expect("each record is a JSON CloudEvent"))
        .collect();
    let seen = |events: &[Value]| -> Vec<(String, String)> {
        events
            .iter()
            .map(|e| (e["subject"].as_str().unwrap().to_owned(), e["type"].as_str().unwrap().to_owned()))
            .collect()
    };
    let wanted: Vec<(String, String)> = expected.iter().map(|(id, kind)| (id.clone(), (*kind).to_owned())).collect();
    assert_eq!(
        seen(&by_webhook.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()),
        wanted,
        "the webhook got each, in order"
    );
    assert_eq!(seen(&from_topic), wanted, "the topic got each, in order");
    assert!(by_webhook.iter().all(|(kind, _)| kind == "application/cloudevents+json"));

    let applied_event = &from_topic[1];
    assert_eq!(applied_event["specversion"], "1.0");
    assert_eq!(applied_event["id"], format!("{}/applied", expected[1].0));
    let data = &applied_event["data"];
    assert_eq!(
        (data["actor"].as_str(), data["runbook"].as_str(), data["cluster"].as_str()),
        (Some("ci"), Some("reset"), Some("local"))
    );
    assert_eq!(data["targets"]["groups"][0], group.as_str());
    let changes = data["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c["before"] == 10 && c["after"] == 20 && c["topic"] == topic.as_str()), "{data}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while !daemon.metrics().await.contains("ebb_audit_backlog 0") {
        assert!(Instant::now() < deadline, "the outbox never emptied");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let runs = daemon.get("/api/v1/runs?runbook=reset", VIEWER).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3);
}
