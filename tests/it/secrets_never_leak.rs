//! A full secured run, and every word it leaves behind searched for secrets:
//! ebb.yaml takes the Kafka password from a file, the API token and a
//! webhook's secret path from the environment, and a second cluster has a
//! wrong password. The CLI validates, plans, applies, runs, fails on the wrong
//! password, lists and shows every run and plans a rollback; then the daemon,
//! over HTTPS, answers every read endpoint and runs, plans and rolls back
//! through its API. Every log line (at debug), plan, history record (as shown,
//! and the store's bytes), API response and error is searched: no secret.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ebb_testkit::{DaemonProcess, SecureListeners, Seeder, repo_root, shared_cluster, unique};
use serde_json::Value;

/// Everything the run printed, wrote or answered, labelled by where it came from.
#[derive(Default)]
struct Transcript(Vec<(String, String)>);

impl Transcript {
    fn keep(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn all(&self) -> String {
        self.0.iter().map(|(_, text)| text.as_str()).collect::<Vec<_>>().join("\n")
    }

    fn assert_never_shows(&self, name: &str, secret: &str) {
        for (label, text) in &self.0 {
            assert!(!text.contains(secret), "the {name} leaked into {label}:\n{text}");
        }
    }
}

struct Workspace {
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Workspace {
    fn ebb(&self, args: &[&str], transcript: &mut Transcript) -> (i32, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
        command.current_dir(&self.dir).arg("--config").arg(self.dir.join("ebb.yaml")).args(args);
        command.env_remove("EBB_CONFIG").env("EBB_LOG", "debug").envs(self.env.iter().map(|(k, v)| (*k, v)));
        let output = command.output().expect("run ebb");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        transcript.keep(format!("stdout of ebb {args:?}"), stdout.clone());
        transcript.keep(format!("stderr of ebb {args:?}"), stderr);
        (output.status.code().unwrap_or(-1), stdout)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn runbook(name: &str, cluster: &str, topic: &str, group: &str) -> String {
    format!(
        "name: {name}\ncluster: {cluster}\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ high_watermark: true }} }}\nnotify:\n  - {{ on: [success, failure], to: chat, message: \"{{{{runbook.name}}}} {{{{run.status}}}}\" }}\n"
    )
}

fn every_file_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() { files.extend(every_file_under(&path)) } else { files.push(path) }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_any_log_plan_record_or_answer_of_a_secured_run() {
    let listeners = SecureListeners::of(shared_cluster());
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, group) = (unique("leak"), unique("leak-group"));
    seeder.create_topic(&topic, 2).await;
    seeder.produce_everywhere(&topic, 2, 20, "r").await;
    seeder.commit(&group, &[(&topic, 0, 5), (&topic, 1, 5)]).await;

    let token = format!("api-token-{}", unique("t"));
    let hook_secret = format!("hook-{}", unique("s"));
    let wrong_password = format!("wrong-{}", unique("p"));
    let dir = std::env::temp_dir().join(unique("ebb-leak"));
    std::fs::create_dir_all(dir.join("runbooks")).unwrap();
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    let status = Command::new(repo_root().join("scripts/tls-certs")).arg(dir.join("tls")).status().unwrap();
    assert!(status.success());
    std::fs::write(dir.join("secrets/kafka-password"), format!("{}\n", listeners.password)).unwrap();
    let ca = listeners.cert("ca.crt");
    let kafka = |password: &str| {
        format!(
            "    kafka:\n      bootstrap_servers: {}\n      timeout: 10s\n      properties:\n        security.protocol: SASL_SSL\n        sasl.mechanism: SCRAM-SHA-512\n        sasl.username: {}\n        sasl.password: \"{password}\"\n        ssl.ca.location: {}\n",
            listeners.sasl_ssl,
            listeners.user,
            ca.display()
        )
    };
    let config = format!(
        "runbooks: runbooks\ndata_dir: data\nclusters:\n  secured:\n{}  wrong:\n{}daemon:\n  listen: 127.0.0.1:0\n  tls: {{ cert: tls/server.crt, key: tls/server.key, ca: tls/ca.crt }}\n  tokens:\n    - {{ name: ops, role: admin, token: \"${{EBB_TOKEN_OPS}}\" }}\nnotify:\n  chat: {{ webhook: {{ url: \"http://127.0.0.1:9/hooks/${{WEBHOOK_SECRET}}\" }} }}\n",
        kafka("${file:secrets/kafka-password}"),
        kafka("${WRONG_KAFKA_PASSWORD}"),
    );
    std::fs::write(dir.join("ebb.yaml"), config).unwrap();
    std::fs::write(dir.join("runbooks/secured.yaml"), runbook("secured", "secured", &topic, &group)).unwrap();
    std::fs::write(dir.join("runbooks/wrong.yaml"), runbook("wrong", "wrong", &topic, &group)).unwrap();
    let workspace = Workspace {
        dir: dir.clone(),
        env: vec![
            ("EBB_TOKEN_OPS", token.clone()),
            ("WEBHOOK_SECRET", hook_secret.clone()),
            ("WRONG_KAFKA_PASSWORD", wrong_password.clone()),
        ],
    };
    let mut transcript = Transcript::default();

    // The CLI.
    assert_eq!(workspace.ebb(&["validate"], &mut transcript).0, 0);
    assert_eq!(
        workspace.ebb(&["cluster", "describe", "--cluster", "secured", "--group", &group], &mut transcript).0,
        0
    );
    assert_eq!(workspace.ebb(&["plan", "secured", "--out", "plan.json"], &mut transcript).0, 0);
    transcript.keep("plan.json", std::fs::read_to_string(dir.join("plan.json")).unwrap());
    assert_eq!(workspace.ebb(&["apply", "plan.json"], &mut transcript).0, 0);
    assert_eq!(workspace.ebb(&["run", "secured", "--yes", "--output", "json"], &mut transcript).0, 0);
    assert_eq!(workspace.ebb(&["run", "wrong", "--yes"], &mut transcript).0, 1);
    let (code, listed) = workspace.ebb(&["history", "--output", "json"], &mut transcript);
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let ids: Vec<String> =
        listed["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.len() >= 4, "plan, apply, run and the failed run are recorded: {listed}");
    for id in &ids {
        assert_eq!(workspace.ebb(&["show", id, "--output", "json"], &mut transcript).0, 0);
        workspace.ebb(&["show", id], &mut transcript);
    }
    let applied = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "succeeded" && r["mode"] == "apply")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no succeeded apply in {listed}"));
    assert_eq!(workspace.ebb(&["rollback", &applied, "--plan-only"], &mut transcript).0, 0);
    // A command over TLS exits with its Kafka clients still running; OpenSSL's
    // exit handler once freed its state under them, and about one command in
    // ten died of SIGSEGV after doing its work (main.rs).
    for attempt in 0..40 {
        let (code, _) = workspace.ebb(&["rollback", &applied, "--plan-only"], &mut Transcript::default());
        assert_eq!(code, 0, "attempt {attempt}: the command did not exit cleanly (-1: killed by a signal)");
    }

    // The daemon, over HTTPS.
    let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
    command.current_dir(&dir).arg("--config").arg(dir.join("ebb.yaml")).args(["daemon", "--grace", "2s"]);
    command.env_remove("EBB_CONFIG").env("EBB_LOG", "debug").envs(workspace.env.iter().map(|(k, v)| (*k, v)));
    let mut daemon = DaemonProcess::spawn(command);
    let pem = std::fs::read(dir.join("tls/ca.crt")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut answers = Vec::new();
    let mut call = async |method: reqwest::Method, path: String, body: Option<&str>| {
        let mut request = client.request(method.clone(), format!("{}{path}", daemon.url)).bearer_auth(&token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await.expect("the daemon answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        answers.push((format!("{method} {path} ({status})"), text.clone()));
        (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
    };
    use reqwest::Method;
    for path in ["/healthz", "/metrics", "/api/v1/openapi.json", "/api/v1/runbooks", "/api/v1/runbooks/secured"] {
        assert_eq!(call(Method::GET, path.to_owned(), None).await.0, 200, "{path}");
    }
    let (status, planned) = call(Method::POST, "/api/v1/runbooks/secured/plan".into(), Some("{}")).await;
    assert_eq!(status, 200, "{planned}");
    let (status, ran) = call(Method::POST, "/api/v1/runbooks/secured/runs?wait=true".into(), Some("{}")).await;
    assert_eq!((status, ran["status"].as_str()), (200, Some("succeeded")), "{ran}");
    let (status, failed) = call(Method::POST, "/api/v1/runbooks/wrong/runs?wait=true".into(), Some("{}")).await;
    assert_eq!((status, failed["status"].as_str()), (200, Some("failed")), "{failed}");
    // The CLI's apply committed offsets (the daemon's run found the group already at the end).
    let rollback = format!("/api/v1/runs/{applied}/rollback?wait=true");
    let (status, rolled) = call(Method::POST, rollback, Some("{}")).await;
    assert_eq!(status, 200, "{rolled}");
    let (_, runs) = call(Method::GET, "/api/v1/runs?limit=100".into(), None).await;
    for run in runs["runs"].as_array().unwrap() {
        assert_eq!(call(Method::GET, format!("/api/v1/runs/{}", run["id"].as_str().unwrap()), None).await.0, 200);
    }
    let (status, _) = call(Method::GET, "/api/v1/runs/nope".into(), None).await;
    assert_eq!(status, 404);
    for (label, text) in answers {
        transcript.keep(label, text);
    }
    // The CLI through the daemon, which holds the store.
    assert_eq!(workspace.ebb(&["history"], &mut transcript).0, 0);
    assert!(daemon.terminate().success());
    transcript.keep("the daemon's log", daemon.log());

    // The store's own bytes.
    for file in every_file_under(&dir.join("data")) {
        transcript.keep(format!("{}", file.display()), String::from_utf8_lossy(&std::fs::read(&file).unwrap()));
    }

    // The transcript holds what it should, so the search below means something.
    let all = transcript.all();
    for expected in ["committed", "wrong user name or password", "notification not delivered", "rollback", &ids[0]] {
        assert!(all.contains(expected), "the transcript lacks {expected:?}");
    }
    transcript.assert_never_shows("Kafka password", &listeners.password);
    transcript.assert_never_shows("wrong Kafka password", &wrong_password);
    transcript.assert_never_shows("API token", &token);
    transcript.assert_never_shows("webhook secret", &hook_secret);
}

/// A `${file:}` reference may hold any setting, the bootstrap address
/// included; whatever the file holds never appears in a connection error.
#[test]
fn what_a_file_reference_reads_never_appears_in_a_connection_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let from_file = format!("{closed}");
    let config = "clusters:\n  local:\n    kafka:\n      bootstrap_servers: ${file:bootstrap.txt}\n      timeout: 2s\n";
    let out = crate::cli_harness::Ebb::new()
        .config(config)
        .file("bootstrap.txt", &format!("{from_file}\n"))
        .args(["cluster", "describe", "--cluster", "local"])
        .env("EBB_LOG", "debug")
        .run()
        .code(1);
    assert!(out.stderr.contains("cannot reach ***"), "{}", out.stderr);
    out.never_shows(&from_file);
}
