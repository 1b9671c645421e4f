//! A daemon for tests: a workspace with `ebb.yaml` (tokens for each role, a
//! runbooks directory, a data dir), `ebb daemon` started on a free loopback
//! port, HTTP requests to it, and its log.

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use ebb_testkit::{DaemonProcess, shared_cluster, unique};
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
        DaemonWorkspace::with_daemon_settings("", extra)
    }

    /// Like `new`, with `settings` (lines indented by two) added to the `daemon:` section.
    pub fn with_daemon_settings(settings: &str, extra: &str) -> Self {
        let dir = std::env::temp_dir().join(unique("ebb-daemon"));
        std::fs::create_dir_all(dir.join("runbooks")).unwrap();
        let config = format!(
            "{}runbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: dash, role: viewer, token: {VIEWER} }}\n    - {{ name: ci, role: operator, token: {OPERATOR} }}\n    - {{ name: root, role: admin, token: {ADMIN} }}\n{settings}{extra}",
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

    /// `ebb ARGS` against this workspace's ebb.yaml, the arguments as a slice.
    pub fn ebb_args(&self, args: &[&str]) -> Outcome {
        Ebb::new().config(&self.config).args(args.iter().copied()).run()
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
    process: DaemonProcess,
    pub url: String,
    client: reqwest::Client,
}

impl Daemon {
    pub fn start(dir: &std::path::Path, args: &[&str]) -> Self {
        Daemon::start_with(dir, &["daemon"], args)
    }

    /// `ebb --config … BEFORE… AFTER…`: BEFORE holds `daemon` and any global flags.
    pub fn start_with(dir: &std::path::Path, before: &[&str], after: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
        command.arg("--config").arg(dir.join("ebb.yaml")).args(before).args(after);
        command.env_remove("EBB_CONFIG").env("EBB_LOG", "info");
        let process = DaemonProcess::spawn(command);
        Daemon { url: process.url.clone(), process, client: reqwest::Client::new() }
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    pub async fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let build = || {
            let mut request = self.client.request(method.clone(), format!("{}{path}", self.url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.header("content-type", "application/json").body(body.to_owned());
            }
            request
        };
        let response = match build().send().await {
            Ok(response) => response,
            // A kept-alive connection the daemon closed just then (its idle
            // timeout passed, while it was frozen say): a GET is asked again.
            Err(e) if method == reqwest::Method::GET && e.is_request() => {
                build().send().await.expect("the daemon answers")
            }
            Err(e) => panic!("the daemon answers: {e:?}"),
        };
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
        self.process.terminate()
    }

    /// SIGKILL.
    pub fn kill(&mut self) -> ExitStatus {
        self.process.kill()
    }

    /// Sends `signal` (`STOP`, `CONT`).
    pub fn signal(&self, signal: &str) {
        self.process.signal(signal)
    }
}
