//! Benchmark: `ebb daemon` with 1,000 scheduled runbooks.
//!
//! Two phases, each on a freshly started daemon (release binary) over the same
//! runbooks directory and data dir, against a real broker:
//!
//! 1. idle — 1,000 runbooks whose schedules are not due during the window
//!    (New Year's Day at 03:00): what loading, watching and scheduling them
//!    costs on its own. CPU from `/proc/PID/stat` over the window, resident
//!    memory (VmRSS) at its end.
//! 2. every minute — the same 1,000 runbooks rewritten to `* * * * *` with
//!    `mode: plan`; each slot plans a real `compute_offsets` + `reset_offsets`
//!    (10 groups over one 4-partition topic) and records the run in history.
//!    Over whole minutes: CPU, peak and final RSS, fire lateness (the daemon's
//!    logged `late_ms`: slot time to the tick that fires it), start delay (slot
//!    to the run's `started_at`) and run duration, from history afterwards.
//!
//! The peer is cron starting one process per runbook per minute. What one
//! such process costs in CPU is measured here for `kafka-consumer-groups
//! --describe` (the nearest thing Apache Kafka ships) and for `ebb plan` of
//! the same runbook; the cores 1,000 of them a minute would need follow from
//! that. Run: `cargo bench --bench daemon` (`EBB_TEST_BOOTSTRAP` reuses a
//! running broker; `EBB_BENCH_MINUTES` sets the busy window, 5 by default).
//! Results go in docs/BENCHMARKS.md.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use ebb_testkit::{DaemonProcess, Seeder, repo_root, shared_cluster, unique};
use support::{Workdir, status_kib};

