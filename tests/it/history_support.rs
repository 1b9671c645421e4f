//! A workspace for history tests: one `ebb.yaml` whose data dir every command
//! shares, runbooks in files, and `ebb` run to completion or in the background.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use ebb_testkit::{Seeder, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, config_for, now_ms};

pub struct Workspace {
    pub dir: PathBuf,
    pub config: String,
}

impl Workspace {
    pub fn new() -> Self {
        Self::with_cluster(&config_for(&shared_cluster().bootstrap))
    }

    /// With this `clusters:` section (`cluster_yaml` is ebb.yaml without `data_dir`).
    pub fn with_cluster(cluster_yaml: &str) -> Self {
        let dir = std::env::temp_dir().join(unique("ebb-history"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!("{cluster_yaml}data_dir: {}\n", dir.join("data").display());
        std::fs::write(dir.join("ebb.yaml"), &config).unwrap();
        Workspace { dir, config }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes a runbook; returns its path.
    pub fn runbook(&self, file: &str, text: &str) -> String {
        let path = self.dir.join(file);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    pub fn ebb<const N: usize>(&self, args: [&str; N]) -> Outcome {
        Ebb::new().config(&self.config).args(args).run()
    }

    /// Starts `ebb ARGS` without waiting for it.
    pub fn spawn<const N: usize>(&self, args: [&str; N]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_ebb"))
            .arg("--config")
            .arg(self.dir.join("ebb.yaml"))
            .args(args)
            .env_remove("EBB_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ebb")
    }

    /// `ebb history --output json` with extra arguments: the runs.
    pub fn history<const N: usize>(&self, args: [&str; N]) -> Vec<Value> {
        let mut all = vec!["history", "--output", "json"];
        if !args.contains(&"--limit") {
            all.extend(["--limit", "1000"]);
        }
        all.extend(args);
        let out = Ebb::new().config(&self.config).args(all).run().success().json();
        assert_eq!(out["format"], "ebb.history/v1");
        out["runs"].as_array().unwrap().clone()
    }

    /// `ebb show RUN --output json`.
    pub fn show(&self, run: &str) -> Value {
        self.ebb(["show", run, "--output", "json"]).success().json()
    }

    /// Waits up to 60 s for a `running` run whose record satisfies `ready`; returns its id.
    pub fn wait_for_running(&self, ready: impl Fn(&Value) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            for run in self.history(["--status", "running"]) {
                let id = run["id"].as_str().unwrap().to_owned();
                if ready(&self.show(&id)) {
                    return id;
                }
            }
            assert!(Instant::now() < deadline, "no running run got there in 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The status of step `id` in a record's apply, if it got there.
pub fn applied_step_status(record: &Value, id: &str) -> Option<String> {
    record["apply"]["steps"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["status"].as_str().unwrap().to_owned())
}

pub async fn committed(group: &str) -> BTreeMap<(String, i32), i64> {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

pub fn at(topic: &str, offsets: [i64; 2]) -> BTreeMap<(String, i32), i64> {
    BTreeMap::from([((topic.to_owned(), 0), offsets[0]), ((topic.to_owned(), 1), offsets[1])])
}

/// A topic of 2 partitions × 30 messages, and each group committed at 10 on both.
pub async fn topic_and_groups(prefix: &str, groups: &[&str]) -> (String, Vec<String>) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique(&format!("{prefix}-t"));
    seeder.create_topic(&topic, 2).await;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 30, "m", now_ms() - 60_000, 1).await;
    }
    let mut names = Vec::new();
    for g in groups {
        let group = unique(&format!("{prefix}-{g}"));
        seeder.commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
        names.push(group);
    }
    (topic, names)
}
