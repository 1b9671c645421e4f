//! A daemon for tests: a workspace with `ebb.yaml` (tokens for each role, a
//! runbooks directory, a data dir), `ebb daemon` started on a free loopback
//! port, HTTP requests to it, and its log.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ebb::testkit::{shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, config_for};

pub const VIEWER: &str = "viewer-token-6f1c";
pub const OPERATOR: &str = "operator-token-93ab";
pub const ADMIN: &str = "admin-token-27de";

pub struct DaemonWorkspace {
    pub dir: PathBuf,
    pub config: String,
}

impl DaemonWorkspace {
    /// `extra` is appended to ebb.yaml (a `notify:` section, say).
    pub fn new(extra: &str) -> Self {
        let dir = std::env::temp_dir().join(unique("ebb-daemon"));
        std::fs::create_dir_all(dir.join("runbooks")).unwrap();
        let config = format!(
            "{}runbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: dash, role: viewer, token: {VIEWER} }}\n    - {{ name: ci, role: operator, token: {OPERATOR} }}\n    - {{ name: root, role: admin, token: {ADMIN} }}\n{extra}",
            config_for(&shared_cluster().bootstrap),
            dir.join("runbooks").display(),
            dir.join("data").display(),
        );
        std::fs::write(dir.join("ebb.yaml"), &config).unwrap();
        DaemonWorkspace { dir, config }
    }

    /// Writes `runbooks/<file>`.
    pub fn runbook(&self, file: &str, text: &str) {
        let path = self.dir.join("runbooks").join(file);
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
    }

    pub fn remove_runbook(&self, file: &str) {
        std::fs::remove_file(self.dir.join("runbooks").join(file)).unwrap();
    }

    /// `ebb ARGS` against this workspace's ebb.yaml.
    pub fn ebb<const N: usize>(&self, args: [&str; N]) -> Outcome {
        Ebb::new().config(&self.config).args(args).run()
    }

    pub fn start(&self) -> Daemon {
        Daemon::start(&self.dir, &["--grace", "2s"])
    }
}

impl Drop for DaemonWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Daemon {
    child: Option<Child>,
    pub url: String,
    log: Arc<Mutex<String>>,
    client: reqwest::Client,
}

impl Daemon {
    pub fn start(dir: &std::path::Path, args: &[&str]) -> Self {
        Daemon::start_with(dir, &["daemon"], args)
    }

    /// `ebb --config … BEFORE… AFTER…`: BEFORE holds `daemon` and any global flags.
    pub fn start_with(dir: &std::path::Path, before: &[&str], after: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ebb"))
            .arg("--config")
            .arg(dir.join("ebb.yaml"))
            .args(before)
            .args(after)
            .env_remove("EBB_CONFIG")
            .env("EBB_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ebb daemon");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (found, url) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ebb daemon listening on ") {
                    let _ = found.send(url.to_owned());
                }
            }
        });
        let url = match url.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("the daemon did not say where it listens; its log:\n{}", log.lock().unwrap());
            }
        };
        Daemon { child: Some(child), url, log, client: reqwest::Client::new() }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub async fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        let response = request.send().await.expect("the daemon answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.request("GET", path, Some(token), None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, token: &str, body: &str) -> (u16, Value) {
        self.request("POST", path, Some(token), Some(body)).await
    }

    pub async fn metrics(&self) -> String {
        let (status, body) = self.request("GET", "/metrics", None, None).await;
        assert_eq!(status, 200);
        body.as_str().unwrap().to_owned()
    }

    /// Polls `GET /api/v1/runs?QUERY` until `done` holds for the list (60 s at most).
    pub async fn wait_for_runs(&self, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let runs = self.get(&format!("/api/v1/runs?{query}"), VIEWER).await["runs"].as_array().unwrap().clone();
            if done(&runs) {
                return runs;
            }
            assert!(Instant::now() < deadline, "runs never got there: {runs:?}\nlog:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM, then waits (30 s at most) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the daemon did not stop within 30 s of SIGTERM; its log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
