//! Benchmark: a keyword search over a 1,000,000-record window, against Debian's
//! `kcat` piped into `grep` on the same data in the same run, and ebb's peak
//! memory over a 100,000- and a 1,000,000-record window (it keeps `limit`
//! matches, whatever the window).
//!
//! Both sides are timed from process start to exit and read the whole topic:
//! `ebb plan` of a runbook with one `query_messages` step (`from_offset: 0`,
//! `contains`), and `kcat -C -e | grep -c -F`. Memory is the peak resident set
//! of every process involved, sampled while it runs. Needs `kcat` (Debian:
//! `apt-get install kcat`). Run: `cargo bench --bench query_messages`
//! (`EBB_TEST_BOOTSTRAP` reuses a running broker). Results go in docs/BENCHMARKS.md.

mod support;

use std::process::Command;
use std::time::Duration;

use ebb::testkit::{Record, Seeder, shared_cluster, unique};
use support::{Workdir, measured, ms};

const PARTITIONS: i32 = 8;
const RECORDS: usize = 1_000_000;
/// One record in this many holds the keyword.
const NEEDLE_EVERY: usize = 10_000;
const ROUNDS: usize = 3;

fn main() {
    assert!(
        Command::new("kcat").arg("-V").output().is_ok_and(|o| o.status.success()),
        "this benchmark compares with kcat: install it (Debian: apt-get install kcat)"
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("bench-query");
    runtime.block_on(seeder.create_topic(&topic, PARTITIONS));
    let per_partition = RECORDS / PARTITIONS as usize;
    let started = std::time::Instant::now();
    for p in 0..PARTITIONS {
        let records = (0..per_partition).map(|i| {
            let n = i * PARTITIONS as usize + p as usize;
            let status = if n.is_multiple_of(NEEDLE_EVERY) { "NEEDLE" } else { "settled" };
            Record::value(format!(
                "{{\"order\":{n},\"customer\":\"c-{:05}\",\"amount\":{}.{:02},\"status\":\"{status}\",\"region\":\"eu-west-1\"}}",
                n % 50_000,
                n % 997,
                n % 100
            ))
            .key(format!("order-{n}"))
        });
        runtime.block_on(seeder.produce(&topic, p, records));
    }
    let bytes: usize = 110 * RECORDS;
    println!("seeded {RECORDS} records (~{} MB) in {:.1} s", bytes / 1_000_000, started.elapsed().as_secs_f64());
    let expected = RECORDS / NEEDLE_EVERY;

    let dir = Workdir::new("ebb-bench-query", cluster);
    let whole = dir.file(
        "whole.yaml",
        &format!(
            "name: bench-query\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n      from_offset: 0\n      contains: NEEDLE\n      limit: 100\n"
        ),
    );
    let tenth = dir.file(
        "tenth.yaml",
        &format!(
            "name: bench-query\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n      last: {}\n      contains: NEEDLE\n      limit: 100\n",
            per_partition / 10
        ),
    );
    let ebb = |runbook: &str, records: usize| {
        let (time, peak, stdout) = measured(dir.ebb_command(&["plan", runbook, "--output", "json"]));
        let plan: serde_json::Value = serde_json::from_slice(&stdout).expect("plan JSON");
        let output = &plan["steps"][0]["output"];
        assert_eq!(output["scanned"], records as u64, "ebb read the whole window");
        assert_eq!(output["count"], (records / NEEDLE_EVERY) as u64, "ebb found every match");
        (time, peak)
    };
    let kcat = || {
        let pipeline =
            format!("kcat -C -b {} -t {topic} -o beginning -e -q -f '%k %s\\n' | grep -c -F NEEDLE", cluster.bootstrap);
        let (time, peak, stdout) = measured({
            let mut c = Command::new("bash");
            c.args(["-c", &pipeline]);
            c
        });
        assert_eq!(String::from_utf8_lossy(&stdout).trim(), expected.to_string(), "kcat | grep found every match");
        (time, peak)
    };

    let rounds = |run: &dyn Fn() -> (Duration, u64)| {
        let mut results: Vec<(Duration, u64)> = (0..ROUNDS).map(|_| run()).collect();
        results.sort();
        (results[ROUNDS / 2].0, results.iter().map(|r| r.1).max().unwrap_or(0))
    };
    let (ebb_time, ebb_peak) = rounds(&|| ebb(&whole, RECORDS));
    let (kcat_time, kcat_peak) = rounds(&|| kcat());
    let (tenth_time, tenth_peak) = rounds(&|| ebb(&tenth, RECORDS / 10));

    let rate = |d: Duration, n: usize| format!("{:.0}k rec/s", n as f64 / d.as_secs_f64() / 1000.0);
    println!(
        "keyword search over {RECORDS} records in {PARTITIONS} partitions, {expected} matches, median of {ROUNDS}"
    );
    println!("{:<28} {:>10} {:>14} {:>12}", "tool", "time", "throughput", "peak memory");
    println!(
        "{:<28} {:>10} {:>14} {:>9} MB",
        "ebb plan (query_messages)",
        ms(ebb_time),
        rate(ebb_time, RECORDS),
        ebb_peak / 1024
    );
    println!(
        "{:<28} {:>10} {:>14} {:>9} MB",
        "kcat | grep -c",
        ms(kcat_time),
        rate(kcat_time, RECORDS),
        kcat_peak / 1024
    );
    println!(
        "{:<28} {:>10} {:>14} {:>9} MB",
        "ebb, 100,000-record window",
        ms(tenth_time),
        rate(tenth_time, RECORDS / 10),
        tenth_peak / 1024
    );
    println!("ebb is {:.2}× kcat | grep's throughput", kcat_time.as_secs_f64() / ebb_time.as_secs_f64());
    runtime.block_on(seeder.delete_topic(&topic));
}
