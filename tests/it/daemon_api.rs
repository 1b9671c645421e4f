//! The daemon's HTTP API over real HTTP, on the real broker: tokens and
//! roles, JSON errors and the body limit, the OpenAPI document against the
//! routes served, runs and plans and rollbacks recorded with who asked, and
//! the CLI going through the daemon while it holds the history store.

use serde_json::Value;

use crate::daemon_support::{ADMIN, DaemonWorkspace, OPERATOR, VIEWER};
use crate::history_support::{at, committed, topic_and_groups};

fn to_latest(name: &str, group: &str, topic: &str) -> String {
    format!(
        "name: {name}\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_roles_and_bad_requests_get_json_errors() {
    let ws = DaemonWorkspace::new("");
    ws.runbook("a.yaml", &to_latest("api-auth", "api-auth-g", "api-auth-t"));
    let daemon = ws.start();
    let runs = "/api/v1/runbooks/api-auth/runs";

    let (status, body) = daemon.request("GET", "/api/v1/runbooks", None, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{body}");
    let challenge = reqwest::get(format!("{}/api/v1/runs", daemon.url)).await.unwrap();
    assert_eq!(challenge.headers()["www-authenticate"], "Bearer");
    let (status, _) = daemon.request("GET", "/api/v1/runbooks", Some("not-a-token"), None).await;
    assert_eq!(status, 401);
    let (status, _) = daemon.request("GET", "/api/v1/runbooks", Some(&VIEWER[..VIEWER.len() - 1]), None).await;
    assert_eq!(status, 401, "a prefix of a token is not the token");
    let (status, body) = daemon.post(runs, VIEWER, "{}").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("needs operator"));
    let (status, _) = daemon.post("/api/v1/runbooks/api-auth/pause", VIEWER, "").await;
    assert_eq!(status, 403);
    for token in [VIEWER, OPERATOR, ADMIN] {
        assert_eq!(daemon.get("/api/v1/runbooks", token).await["runbooks"][0]["name"], "api-auth");
    }

    let bad = [
        ("{not json", 400, "invalid JSON body"),
        ("{\"params\": {}, \"colour\": 1}", 400, "unknown field `colour`"),
        ("{\"params\": {\"nope\": 1}}", 400, "unknown param `nope`"),
        ("[1, 2]", 400, "invalid JSON body"),
    ];
    for (body, expected_status, message) in bad {
        let (status, answer) = daemon.post(runs, OPERATOR, body).await;
        assert_eq!(status, expected_status, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    let huge = format!("{{\"params\": {{}}, \"pad\": \"{}\"}}", "x".repeat(ebb::daemon::BODY_LIMIT));
    let (status, answer) = daemon.post(runs, OPERATOR, &huge).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (413, Some("too_large")), "{answer}");
    let (status, answer) = daemon.post("/api/v1/runbooks/nope/runs", OPERATOR, "{}").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("not_found")), "{answer}");
    let (status, answer) = daemon.request("GET", "/api/v1/runs?status=sleeping", Some(VIEWER), None).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("unknown status"));
    let (status, answer) = daemon.request("GET", "/api/v1/nowhere", Some(VIEWER), None).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, _) = daemon.request("DELETE", "/api/v1/runs", Some(ADMIN), None).await;
    assert_eq!(status, 405);
    let (status, answer) = daemon.request("GET", "/healthz", None, None).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ok")));

    let log = daemon.log();
    assert!(log.contains("runbook=") && !log.contains('\u{1b}'), "a piped text log is plain, no colour codes:\n{log}");
    for secret in [VIEWER, OPERATOR, ADMIN] {
        assert!(!log.contains(secret), "a token is in the log");
        assert!(!daemon.metrics().await.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_names_exactly_the_routes_served() {
    let ws = DaemonWorkspace::new("");
    let daemon = ws.start();
    let (status, doc) = daemon.request("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().unwrap() {
            documented += 1;
            let concrete = path.replace("{name}", "no-such-runbook").replace("{id}", "no-such-run");
            let public = operation["security"].as_array().unwrap().is_empty();
            // Without a token, a route that exists says 401 (or answers, when public); one that does not, 404.
            let (status, body) = daemon.request(&method.to_uppercase(), &concrete, None, None).await;
            if public {
                assert_eq!(status, 200, "{method} {path}: {body}");
            } else {
                assert_eq!(status, 401, "{method} {path} is documented but not served as documented: {body}");
                let role = operation["x-ebb-role"].as_str().unwrap();
                assert!(["viewer", "operator", "admin"].contains(&role));
            }
        }
    }
    assert_eq!(documented, ebb::daemon::openapi::ROUTES.len());
    assert!(documented >= 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_plans_and_rollbacks_through_the_api_are_recorded_with_who_asked() {
    let (topic, groups) = topic_and_groups("api-run", &["g"]).await;
    let group = &groups[0];
    let ws = DaemonWorkspace::new("");
    ws.runbook("rb.yaml", &to_latest("api-run", group, &topic));
    let daemon = ws.start();

    // A plan changes nothing, and is a run of its own.
    let (status, planned) = daemon.post("/api/v1/runbooks/api-run/plan", VIEWER, "").await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!((planned["mode"].as_str(), planned["status"].as_str()), (Some("plan"), Some("succeeded")));
    assert_eq!(planned["actor"], "dash");
    assert_eq!(planned["plan"]["steps"][1]["changes"].as_array().unwrap().len(), 2);
    assert_eq!(committed(group).await, at(&topic, [10, 10]));

    // Apply exactly that plan.
    let body = format!("{{\"plan_id\": \"{}\"}}", planned["id"].as_str().unwrap());
    let (status, applied) = daemon.post("/api/v1/runbooks/api-run/runs?wait=true", OPERATOR, &body).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!((applied["status"].as_str(), applied["trigger"].as_str()), (Some("succeeded"), Some("api")));
    assert_eq!(applied["plan_id"], planned["id"]);
    assert_eq!(applied["actor"], "ci");
    assert_eq!(committed(group).await, at(&topic, [30, 30]));

    // Roll it back without waiting: 202 with the id, then the record.
    let (status, started) =
        daemon.post(&format!("/api/v1/runs/{}/rollback", applied["id"].as_str().unwrap()), OPERATOR, "{}").await;
    assert_eq!(status, 202, "{started}");
    let rollback_id = started["run_id"].as_str().unwrap().to_owned();
    let runs = daemon
        .wait_for_runs("runbook=api-run", |runs| {
            runs.iter().any(|r| r["id"] == rollback_id.as_str() && r["status"] != "running")
        })
        .await;
    assert_eq!(runs.len(), 3);
    let rollback = daemon.get(&format!("/api/v1/runs/{rollback_id}"), VIEWER).await;
    assert_eq!((rollback["trigger"].as_str(), rollback["status"].as_str()), (Some("rollback"), Some("succeeded")));
    assert_eq!(committed(group).await, at(&topic, [10, 10]), "the snapshot was restored");

    // A run with params the runbook does not have never starts.
    let (status, _) = daemon.post("/api/v1/runbooks/api-run/runs", OPERATOR, "{\"params\": {\"x\": 1}}").await;
    assert_eq!(status, 400);
    let filtered = daemon.get("/api/v1/runs?runbook=api-run&status=succeeded&limit=2", VIEWER).await;
    assert_eq!(filtered["runs"].as_array().unwrap().len(), 2);

    let metrics = daemon.metrics().await;
    assert!(
        metrics.contains("ebb_runs_total{runbook=\"api-run\",trigger=\"api\",status=\"succeeded\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("ebb_runs_total{runbook=\"api-run\",trigger=\"rollback\",status=\"succeeded\"} 1"));
    assert!(
        metrics
            .contains("ebb_step_duration_seconds_count{runbook=\"api-run\",step=\"reset\",kind=\"reset_offsets\"} 2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_goes_through_the_daemon_while_it_holds_the_store() {
    let (topic, groups) = topic_and_groups("via-daemon", &["g"]).await;
    let group = &groups[0];
    let ws = DaemonWorkspace::new("");
    ws.runbook("rb.yaml", &to_latest("via-daemon", group, &topic));
    let daemon = ws.start();

    let out = ws.ebb(["run", "via-daemon", "--yes", "--output", "json"]).success();
    assert!(out.stderr.contains(&format!("through the daemon at {}", daemon.url)), "{}", out.stderr);
    let record: Value = out.json();
    assert_eq!((record["trigger"].as_str(), record["actor"].as_str()), (Some("api"), Some("root")));
    assert_eq!(committed(group).await, at(&topic, [30, 30]));

    let id = record["id"].as_str().unwrap();
    ws.ebb(["history"]).success().stdout_contains(id).stdout_contains("via-daemon");
    let listed = ws.ebb(["history", "--output", "json", "--runbook", "via-daemon"]).success().json();
    assert_eq!(listed["runs"].as_array().unwrap().len(), 1);
    ws.ebb(["show", &id[..12]]).success().stdout_contains(&format!("Run {id}"));
    ws.ebb(["rollback", id]).code(1).stderr_contains("pass --plan-only");
    ws.ebb(["rollback", id, "--plan-only"]).success();
    assert_eq!(committed(group).await, at(&topic, [30, 30]), "a rollback plan changes nothing");
    ws.ebb(["rollback", id, "--yes"]).success();
    assert_eq!(committed(group).await, at(&topic, [10, 10]));
    ws.ebb(["run", "via-daemon"]).code(1).stderr_contains("pass --yes");
    assert_eq!(committed(group).await, at(&topic, [10, 10]), "without --yes nothing is applied");
    ws.ebb(["show", "no-such-run"]).code(1).stderr_contains("answered 404");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_format_json_writes_one_object_per_line() {
    let ws = DaemonWorkspace::new("");
    ws.runbook("a.yaml", &to_latest("json-logs", "json-logs-g", "json-logs-t"));
    let mut daemon = crate::daemon_support::Daemon::start_with(&ws.dir, &["--log-format", "json", "daemon"], &[]);
    daemon.get("/api/v1/runbooks", VIEWER).await;
    assert!(daemon.terminate().success());
    let log = daemon.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{log}");
    for line in lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(entry["level"].is_string() && entry["fields"].is_object(), "{line}");
    }
    assert!(log.contains("\"message\":\"runbook loaded\"") && log.contains("\"runbook\":\"json-logs\""), "{log}");
}
