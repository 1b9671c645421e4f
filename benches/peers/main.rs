//! Benchmark: ebb side by side with the tools Kafka operators use today, on
//! the same clusters, in one run — a single broker, then three brokers.
//!
//! For each operation, each tool is run as an operator runs it (process start
//! to exit) and measured for wall time, CPU time and peak memory, median of
//! `EBB_BENCH_ROUNDS` rounds (default 5); each peer's wall time is given as a
//! multiple of ebb's. The requests one ebb run sends are counted on the
//! brokers. Run through `scripts/bench`, which fetches Apache Kafka and builds
//! kafkactl first; the Markdown table goes to `target/bench/peers.md` and
//! into docs/BENCHMARKS.md by hand. `EBB_BENCH_BROKERS=1` (or `3`) runs one
//! cluster size only; `EBB_BENCH_ONLY=reset` the reset comparisons only,
//! `EBB_BENCH_ONLY=keyword` the keyword and CEL filter rows only,
//! `EBB_BENCH_ONLY=scan` the 10,000,000-record scan only.
//!
//! `EBB_BENCH_BASELINE` names an ebb binary built from an earlier commit
//! (`EBB_BENCH_BASELINE_NAME` says which; `scripts/bench --baseline REV`
//! builds it): the reset rows then also run that binary in the same rounds,
//! so a change is measured before and after on the same cluster. Both use
//! the same ebb.yaml and data dir, so the earlier commit must read the same
//! history format (`ebb.run/v1`).

#[path = "../support/mod.rs"]
mod support;

mod keyword;
mod measure;
mod purge;
mod raw_fetch;
mod requests;
mod reset;
mod results;
mod scan;
mod tools;

use std::path::{Path, PathBuf};

use ebb_testkit::{Seeder, TestCluster, repo_root, shared_cluster, shared_three_broker_cluster};
use support::Workdir;

use measure::quote;
use results::Results;
use tools::Tools;

pub const PARTITIONS_PER_TOPIC: i32 = 1_000;

/// What every comparison needs: one cluster, its data tools, and the peers.
pub struct Bench {
    pub brokers: usize,
    pub cluster: &'static TestCluster,
    pub runtime: tokio::runtime::Runtime,
    pub seeder: Seeder,
    pub dir: Workdir,
    pub tools: Tools,
    pub rounds: usize,
    /// An earlier ebb to measure beside this one: its name and binary.
    pub baseline: Option<(String, PathBuf)>,
}

impl Bench {
    /// The shell command for `ebb ARGS` with this cluster's configuration.
    pub fn ebb(&self, args: &[&str]) -> String {
        self.ebb_binary(Path::new(env!("CARGO_BIN_EXE_ebb")), args)
    }

    /// The shell command for `ARGS` run by the ebb binary at `binary`.
    pub fn ebb_binary(&self, binary: &Path, args: &[&str]) -> String {
        let config = self.dir.0.join("ebb.yaml").display().to_string();
        let mut script = format!("{} --config {}", quote(&binary.display().to_string()), quote(&config));
        for arg in args {
            script.push(' ');
            script.push_str(&quote(arg));
        }
        script
    }

    pub fn scripts_kafka(&self) -> String {
        repo_root().join("scripts/kafka").display().to_string()
    }

    pub fn kafkactl_env(&self) -> Vec<(String, String)> {
        tools::kafkactl_env(&self.dir, self.cluster)
    }
}

fn main() {
    if raw_fetch::run_if_asked() {
        return;
    }
    let rounds: usize = std::env::var("EBB_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let sizes: Vec<usize> = match std::env::var("EBB_BENCH_BROKERS").as_deref() {
        Ok("1") => vec![1],
        Ok("3") => vec![3],
        _ => vec![1, 3],
    };
    let only = std::env::var("EBB_BENCH_ONLY").ok();
    let only_reset = only.as_deref() == Some("reset");
    let only_keyword = only.as_deref() == Some("keyword");
    let only_scan = only.as_deref() == Some("scan");
    let baseline = std::env::var_os("EBB_BENCH_BASELINE").map(PathBuf::from).map(|binary| {
        assert!(binary.is_file(), "EBB_BENCH_BASELINE names no file: {}", binary.display());
        let name = std::env::var("EBB_BENCH_BASELINE_NAME").unwrap_or_else(|_| "baseline".to_owned());
        (name, binary)
    });
    let mut results = Results::default();
    if let Some((name, _)) = &baseline {
        results.note(format!("ebb at {name}: the same commands run by ebb built from {name}, in the same rounds"));
    }
    let tools = Tools::find();
    for missing in &tools.missing {
        results.note(missing.clone());
    }
    if let Some(kcat) = &tools.kcat {
        results.note(format!("kcat: {kcat}"));
    }
    if let Some(version) = tools.kafkactl_version() {
        results.note(format!("kafkactl: {version}"));
    }
    let mut counts = String::from("| brokers | ebb command | requests the brokers completed |\n|---|---|---|\n");
    for brokers in sizes {
        let cluster = if brokers == 1 { shared_cluster() } else { shared_three_broker_cluster() };
        println!("== {brokers} broker(s) at {}, median of {rounds}", cluster.bootstrap);
        let bench = Bench {
            brokers,
            cluster,
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
            seeder: Seeder::new(&cluster.bootstrap),
            dir: Workdir::new("ebb-bench-peers", cluster),
            tools: Tools::find(),
            rounds,
            baseline: baseline.clone(),
        };
        if only_keyword {
            keyword::compare(&bench, &mut results);
            continue;
        }
        if only_scan {
            scan::compare(&bench, &mut results);
            continue;
        }
        let (reset_counts, topics) = reset::compare(&bench, &mut results);
        for (operation, summary) in reset_counts {
            counts.push_str(&format!("| {brokers} | {operation} | {summary} |\n"));
        }
        if only_reset {
            continue;
        }
        if let Some(summary) = purge::compare(&bench, &mut results, &topics) {
            counts.push_str(&format!("| {brokers} | purge, 10000 partitions | {summary} |\n"));
        }
        if let Some(summary) = keyword::compare(&bench, &mut results) {
            let records = keyword::RECORDS;
            counts.push_str(&format!("| {brokers} | keyword search, {records} records | {summary} |\n"));
        }
        scan::compare(&bench, &mut results);
    }
    println!("{counts}");
    let table = format!("{}\n\n{counts}", results.markdown());
    let out = repo_root().join("target/bench");
    std::fs::create_dir_all(&out).expect("target/bench");
    std::fs::write(out.join("peers.md"), &table).expect("write peers.md");
    println!("\n{table}");
}
