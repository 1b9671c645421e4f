//! Benchmark: a coordinated deployment (docs/HA.md).
//!
//! 1. Throughput of scheduled runs: 24 target clusters (names `c00`…`c23` in
//!    ebb.yaml, all the same broker, so their work spreads over the
//!    deployment's partitions), each with 2 runbooks planning a
//!    `query_messages` of a small topic every second: 48 runs a second asked.
//!    Each setup runs for the window on fresh data dirs: one daemon alone (no
//!    coordination), one replica, three replicas. From history afterwards:
//!    runs recorded per second, and how long a run took.
//! 2. Takeover: three replicas, a runbook every second on `c00`; its owner
//!    is killed (SIGKILL), and the time to the first run the new owner
//!    starts is measured, over 5 rounds (the killed replica restarted
//!    between them).
//!
//! Run: `cargo bench --bench failover` (`EBB_TEST_BOOTSTRAP` reuses a running
//! broker; `EBB_BENCH_SECONDS` sets the window, 60 by default). Results go in
//! docs/BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ebb_testkit::{DaemonProcess, Seeder, shared_cluster, unique};
use serde_json::Value;

const CLUSTERS: usize = 24;
const PER_CLUSTER: usize = 2;
const SESSION_S: u64 = 6;
const TOKEN: &str = "bench-token-0123456789";

struct Setup {
    root: PathBuf,
    deployment: String,
}

impl Setup {
    fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(unique(name));
        std::fs::create_dir_all(root.join("runbooks")).unwrap();
        Setup { root, deployment: unique(name).replace('.', "-").to_ascii_lowercase() }
    }

    fn config(&self, replica: Option<usize>) -> PathBuf {
        let bootstrap = &shared_cluster().bootstrap;
        let name = replica.map_or_else(|| "alone".to_owned(), |i| format!("r{i}"));
        let dir = self.root.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut yaml = String::from("clusters:\n");
        for c in 0..CLUSTERS {
            yaml.push_str(&format!("  c{c:02}:\n    kafka:\n      bootstrap_servers: {bootstrap}\n"));
        }
        yaml.push_str(&format!("  coord:\n    kafka:\n      bootstrap_servers: {bootstrap}\n"));
        yaml.push_str(&format!(
            "runbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: bench, role: operator, token: {TOKEN} }}\n",
            self.root.join("runbooks").display(),
            dir.join("data").display()
        ));
        if let Some(i) = replica {
            yaml.push_str(&format!(
                "coordination: {{ cluster: coord, id: {}, replica: r{i}, session: {SESSION_S}s }}\n",
                self.deployment
            ));
        }
        std::fs::write(dir.join("ebb.yaml"), yaml).unwrap();
        dir.join("ebb.yaml")
    }

    fn runbook(&self, name: &str, cluster: &str, topic: &str) {
        let text = format!(
            "name: {name}\ncluster: {cluster}\nschedule: {{ cron: \"* * * * * *\", mode: plan, missed: all, max_catchup: 60 }}\nsteps:\n  - id: newest\n    query_messages: {{ topic: {topic}, last: 1 }}\n"
        );
        std::fs::write(self.root.join("runbooks").join(format!("{name}.yaml")), text).unwrap();
    }

    fn clear_runbooks(&self) {
        for entry in std::fs::read_dir(self.root.join("runbooks")).unwrap().flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn daemon(config: &Path) -> DaemonProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
    command.arg("--config").arg(config).args(["daemon", "--grace", "2s"]).env("EBB_LOG", "warn");
    DaemonProcess::spawn(command)
}

async fn get(url: &str) -> Value {
    let answer = reqwest::Client::new().get(url).bearer_auth(TOKEN).send().await.expect("the daemon answers");
    answer.json().await.expect("JSON")
}

