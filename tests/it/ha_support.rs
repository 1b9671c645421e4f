//! A coordinated deployment for tests (docs/HA.md): three `ebb daemon`
//! processes that coordinate through a broker of their own, each over a
//! fault proxy of its own (so one can be cut off alone), and work on the
//! shared broker directly. The tests take turns: they share the proxies.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ebb_testkit::{Fault, ProxiedPaths, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, config_for};
use crate::daemon_support::{ADMIN, Daemon, OPERATOR, VIEWER};

pub const REPLICAS: usize = 3;
/// Each replica's `coordination.session`.
pub const SESSION: Duration = Duration::from_secs(6);
/// What docs/HA.md promises for a takeover after a replica dies or is cut
/// off: the session, the group's rebalance and the claim.
pub const TAKEOVER_BOUND: Duration = Duration::from_secs(30);
/// The partition the target cluster `local` hashes to with 12 partitions.
pub const LOCAL_PARTITION: i64 = 4;

fn paths() -> &'static ProxiedPaths {
    static PATHS: OnceLock<ProxiedPaths> = OnceLock::new();
    PATHS.get_or_init(|| ProxiedPaths::start("coordination", REPLICAS))
}

/// Held by each test for its whole run.
pub async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    TURN.get_or_init(|| tokio::sync::Mutex::new(())).lock().await
}

pub struct Deployment {
    pub root: PathBuf,
    pub replicas: Vec<Option<Daemon>>,
}

impl Deployment {
    /// Three replicas of a new deployment, started and settled: every
    /// partition claimed and each replica owning some.
    pub async fn start(name: &str) -> Self {
        let id = unique(name).replace('.', "-").to_ascii_lowercase();
        let root = std::env::temp_dir().join(unique("ebb-ha"));
        std::fs::create_dir_all(root.join("runbooks")).unwrap();
        for i in 0..REPLICAS {
            paths().proxies[i].set(Fault::Pass);
            let dir = root.join(format!("r{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let config = format!(
                "{}  coord:\n    kafka:\n      bootstrap_servers: {}\nrunbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: dash, role: viewer, token: {VIEWER} }}\n    - {{ name: ci, role: operator, token: {OPERATOR} }}\n    - {{ name: root, role: admin, token: {ADMIN} }}\ncoordination:\n  cluster: coord\n  id: {id}\n  replica: r{i}\n  session: {}s\n",
                config_for(&shared_cluster().bootstrap),
                paths().bootstrap(i),
                root.join("runbooks").display(),
                dir.join("data").display(),
                SESSION.as_secs(),
            );
            std::fs::write(dir.join("ebb.yaml"), config).unwrap();
        }
        let mut deployment = Deployment { root, replicas: Vec::new() };
        for i in 0..REPLICAS {
            let daemon = deployment.launch(i);
            deployment.replicas.push(Some(daemon));
        }
        deployment.settled().await;
        deployment
    }

    fn launch(&self, i: usize) -> Daemon {
        Daemon::start(&self.root.join(format!("r{i}")), &["--grace", "2s"])
    }

    /// Starts replica `i` again (after a kill).
    pub async fn restart(&mut self, i: usize) {
        self.replicas[i] = Some(self.launch(i));
    }

    pub fn replica(&self, i: usize) -> &Daemon {
        self.replicas[i].as_ref().expect("replica running")
    }

    pub fn cut(&self, i: usize) {
        paths().proxies[i].set(Fault::Stall);
    }

    pub fn mend(&self, i: usize) {
        paths().proxies[i].set(Fault::Pass);
    }

    pub fn runbook(&self, file: &str, text: &str) {
        let path = self.root.join("runbooks").join(file);
        std::fs::write(path.with_extension("tmp"), text).unwrap();
        std::fs::rename(path.with_extension("tmp"), path).unwrap();
    }

    pub fn remove_runbook(&self, file: &str) {
        let _ = std::fs::remove_file(self.root.join("runbooks").join(file));
    }

    /// `ebb cluster-status --output json` through replica `i`'s ebb.yaml.
    pub fn status(&self, i: usize) -> Value {
        let config = std::fs::read_to_string(self.root.join(format!("r{i}/ebb.yaml"))).unwrap();
        let out = Ebb::new().config(&config).args(["cluster-status", "--output", "json"]).run();
        assert_eq!(out.code, 0, "cluster-status: {}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    }

    /// Waits until every partition is claimed and each running replica says it owns some.
    pub async fn settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let running: Vec<String> =
            (0..REPLICAS).filter(|i| self.replicas[*i].is_some()).map(|i| format!("r{i}")).collect();
        loop {
            let status = self.status(self.any_running());
            let owning: Vec<String> = status["replicas"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["alive"] == true && !r["owned"].as_array().unwrap().is_empty())
                .map(|r| r["replica"].as_str().unwrap().to_owned())
                .collect();
            let owned: usize = status["replicas"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| running.contains(&r["replica"].as_str().unwrap().to_owned()))
                .map(|r| r["owned"].as_array().unwrap().len())
                .sum();
            if running.iter().all(|r| owning.contains(r)) && owned == 12 {
                return;
            }
            assert!(Instant::now() < deadline, "the deployment never settled: {status:#}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub fn any_running(&self) -> usize {
        (0..REPLICAS).find(|i| self.replicas[*i].is_some()).expect("a replica running")
    }

    /// The replica that owns target cluster `local` now, by its own word.
    pub async fn owner(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.status(self.any_running());
            let claimed = status["ownership"][LOCAL_PARTITION as usize]["owner"].as_str().map(str::to_owned);
            let says = status["replicas"].as_array().unwrap().iter().find(|r| {
                Some(r["replica"].as_str().unwrap().to_owned()) == claimed
                    && r["alive"] == true
                    && r["owned"].as_array().unwrap().contains(&Value::from(LOCAL_PARTITION))
            });
            if let Some(r) = says {
                let i: usize = r["replica"].as_str().unwrap()[1..].parse().unwrap();
                if self.replicas[i].is_some() {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no replica owns cluster local: {status:#}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Every run of `runbook` replica `i` knows, each as its full record.
    pub async fn runs(&self, i: usize, runbook: &str) -> Vec<Value> {
        let daemon = self.replica(i);
        let list = daemon.get(&format!("/api/v1/runs?runbook={runbook}&limit=1000"), VIEWER).await;
        let mut runs = Vec::new();
        for summary in list["runs"].as_array().unwrap() {
            let id = summary["id"].as_str().unwrap();
            runs.push(daemon.get(&format!("/api/v1/runs/{id}"), VIEWER).await);
        }
        runs
    }

    /// Waits until replica `i` has run `id` in a status `done` accepts; how long it took.
    pub async fn wait_for_run(&self, i: usize, id: &str, done: impl Fn(&Value) -> bool) -> (Value, Duration) {
        let started = Instant::now();
        loop {
            let (status, run) = self.replica(i).request("GET", &format!("/api/v1/runs/{id}"), Some(VIEWER), None).await;
            if status == 200 && done(&run) {
                return (run, started.elapsed());
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "run {id} on r{i} never got there: {run:#}\n{}",
                self.replica(i).log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for proxy in &paths().proxies {
            proxy.set(Fault::Pass);
        }
        for daemon in self.replicas.iter().flatten() {
            daemon.signal("CONT");
        }
        self.replicas.clear();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The schedule slot of a run record.
pub fn slot(run: &Value) -> Option<String> {
    run["slot"].as_str().map(str::to_owned)
}
