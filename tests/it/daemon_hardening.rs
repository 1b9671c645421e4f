//! A running daemon under attack by a client with at most a viewer's token:
//! connections that say nothing or send their headers a byte at a time, more
//! connections than the cap, a 32 KB group name, bodies that are arrays or
//! repeat a key, a lower-case `bearer`, a path that is not UTF-8, a 32 KB
//! value in an error, and plans that would make the daemon post to a webhook.
//! Each is refused or dropped within its bound, and the daemon keeps serving.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ebb_testkit::{apache, shared_cluster};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::daemon_support::{Daemon, DaemonWorkspace, OPERATOR, VIEWER};

/// The daemon's header timeout in these tests.
const HEADER_TIMEOUT_S: u64 = 2;

fn address(daemon: &Daemon) -> String {
    daemon.url.trim_start_matches("http://").to_owned()
}

/// Waits until the daemon closes `stream` (a read gives end of file or an
/// error); returns how long that took, or `None` if it is still open at `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(bound.saturating_sub(began.elapsed()), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(began.elapsed()),
            // A 408 or the like may come first; the close follows.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_slow_connections_are_dropped_while_a_real_request_gets_through() {
    let ws = DaemonWorkspace::with_daemon_settings(
        &format!("  header_timeout: {HEADER_TIMEOUT_S}s\n  max_connections: 600\n"),
        "",
    );
    let daemon = ws.start();
    let addr = address(&daemon);
    let mut idle = Vec::new();
    for _ in 0..500 {
        idle.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    // Twenty clients send a request's headers one byte every 300 ms.
    let slow_closed = Arc::new(AtomicUsize::new(0));
    let mut slow = Vec::new();
    for _ in 0..20 {
        let stream = TcpStream::connect(&addr).await.expect("connect");
        let closed = slow_closed.clone();
        slow.push(tokio::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let began = Instant::now();
            let header = b"GET /api/v1/runbooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nothing-yet\r\n";
            for byte in header.iter().cycle() {
                if writer.write_all(&[*byte]).await.is_err() || began.elapsed() > Duration::from_secs(30) {
                    break;
                }
                let mut buffer = [0u8; 256];
                if let Ok(Ok(0) | Err(_)) =
                    tokio::time::timeout(Duration::from_millis(300), reader.read(&mut buffer)).await
                {
                    break;
                }
            }
            closed.fetch_add(1, Ordering::SeqCst);
            began.elapsed()
        }));
    }

    // With 520 connections held open, a real request is answered at once.
    let answered = Instant::now();
    let listing = daemon.get("/api/v1/runbooks", VIEWER).await;
    assert!(listing["runbooks"].is_array(), "{listing}");
    assert!(answered.elapsed() < Duration::from_secs(HEADER_TIMEOUT_S), "took {:?}", answered.elapsed());

    // Every one of them is closed within the header timeout and a margin.
    let bound = Duration::from_secs(HEADER_TIMEOUT_S + 4);
    for (i, stream) in idle.iter_mut().enumerate() {
        let took = closed_within(stream, bound).await;
        assert!(took.is_some(), "idle connection {i} still open after {bound:?}");
    }
    for task in slow {
        let took = task.await.unwrap();
        assert!(took < Duration::from_secs(HEADER_TIMEOUT_S + 4), "a slow client was held for {took:?}");
    }
    assert_eq!(slow_closed.load(Ordering::SeqCst), 20);
    let listing = daemon.get("/api/v1/runbooks", VIEWER).await;
    assert!(listing["runbooks"].is_array(), "the daemon still serves: {listing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_cap_are_closed_at_once() {
    let ws = DaemonWorkspace::with_daemon_settings("  header_timeout: 3s\n  max_connections: 5\n", "");
    let daemon = ws.start();
    let addr = address(&daemon);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sixth = TcpStream::connect(&addr).await.unwrap();
    let took = closed_within(&mut sixth, Duration::from_secs(2)).await;
    assert!(took.is_some(), "the sixth connection was kept past the cap of 5");
    // Once the held ones time out, requests are served again.
    for stream in &mut held {
        assert!(closed_within(stream, Duration::from_secs(7)).await.is_some());
    }
    let health = daemon.request("GET", "/healthz", None, None).await;
    assert_eq!(health.0, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !daemon.log().contains("connection cap is reached") {
        assert!(Instant::now() < deadline, "the refusal is not logged:\n{}", daemon.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn topic_and_group(prefix: &str) -> (String, String) {
    crate::cli_harness::seeded_topic_and_group(prefix, 2, "m").await
}

fn committed(group: &str) -> Vec<Option<i64>> {
    apache::group_offsets(&shared_cluster().bootstrap, group).into_iter().map(|row| row.current).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_group_name_is_a_400_and_the_cluster_connection_stays_healthy() {
    let (topic, group) = topic_and_group("huge-name").await;
    let ws = DaemonWorkspace::new("");
    ws.runbook(
        "rb.yaml",
        &format!(
            "name: by-param\ncluster: local\nparams:\n  group: {{ type: string }}\nsteps:\n  - id: reset\n    reset_offsets: {{ group: \"{{{{params.group}}}}\", topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    let daemon = ws.start();
    let huge = "g".repeat(32_768);
    for (path, token) in
        [("/api/v1/runbooks/by-param/plan", VIEWER), ("/api/v1/runbooks/by-param/runs?wait=true", OPERATOR)]
    {
        let body = serde_json::json!({ "params": { "group": huge } }).to_string();
        let (status, answer) = daemon.post(path, token, &body).await;
        assert_eq!(status, 400, "{path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("32768 bytes") && message.contains("not a valid Kafka group name"), "{message}");
        assert!(answer.to_string().len() < 1000, "the value is not echoed: {} bytes", answer.to_string().len());
    }
    let runs = daemon.get("/api/v1/runs?limit=10", VIEWER).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 0, "nothing ran: {runs}");

    // The same daemon resets a real group afterwards.
    let body = serde_json::json!({ "params": { "group": group } }).to_string();
    let (status, record) = daemon.post("/api/v1/runbooks/by-param/runs?wait=true", OPERATOR, &body).await;
    assert_eq!((status, record["status"].as_str()), (200, Some("succeeded")), "{record}");
    assert_eq!(committed(&group), [Some(30), Some(30)]);
}

/// A local webhook that counts what it is sent.
async fn counting_webhook() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

async fn raw(daemon: &Daemon, request: &str) -> String {
    let mut stream = TcpStream::connect(address(daemon)).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_smaller_findings_are_refused_or_answered_as_json() {
    let (topic, group) = topic_and_group("smaller").await;
    let (url, posted) = counting_webhook().await;
    let ws = DaemonWorkspace::new(&format!("notify:\n  ops: {{ webhook: {{ url: \"{url}\" }} }}\n"));
    ws.runbook(
        "rb.yaml",
        &format!(
            "name: smaller\ncluster: local\nparams:\n  pattern: {{ type: string, default: x }}\nnotify:\n  - {{ on: [changes, success, failure], to: ops }}\nsteps:\n  - id: find\n    query_messages: {{ topic: {topic}, last: 1, value_regex: \"{{{{params.pattern}}}}\" }}\n  - id: reset\n    reset_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n"
        ),
    );
    let daemon = ws.start();

    // A viewer's plans never make the daemon post.
    for _ in 0..3 {
        let (status, record) = daemon.post("/api/v1/runbooks/smaller/plan", VIEWER, "{}").await;
        assert_eq!((status, record["status"].as_str()), (200, Some("succeeded")), "{record}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(posted.load(Ordering::SeqCst), 0, "a viewer's plan fired a notification");

    // Bodies: an array, or a key given twice, is a 400.
    for body in ["[]", "[{\"params\": {}}]", "{\"params\": {\"pattern\": \"a\", \"pattern\": \"b\"}}"] {
        let (status, answer) = daemon.post("/api/v1/runbooks/smaller/plan", VIEWER, body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "bad_request", "{answer}");
    }

    // The Bearer scheme is case-insensitive.
    for scheme in ["bearer", "BEARER"] {
        let answer = raw(
            &daemon,
            &format!("GET /api/v1/runbooks HTTP/1.1\r\nHost: x\r\nAuthorization: {scheme} {VIEWER}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{scheme}: {answer}");
    }

    // A path that is not UTF-8 once decoded answers the JSON error shape.
    let answer = raw(
        &daemon,
        &format!("GET /api/v1/runbooks/%ff HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {VIEWER}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap_or_default();
    assert_eq!(body["error"]["code"], "bad_request", "{answer}");

    // A 32 KB value that breaks a step is cut short in the answer and in history.
    let pattern = format!("({}", "p".repeat(32_768));
    let body = serde_json::json!({ "params": { "pattern": pattern } }).to_string();
    let (status, record) = daemon.post("/api/v1/runbooks/smaller/plan", VIEWER, &body).await;
    assert_eq!((status, record["status"].as_str()), (200, Some("failed")), "{}", &record.to_string()[..300]);
    let stored = daemon.get(&format!("/api/v1/runs/{}", record["id"].as_str().unwrap()), VIEWER).await;
    let reason = stored["reason"].as_str().unwrap();
    assert!(reason.contains("invalid regex") && reason.contains("(32769 bytes)"), "{reason}");
    assert!(reason.len() < 500, "{} bytes of reason", reason.len());

    // An operator's run does notify: the webhook itself works.
    assert_eq!(committed(&group), [Some(10), Some(10)]);
    let (status, record) = daemon.post("/api/v1/runbooks/smaller/runs?wait=true", OPERATOR, "{}").await;
    assert_eq!((status, record["status"].as_str()), (200, Some("succeeded")), "{record}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while posted.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(posted.load(Ordering::SeqCst) >= 1, "an operator's run notifies");
}
