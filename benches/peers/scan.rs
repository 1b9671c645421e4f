//! A scan of 10,000,000 records (8 partitions of JSON records of about 110
//! bytes, about 1 GB): `ebb plan` of a `contains` query that reads the whole
//! topic, beside the broker's raw serving rate (`raw_fetch`: the same Fetch
//! requests with nothing done with the records) and `kcat -C -e` with its
//! output thrown away, each as a process, in the same rounds (and an earlier
//! ebb's plan, when the run has a baseline). Besides the times, each one's
//! rate in MB/s of record batches read.

use ebb_testkit::unique;

use crate::Bench;
use crate::keyword::order;
use crate::measure::{Sample, median, quote, run};
use crate::results::Results;

const PARTITIONS: i32 = 8;
pub const RECORDS: usize = 10_000_000;
const NEEDLE_EVERY: usize = 100_000;

pub fn compare(b: &Bench, results: &mut Results) {
    let topic = unique("bench-scan");
    b.runtime.block_on(b.seeder.create_topic(&topic, PARTITIONS));
    let per_partition = RECORDS / PARTITIONS as usize;
    b.runtime.block_on(futures_util::future::join_all((0..PARTITIONS).map(|p| {
        let records = (0..per_partition).map(move |i| order(i * PARTITIONS as usize + p as usize, NEEDLE_EVERY));
        b.seeder.produce(&topic, p, records)
    })));
    let expected = RECORDS / NEEDLE_EVERY;
    let raw = format!(
        "{} --raw-fetch {} {}",
        quote(&std::env::current_exe().expect("the bench binary").display().to_string()),
        quote(&b.cluster.bootstrap),
        quote(&topic)
    );
    let mut bytes = 0u64;
    let raw_sample = median(b.rounds, &mut || {}, &mut || {
        let (sample, stdout) = run(&raw, &[]);
        bytes = String::from_utf8_lossy(&stdout).trim().parse().expect("bytes read");
        sample
    });
    let runbook = b.dir.file(
        "scan.yaml",
        &format!(
            "name: bench-scan\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n      from_offset: 0\n      contains: NEEDLE\n      limit: 1000\n"
        ),
    );
    let plan_with = |binary: &std::path::Path| {
        let script = b.ebb_binary(binary, &["plan", &runbook, "--output", "json"]);
        median(b.rounds, &mut || {}, &mut || {
            let (sample, stdout) = run(&script, &[]);
            let plan: serde_json::Value = serde_json::from_slice(&stdout).expect("plan JSON");
            let output = &plan["steps"][0]["output"];
            assert_eq!(output["scanned"], RECORDS as u64, "ebb read the whole topic");
            assert_eq!(output["count"], expected as u64, "ebb found every match");
            sample
        })
    };
    let ebb = plan_with(std::path::Path::new(env!("CARGO_BIN_EXE_ebb")));
    let mut peers = vec![("broker's raw Fetch rate (records not decoded)".to_owned(), raw_sample)];
    if let Some((name, binary)) = &b.baseline {
        peers.push((format!("ebb plan at {name}"), plan_with(binary)));
    }
    if b.tools.kcat.is_some() {
        let script = format!(
            "kcat -C -b {} -t {} -o beginning -e -q -f '%k %s\\n' > /dev/null",
            b.cluster.bootstrap,
            quote(&topic)
        );
        peers.push(("kcat, output discarded".to_owned(), median(b.rounds, &mut || {}, &mut || run(&script, &[]).0)));
    }
    let rate = |s: &Sample| bytes as f64 / 1e6 / s.wall.as_secs_f64();
    let rates: Vec<String> = std::iter::once(("ebb plan (query_messages)".to_owned(), ebb))
        .chain(peers.iter().cloned())
        .map(|(tool, sample)| format!("{tool} {:.0} MB/s", rate(&sample)))
        .collect();
    results.note(format!(
        "scan of {RECORDS} records ({:.0} MB of record batches), {} broker(s): {}",
        bytes as f64 / 1e6,
        b.brokers,
        rates.join(", ")
    ));
    results.compare(b.brokers, &format!("scan, {RECORDS} records"), ("ebb plan (query_messages)", ebb), peers);
    b.runtime.block_on(b.seeder.delete_topic(&topic));
}