/// Every run of `runbooks` as `url` knows it: (started, finished, status).
async fn runs(url: &str, runbooks: &[String]) -> Vec<(DateTime<Utc>, DateTime<Utc>, String)> {
    let mut all = Vec::new();
    for runbook in runbooks {
        let list = get(&format!("{url}/api/v1/runs?runbook={runbook}&limit=1000")).await;
        for r in list["runs"].as_array().expect("a list of runs") {
            let at = |k: &str| r[k].as_str().unwrap_or_default().parse::<DateTime<Utc>>().unwrap_or_default();
            all.push((at("started_at"), at("finished_at"), r["status"].as_str().unwrap_or_default().to_owned()));
        }
    }
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs the throughput window with `replicas` (`None`: one daemon alone).
async fn throughput(topic: &str, replicas: Option<usize>, window: Duration) -> String {
    let setup = Setup::new("bench-ha");
    let configs: Vec<PathBuf> = match replicas {
        None => vec![setup.config(None)],
        Some(n) => (0..n).map(|i| setup.config(Some(i))).collect(),
    };
    let mut daemons: Vec<DaemonProcess> = configs.iter().map(|c| daemon(c)).collect();
    tokio::time::sleep(Duration::from_secs(if replicas.is_some() { 15 } else { 2 })).await;
    let names: Vec<String> =
        (0..CLUSTERS).flat_map(|c| (0..PER_CLUSTER).map(move |r| format!("rb-{c:02}-{r}"))).collect();
    for name in &names {
        setup.runbook(name, &format!("c{}", &name[3..5]), topic);
    }
    let started = Utc::now();
    tokio::time::sleep(window).await;
    let ended = Utc::now();
    setup.clear_runbooks();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let all = runs(&daemons[0].url, &names).await;
    let inside: Vec<&(DateTime<Utc>, DateTime<Utc>, String)> =
        all.iter().filter(|(start, _, _)| *start >= started && *start < ended).collect();
    let succeeded = inside.iter().filter(|(_, _, s)| s == "succeeded").count();
    let mut durations: Vec<Duration> =
        inside.iter().map(|(start, end, _)| (*end - *start).to_std().unwrap_or_default()).collect();
    durations.sort();
    for d in &mut daemons {
        d.terminate();
    }
    let label = match replicas {
        None => "one daemon alone (sled)".to_owned(),
        Some(1) => "1 replica".to_owned(),
        Some(n) => format!("{n} replicas"),
    };
    let asked = CLUSTERS * PER_CLUSTER;
    format!(
        "| {label} | {asked}/s | {:.1}/s | {} | {} ms | {} ms |",
        succeeded as f64 / window.as_secs_f64(),
        succeeded,
        percentile(&durations, 0.5).as_millis(),
        percentile(&durations, 0.99).as_millis()
    )
}

/// Kills the owner of `c00` and measures the time to the first run another replica starts.
async fn takeover(topic: &str, rounds: usize) -> Vec<Duration> {
    let setup = Setup::new("bench-takeover");
    let configs: Vec<PathBuf> = (0..3).map(|i| setup.config(Some(i))).collect();
    let mut daemons: Vec<Option<DaemonProcess>> = configs.iter().map(|c| Some(daemon(c))).collect();
    setup.runbook("takeover", "c00", topic);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let mut took = Vec::new();
    for _ in 0..rounds {
        let status = Command::new(env!("CARGO_BIN_EXE_ebb"))
            .arg("--config")
            .arg(&configs[0])
            .args(["cluster-status", "--output", "json"])
            .output()
            .unwrap();
        let status: Value = serde_json::from_slice(&status.stdout).unwrap();
        let owner = status["ownership"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["clusters"].as_array().unwrap().iter().any(|c| c == "c00"))
            .and_then(|p| p["owner"].as_str())
            .map(|o| o[1..].parse::<usize>().unwrap())
            .unwrap();
        let watcher = (owner + 1) % 3;
        let url = daemons[watcher].as_ref().unwrap().url.clone();
        daemons[owner].as_mut().unwrap().kill();
        let killed = Utc::now();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let newer = runs(&url, &["takeover".to_owned()])
                .await
                .into_iter()
                .any(|(_, start, _)| start > killed + chrono::Duration::milliseconds(50));
            if newer {
                took.push((Utc::now() - killed).to_std().unwrap_or_default());
                break;
            }
            assert!(Instant::now() < deadline, "no replica took the schedule over");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        daemons[owner] = Some(daemon(&configs[owner]));
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
    took
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let seconds: u64 = std::env::var("EBB_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let window = Duration::from_secs(seconds);
    runtime.block_on(async {
        let topic = unique("bench-ha-t");
        let seeder = Seeder::new(&shared_cluster().bootstrap);
        seeder.create_topic(&topic, 1).await;
        seeder.produce_everywhere(&topic, 1, 10, "m").await;
        println!("| setup | asked | recorded | runs in {seconds} s | run duration p50 | p99 |");
        println!("|---|---|---|---|---|---|");
        for replicas in [None, Some(1), Some(3)] {
            println!("{}", throughput(&topic, replicas, window).await);
        }
        let mut took = takeover(&topic, 5).await;
        took.sort();
        println!();
        println!(
            "takeover after SIGKILL of the owner (session {SESSION_S} s), 5 rounds: median {:.1} s, worst {:.1} s; each: {}",
            took[took.len() / 2].as_secs_f64(),
            took.last().unwrap().as_secs_f64(),
            took.iter().map(|t| format!("{:.1}", t.as_secs_f64())).collect::<Vec<_>>().join(", ")
        );
    });
}