const RUNBOOKS: usize = 1_000;
const GROUPS: usize = 10;
const PARTITIONS: i32 = 4;
const IDLE_WINDOW: Duration = Duration::from_secs(120);
const SETTLE: Duration = Duration::from_secs(10);

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let minutes: u32 = std::env::var("EBB_BENCH_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(5);
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("bench-daemon-t");
    let groups: Vec<String> = (0..GROUPS).map(|_| unique("bench-daemon-g")).collect();
    runtime.block_on(async {
        seeder.create_topic(&topic, PARTITIONS).await;
        seeder.produce_everywhere(&topic, PARTITIONS, 20, "m").await;
        for group in &groups {
            let offsets: Vec<(&str, i32, i64)> = (0..PARTITIONS).map(|p| (topic.as_str(), p, 5)).collect();
            seeder.commit(group, &offsets).await;
        }
    });
    let dir = Workdir::new("ebb-bench-daemon", cluster);
    let runbooks = dir.0.join("runbooks");
    std::fs::create_dir_all(&runbooks).expect("runbooks dir");
    let config = std::fs::read_to_string(dir.0.join("ebb.yaml")).expect("ebb.yaml");
    std::fs::write(
        dir.0.join("ebb.yaml"),
        format!(
            "{config}runbooks: {}\ndata_dir: {}\ndaemon:\n  listen: 127.0.0.1:0\n",
            runbooks.display(),
            dir.0.join("data").display()
        ),
    )
    .expect("ebb.yaml");
    let client = reqwest::Client::new();
    let ticks = clock_ticks();

    write_runbooks(&runbooks, "0 3 1 1 *", &topic, &groups);
    let (daemon, startup) = start_daemon(&dir);
    runtime.block_on(wait_until_scheduled(&daemon, &client));
    let loaded = startup.elapsed();
    std::thread::sleep(SETTLE);
    let before = cpu_ticks(daemon.pid());
    std::thread::sleep(IDLE_WINDOW);
    let idle_cpu = (cpu_ticks(daemon.pid()) - before) as f64 / ticks as f64;
    let idle_rss = status_kib(daemon.pid(), "VmRSS");
    drop(stop(daemon));

    write_runbooks(&runbooks, "* * * * *", &topic, &groups);
    let (daemon, _) = start_daemon(&dir);
    runtime.block_on(wait_until_scheduled(&daemon, &client));
    // Measure whole minutes: from just before one minute's slot to just
    // before the slot after the last measured minute.
    sleep_until_second(58);
    let window_start = Utc::now();
    let before = cpu_ticks(daemon.pid());
    let mut peak_rss = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60 * u64::from(minutes)) {
        peak_rss = peak_rss.max(status_kib(daemon.pid(), "VmRSS"));
        std::thread::sleep(Duration::from_millis(250));
    }
    let busy_cpu = (cpu_ticks(daemon.pid()) - before) as f64 / ticks as f64;
    let busy_rss = status_kib(daemon.pid(), "VmRSS");
    let window_end = Utc::now();
    let log = stop(daemon);

    let lateness: Vec<u64> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|line| line["fields"].clone())
        .filter(|fields| fields["message"] == "slot fires")
        .filter(|fields| {
            let slot = fields["slot"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
            slot.is_some_and(|slot| slot > window_start && slot < window_end)
        })
        .filter_map(|fields| fields["late_ms"].as_u64())
        .collect();
    let runs = scheduled_runs(&dir, window_start, window_end);
    let start_delay: Vec<u64> = runs.iter().map(|r| r.start_delay_ms).collect();
    let duration: Vec<u64> = runs.iter().map(|r| r.duration_ms).collect();
    let expected = RUNBOOKS * minutes as usize;
    let succeeded = runs.iter().filter(|r| r.succeeded).count();

    let mut describe = Command::new(repo_root().join("scripts/kafka"));
    describe.args(["tool", "consumer-groups", "--bootstrap-server", &cluster.bootstrap, "--describe", "--group"]);
    let describe = child_cpu(describe.arg(&groups[0]));
    let mut plan = dir.ebb_command(&["plan"]);
    let plan = child_cpu(plan.arg(runbooks.join("every-minute-0000.yaml")));

    println!("ebb daemon with {RUNBOOKS} scheduled runbooks (release build)");
    println!("startup to all {RUNBOOKS} scheduled: {} ms", loaded.as_millis());
    println!(
        "idle, nothing due, {} s: CPU {:.2} s = {:.2} % of one core; RSS {} MiB",
        IDLE_WINDOW.as_secs(),
        idle_cpu,
        100.0 * idle_cpu / IDLE_WINDOW.as_secs_f64(),
        idle_rss / 1024
    );
    println!(
        "every minute, {minutes} min: CPU {busy_cpu:.1} s = {:.1} % of one core ({:.1} ms a run); RSS peak {} MiB, at the end {} MiB",
        100.0 * busy_cpu / (60.0 * f64::from(minutes)),
        1000.0 * busy_cpu / expected as f64,
        peak_rss / 1024,
        busy_rss / 1024
    );
    println!("fires logged {} of {expected}; runs recorded {} ({succeeded} succeeded)", lateness.len(), runs.len());
    println!("fire lateness: {}", percentiles(lateness));
    println!("start delay (slot to started_at): {}", percentiles(start_delay));
    println!("run duration (started_at to finished_at): {}", percentiles(duration));
    println!(
        "peer, one process per runbook per minute: kafka-consumer-groups --describe {describe:.2} CPU-s each, {:.1} cores for {RUNBOOKS} a minute ({:.0}x the daemon)",
        describe * RUNBOOKS as f64 / 60.0,
        describe * expected as f64 / busy_cpu
    );
    println!(
        "                                          ebb plan {plan:.3} CPU-s each, {:.1} cores for {RUNBOOKS} a minute ({:.1}x the daemon)",
        plan * RUNBOOKS as f64 / 60.0,
        plan * expected as f64 / busy_cpu
    );
    runtime.block_on(seeder.delete_topic(&topic));
}

fn write_runbooks(dir: &Path, cron: &str, topic: &str, groups: &[String]) {
    for i in 0..RUNBOOKS {
        let text = format!(
            "name: every-minute-{i:04}\ncluster: local\nschedule:\n  cron: \"{cron}\"\n  timezone: UTC\n  mode: plan\n  missed: skip\nsteps:\n  - id: lag\n    compute_offsets: {{ group: {}, topics: [{topic}], strategy: {{ to_latest: true }} }}\n  - id: catch-up\n    reset_offsets: {{ offsets: lag }}\n",
            groups[i % groups.len()]
        );
        std::fs::write(dir.join(format!("every-minute-{i:04}.yaml")), text).expect("runbook");
    }
}

