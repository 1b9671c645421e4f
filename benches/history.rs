//! Benchmark: history with 100,000 stored runs.
//!
//! One real run is made first (`ebb run --yes` resetting a group over 8
//! partitions of a real broker), and its record, as `ebb show --output json`
//! prints it, is the template for 100,000 runs of 10 runbooks, with statuses
//! mixed, written through the store one flushed save at a time (the write
//! rate). Then, through the binary and timed from process start to exit
//! (median of 7): `ebb history --limit 50`, the same filtered by runbook and
//! status, and `ebb show` of one run; a CLI journal write (open the store,
//! save, flush, close, as an apply does after each step); and the store's
//! size on disk. Then `ebb daemon` on the same store, and the web console's
//! pages over it: the runs list (first page, filtered, a page deep in
//! history, a filter that matches nothing), a run, 100 runbooks — median of
//! 21 after a warm-up, both as the daemon timed its answer (`Server-Timing`)
//! and as a client on loopback waited for it. There is no peer tool that
//! keeps Kafka maintenance history to compare against.
//! Run: `cargo bench --bench history`. Results go in docs/BENCHMARKS.md.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ebb::history::{DataDir, Retention, RunRecord, RunState, Store};
use ebb_testkit::{Seeder, shared_cluster, unique};
use support::{Workdir, median_with, ms};

const RUNS: usize = 100_000;
const RUNBOOKS: usize = 10;
const ROUNDS: usize = 7;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (topic, group) = (unique("bench-history-t"), unique("bench-history-g"));
    runtime.block_on(async {
        seeder.create_topic(&topic, 8).await;
        seeder.produce_everywhere(&topic, 8, 10, "m").await;
        let commits: Vec<(&str, i32, i64)> = (0..8).map(|p| (topic.as_str(), p, 2)).collect();
        seeder.commit(&group, &commits).await;
    });
    let dir = Workdir::new("ebb-bench-history", cluster);
    let data_dir = dir.0.join("data");
    let config = std::fs::read_to_string(dir.0.join("ebb.yaml")).expect("ebb.yaml");
    let keep_all = "history: { max_age: 3650d, max_runs: 1000000, max_plans: 1000000 }\n";
    std::fs::write(dir.0.join("ebb.yaml"), format!("{config}data_dir: {}\n{keep_all}", data_dir.display()))
        .expect("ebb.yaml");
    let runbook = dir.file(
        "rb.yaml",
        &format!(
            "name: bench-history\ncluster: local\nsteps:\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: reset\n    reset_offsets: {{ offsets: targets }}\n"
        ),
    );
    dir.ebb(&["run", &runbook, "--yes"]);
    let listed: serde_json::Value =
        serde_json::from_slice(&dir.ebb(&["history", "--output", "json"]).stdout).expect("history JSON");
    let real_id = listed["runs"][0]["id"].as_str().expect("a run").to_owned();
    let template: RunRecord =
        serde_json::from_slice(&dir.ebb(&["show", &real_id, "--output", "json"]).stdout).expect("a record");
    let record_bytes = serde_json::to_vec(&template).expect("JSON").len();

    let data = DataDir::new(
        data_dir.clone(),
        Retention { max_age: Duration::from_secs(86_400 * 3650), max_runs: 1 << 40, max_plans: 1 << 40 },
    );
    let statuses = [RunState::Succeeded, RunState::Succeeded, RunState::Succeeded, RunState::Failed, RunState::Refused];
    let start_ms = Utc::now().timestamp_millis() - RUNS as i64 * 10;
    let mut last_id = String::new();
    let written = {
        let store = data.open().expect("open the store");
        let started = Instant::now();
        for i in 0..RUNS {
            let millis = start_ms + i as i64 * 10;
            let mut record = template.clone();
            record.id = ebb::engine::new_run_id(millis);
            record.runbook = format!("bench-history-{}", i % RUNBOOKS);
            record.status = statuses[i % statuses.len()];
            record.started_at = DateTime::from_timestamp_millis(millis).expect("a time");
            record.finished_at = Some(record.started_at);
            store.save(&record).expect("save");
            last_id = record.id;
        }
        started.elapsed()
    };
    let size = data.open().expect("open").size_on_disk().expect("size");

    let cli = |args: &[&str]| median_with(ROUNDS, &|| {}, || drop(dir.ebb(args)));
    let history = cli(&["history", "--limit", "50"]);
    let filtered = cli(&["history", "--runbook", "bench-history-3", "--status", "failed", "--limit", "50"]);
    let show = cli(&["show", &last_id]);
    let json_show = cli(&["show", &last_id, "--output", "json"]);
    let mut record = template.clone();
    let journal = median_with(ROUNDS * 3, &|| {}, || {
        record.id = ebb::engine::new_run_id(Utc::now().timestamp_millis());
        data.save(&record).expect("save");
    });

    println!("history with {RUNS} stored runs ({RUNBOOKS} runbooks; each record {record_bytes} bytes of JSON)");
    println!(
        "write, store held open: {} for {RUNS} saves, {:.0} runs/s (each flushed)",
        ms(written),
        RUNS as f64 / written.as_secs_f64()
    );
    println!("write, CLI journal (open, save, flush, close): {}", ms(journal));
    println!("ebb history --limit 50: {}", ms(history));
    println!("ebb history --runbook R --status failed --limit 50: {}", ms(filtered));
    println!("ebb show RUN: {} (table), {} (json)", ms(show), ms(json_show));
    println!("size on disk: {:.0} MiB ({:.0} bytes per run)", size as f64 / 1048576.0, size as f64 / RUNS as f64);

    let middle = ebb::engine::new_run_id(start_ms + (RUNS as i64 / 2) * 10);
    runtime.block_on(console_pages(&dir, &last_id, &middle));
}

