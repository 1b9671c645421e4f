//! One real Kafka per test process, started on first use by `scripts/kafka` and
//! stopped by its watcher when the process ends. `EBB_TEST_BOOTSTRAP` (and
//! `EBB_TEST_BOOTSTRAP_3` for the three-broker cluster) reuse a running one.
//! A broker that cannot be started fails the test that asked for it: never a skip.
//! The one-broker cluster also has secured listeners (see `secure`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ebb::config::KafkaClusterConfig;
use ebb::time::HumanDuration;

pub struct TestCluster {
    pub bootstrap: String,
    pub brokers: usize,
    /// Where it runs, when this process started it (its brokers log every request there).
    pub dir: Option<PathBuf>,
}

impl TestCluster {
    /// `ebb.yaml` settings for this cluster.
    pub fn config(&self) -> KafkaClusterConfig {
        cluster_config(&self.bootstrap)
    }

    /// How many requests of API `api_key` (21 is DeleteRecords) that mention
    /// `needle` each broker has completed, by broker id, from the brokers' own
    /// request logs. Only for clusters this process started.
    pub fn requests_logged(&self, api_key: i32, needle: &str) -> std::collections::BTreeMap<i32, usize> {
        let dir = self.dir.as_ref().expect(
            "this test reads the brokers' request logs, so it needs a cluster it starts itself: \
             unset EBB_TEST_BOOTSTRAP / EBB_TEST_BOOTSTRAP_3",
        );
        let key = format!("\"requestApiKey\":{api_key},");
        (1..=self.brokers as i32)
            .map(|id| {
                let log = dir.join(format!("node-{id}/logs/requests.log"));
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                (id, text.lines().filter(|l| l.contains(&key) && l.contains(needle)).count())
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// `ebb.yaml` settings for a test cluster at `bootstrap`.
pub fn cluster_config(bootstrap: &str) -> KafkaClusterConfig {
    KafkaClusterConfig {
        bootstrap_servers: bootstrap.to_owned(),
        properties: Default::default(),
        timeout: HumanDuration::parse("15s").expect("literal"),
        from_files: Vec::new(),
    }
}

/// The repository's root: this crate lives in `crates/ebb-testkit` below it.
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository"))
}

pub fn shared_cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| obtain("EBB_TEST_BOOTSTRAP", 1, true))
}

pub fn shared_three_broker_cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| obtain("EBB_TEST_BOOTSTRAP_3", 3, false))
}

fn obtain(variable: &str, brokers: usize, secure: bool) -> TestCluster {
    if let Some(bootstrap) = std::env::var(variable).ok().filter(|b| !b.is_empty()) {
        return TestCluster { bootstrap, brokers, dir: None };
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("ebb-test-kafka-{}-{brokers}", std::process::id()));
    let extra: &[&str] = if secure { &["--secure"] } else { &[] };
    start(&dir, brokers, extra, &format!("set {variable} to use a running one")).0
}

/// Starts a cluster; returns it and the directory it runs in.
fn start(dir: &Path, brokers: usize, extra: &[&str], hint: &str) -> (TestCluster, PathBuf) {
    // Two clusters starting at once may pick the same free port; that start
    // fails to bind and is tried again in a directory of its own.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let dir = if attempt == 1 { dir.to_path_buf() } else { dir.with_extension(format!("retry{attempt}")) };
        let mut command = Command::new(repo_root().join("scripts/kafka"));
        command.args(["start", "--log-requests", "--brokers", &brokers.to_string()]).args(extra);
        let output = command
            .args(["--ephemeral", "--watch-pid"])
            .arg(std::process::id().to_string())
            .arg("--dir")
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run scripts/kafka: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            if attempt < 3 && stderr.contains("Address already in use") {
                let _ =
                    Command::new(repo_root().join("scripts/kafka")).args(["stop", "--now", "--dir"]).arg(&dir).status();
                continue;
            }
            panic!(
                "a real Kafka is required for this test and could not be started \
                 (Java 17+ and Maven are needed; {hint}):\n{stderr}"
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let bootstrap = stdout.lines().last().unwrap_or_default().trim().to_owned();
        assert!(!bootstrap.is_empty(), "scripts/kafka start printed no bootstrap address");
        return (TestCluster { bootstrap, brokers, dir: Some(dir.clone()) }, dir);
    }
}

/// A one-broker cluster of a test's own, for tests that stop it. Stopped and
/// deleted when dropped (or when the test process ends).
pub struct PrivateCluster {
    pub cluster: TestCluster,
    dir: PathBuf,
}

impl PrivateCluster {
    pub fn start(name: &str) -> Self {
        Self::start_with(name, 1, &[])
    }

    /// A three-broker cluster (and its controller) of the test's own.
    pub fn start_three(name: &str) -> Self {
        Self::start_with(name, 3, &[])
    }

    /// With `scripts/kafka start` arguments of its own (`--proxied PORT`).
    pub fn start_with(name: &str, brokers: usize, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(crate::unique(&format!("ebb-private-kafka-{name}")));
        let (cluster, dir) =
            start(&dir, brokers, extra, "this test stops its own broker, so it cannot use a running one");
        PrivateCluster { cluster, dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills broker `id` (1 to 3) with SIGKILL, as a crash would; the others
    /// and the controller go on.
    pub fn kill_broker(&self, id: i32) {
        let pid_file = self.dir.join(format!("node-{id}/pid"));
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("no pid for broker {id} in {}: {e}", pid_file.display()));
        let status = Command::new("kill").args(["-KILL", pid.trim()]).status().expect("run kill");
        assert!(status.success(), "kill -KILL {} failed", pid.trim());
        let _ = std::fs::remove_file(pid_file);
    }

    /// Kills the broker at once, as a crash or a pulled cable would.
    pub fn kill(&self) {
        let status = Command::new(repo_root().join("scripts/kafka"))
            .args(["stop", "--now", "--dir"])
            .arg(&self.dir)
            .status()
            .unwrap_or_else(|e| panic!("cannot run scripts/kafka stop: {e}"));
        assert!(status.success(), "scripts/kafka stop failed");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