/// Starts `ebb daemon` with JSON logs; the instant is when it was started.
fn start_daemon(dir: &Workdir) -> (DaemonProcess, Instant) {
    let started = Instant::now();
    let mut command = dir.ebb_command(&["--log-format", "json", "daemon"]);
    command.env("EBB_LOG", "info");
    (DaemonProcess::spawn(command), started)
}

async fn wait_until_scheduled(daemon: &DaemonProcess, client: &reqwest::Client) {
    let wanted = format!("ebb_runbooks_scheduled {RUNBOOKS}\n");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let metrics = client.get(format!("{}/metrics", daemon.url)).send().await.expect("metrics");
        if metrics.text().await.expect("metrics text").contains(&wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "the daemon never scheduled all {RUNBOOKS} runbooks");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM, the exit, and everything it logged.
fn stop(mut daemon: DaemonProcess) -> String {
    let status = daemon.terminate();
    assert!(status.success(), "the daemon exited with {status}");
    std::thread::sleep(Duration::from_millis(200));
    daemon.log()
}

/// Sleeps until the wall clock next shows `second` past a minute.
fn sleep_until_second(second: u32) {
    let now = Utc::now();
    let seconds = match (i64::from(second) - i64::from(now.second())).rem_euclid(60) {
        0 => 60,
        n => n,
    };
    let millis = seconds * 1000 - i64::from(now.nanosecond() / 1_000_000).min(999);
    std::thread::sleep(Duration::from_millis(millis as u64));
}

struct ScheduledRun {
    start_delay_ms: u64,
    duration_ms: u64,
    succeeded: bool,
}

/// Scheduled runs whose slot (the minute they started in) lies in the window.
fn scheduled_runs(dir: &Workdir, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ScheduledRun> {
    let limit = (RUNBOOKS * 100).to_string();
    let output = dir.ebb(&["history", "--output", "json", "--limit", &limit]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("history JSON");
    let time = |run: &serde_json::Value, key: &str| {
        run[key].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
    };
    listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|run| run["trigger"] == "schedule")
        .filter_map(|run| {
            let started = time(run, "started_at")?;
            let slot = started.with_second(0)?.with_nanosecond(0)?;
            if slot <= from || slot >= to {
                return None;
            }
            let finished = time(run, "finished_at").unwrap_or(started);
            Some(ScheduledRun {
                start_delay_ms: (started - slot).num_milliseconds() as u64,
                duration_ms: (finished - started).num_milliseconds() as u64,
                succeeded: run["status"] == "succeeded",
            })
        })
        .collect()
}

fn percentiles(mut values: Vec<u64>) -> String {
    values.sort_unstable();
    if values.is_empty() {
        return "none".to_owned();
    }
    let at = |p: f64| values[((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1];
    format!("p50 {} ms, p99 {} ms, max {} ms", at(0.50), at(0.99), values[values.len() - 1])
}

/// User + system CPU of a process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after_name = &stat[stat.rfind(')').expect("a process name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) here.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn clock_ticks() -> u64 {
    let output = Command::new("getconf").arg("CLK_TCK").output().expect("getconf CLK_TCK");
    String::from_utf8_lossy(&output.stdout).trim().parse().expect("clock ticks per second")
}

/// CPU seconds (user + system) that `command` takes, median of three: bash
/// runs it and then `times`, whose second line is its children's CPU.
fn child_cpu(command: &Command) -> f64 {
    let mut wrapped = Command::new("bash");
    wrapped.args(["-c", r#""$@" > /dev/null; times"#, "cpu"]).arg(command.get_program()).args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let mut seconds: Vec<f64> = (0..3)
        .map(|_| {
            let output = wrapped.stdin(Stdio::null()).output().expect("run the peer");
            assert!(output.status.success(), "{wrapped:?} failed: {}", String::from_utf8_lossy(&output.stderr));
            let text = String::from_utf8_lossy(&output.stdout);
            let children = text.lines().last().expect("times prints two lines");
            children.split_whitespace().map(minutes_seconds).sum()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds[1]
}

/// `0m1.234s` as seconds.
fn minutes_seconds(text: &str) -> f64 {
    let (minutes, seconds) = text.trim_end_matches('s').split_once('m').expect("bash's times format");
    minutes.parse::<f64>().expect("minutes") * 60.0 + seconds.parse::<f64>().expect("seconds")
}