/// The console's pages over the store of 100,000 runs, through a real daemon.
async fn console_pages(dir: &Workdir, run: &str, middle: &str) {
    let config = std::fs::read_to_string(dir.0.join("ebb.yaml")).expect("ebb.yaml");
    std::fs::create_dir_all(dir.0.join("runbooks")).expect("runbooks dir");
    // 100 scheduled runbooks on the runbooks page; the first 10 are the ones with runs in history.
    for i in 0..100 {
        std::fs::write(
            dir.0.join("runbooks").join(format!("bench-history-{i}.yaml")),
            format!(
                "name: bench-history-{i}\ncluster: local\nschedule: {{ cron: \"0 3 * * 1-5\", timezone: Europe/Paris, mode: plan }}\nsteps:\n  - id: lag\n    compute_offsets: {{ group: g{i}, strategy: {{ to_latest: true }} }}\n"
            ),
        )
        .expect("a runbook");
    }
    std::fs::write(
        dir.0.join("ebb.yaml"),
        format!(
            "{config}runbooks: {}\ndaemon:\n  listen: 127.0.0.1:0\n  tokens:\n    - {{ name: bench, role: viewer, token: bench-token }}\n",
            dir.0.join("runbooks").display()
        ),
    )
    .expect("ebb.yaml");
    let daemon = ebb_testkit::DaemonProcess::spawn(dir.ebb_command(&["daemon"]));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let login =
        client.post(format!("{}/ui/login", daemon.url)).form(&[("token", "bench-token")]).send().await.expect("log in");
    let cookie = login.headers()["set-cookie"].to_str().expect("a cookie").split(';').next().expect("x=y").to_owned();
    let pages = [
        ("runs, first page", "/ui/runs".to_owned()),
        ("runs of one runbook, failed", "/ui/runs?runbook=bench-history-3&status=failed".to_owned()),
        ("runs, a page halfway back", format!("/ui/runs?older={middle}")),
        ("runs, a filter nothing passes", "/ui/runs?trigger=rollback".to_owned()),
        ("one run", format!("/ui/runs/{run}")),
        ("runbooks (100, scheduled; 10 with runs)", "/ui/runbooks".to_owned()),
    ];
    for (name, path) in pages {
        let (mut server, mut client_side) = (Vec::new(), Vec::new());
        for round in 0..22 {
            let started = Instant::now();
            let response =
                client.get(format!("{}{path}", daemon.url)).header("cookie", &cookie).send().await.expect("a page");
            let timing = response.headers().get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            assert_eq!(response.status(), 200, "{path}");
            let _ = response.bytes().await.expect("the page");
            if round == 0 {
                continue;
            }
            client_side.push(started.elapsed());
            let dur = timing.split("dur=").nth(1).and_then(|d| d.parse::<f64>().ok()).expect("Server-Timing");
            server.push(Duration::from_secs_f64(dur / 1000.0));
        }
        server.sort();
        client_side.sort();
        println!(
            "console {name}: {:.1} ms in the daemon, {:.1} ms on loopback (median of 21)",
            server[10].as_secs_f64() * 1000.0,
            client_side[10].as_secs_f64() * 1000.0
        );
    }
}
