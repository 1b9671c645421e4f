//! A keyword search over 1,000,000 records (8 partitions of JSON records of
//! about 110 bytes, one in 10,000 saying `NEEDLE`): `ebb plan` of one
//! `query_messages` step (`from_offset: 0`, `contains`) against `kcat -C -e`
//! piped into `grep -c -F` and kafkactl's `consume --from-beginning --exit
//! --filter-value '*NEEDLE*'`. Every tool reads the whole topic and must find
//! every match. kcat is also timed with its output thrown away, the floor of
//! any tool reading through librdkafka. The same scan is then run with a `where:` (CEL) filter in
//! place of `contains`, to give what an expression costs over the keyword.

use ebb_testkit::{Record, unique};

use crate::Bench;
use crate::measure::{median, quote, run};
use crate::results::Results;

const PARTITIONS: i32 = 8;
pub const RECORDS: usize = 1_000_000;
const NEEDLE_EVERY: usize = 10_000;

/// Order number `n` as a JSON record of about 110 bytes keyed by it; one in
/// `needle_every` says `NEEDLE`.
pub fn order(n: usize, needle_every: usize) -> Record {
    let status = if n.is_multiple_of(needle_every) { "NEEDLE" } else { "settled" };
    Record::value(format!(
        "{{\"order\":{n},\"customer\":\"c-{:05}\",\"amount\":{}.{:02},\"status\":\"{status}\",\"region\":\"eu-west-1\"}}",
        n % 50_000,
        n % 997,
        n % 100
    ))
    .key(format!("order-{n}"))
}

/// Returns the requests one `ebb plan` sent.
pub fn compare(b: &Bench, results: &mut Results) -> Option<String> {
    let topic = unique("bench-keyword");
    b.runtime.block_on(b.seeder.create_topic(&topic, PARTITIONS));
    let per_partition = RECORDS / PARTITIONS as usize;
    for p in 0..PARTITIONS {
        let records = (0..per_partition).map(|i| order(i * PARTITIONS as usize + p as usize, NEEDLE_EVERY));
        b.runtime.block_on(b.seeder.produce(&topic, p, records));
    }
    let expected = RECORDS / NEEDLE_EVERY;
    let query = |name: &str, filter: &str| {
        b.dir.file(
            &format!("{name}.yaml"),
            &format!(
                "name: bench-{name}\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n      from_offset: 0\n      {filter}\n      limit: 100\n"
            ),
        )
    };
    let measured = |runbook: &str| {
        median(b.rounds, &mut || {}, &mut || {
            let (sample, stdout) = run(&b.ebb(&["plan", runbook, "--output", "json"]), &[]);
            let plan: serde_json::Value = serde_json::from_slice(&stdout).expect("plan JSON");
            let output = &plan["steps"][0]["output"];
            assert_eq!(output["scanned"], RECORDS as u64, "ebb read the whole topic");
            assert_eq!(output["count"], expected as u64, "ebb found every match");
            sample
        })
    };
    let runbook = query("keyword", "contains: NEEDLE");
    let ebb = measured(&runbook);
    let expressions = [
        ("where: value.contains(\"NEEDLE\")", query("where-value", "where: 'value.contains(\"NEEDLE\")'")),
        ("where: json.status == \"NEEDLE\"", query("where-json", "where: 'json.status == \"NEEDLE\"'")),
    ];
    let cel: Vec<(String, crate::measure::Sample)> =
        expressions.iter().map(|(label, runbook)| (format!("ebb plan, {label}"), measured(runbook))).collect();
    results.compare(b.brokers, &format!("CEL filter ÷ contains, {RECORDS} records"), ("ebb plan, contains", ebb), cel);
    let mut peers = Vec::new();
    if let Some((name, binary)) = &b.baseline {
        let script = b.ebb_binary(binary, &["plan", &runbook, "--output", "json"]);
        peers.push((format!("ebb plan at {name}"), median(b.rounds, &mut || {}, &mut || run(&script, &[]).0)));
    }
    if b.tools.kcat.is_some() {
        // librdkafka's floor: the same read with nothing done with the records.
        let script = format!(
            "kcat -C -b {} -t {} -o beginning -e -q -f '%k %s\\n' > /dev/null",
            b.cluster.bootstrap,
            quote(&topic)
        );
        let sample = median(b.rounds, &mut || {}, &mut || run(&script, &[]).0);
        peers.push(("kcat, output discarded".to_owned(), sample));
        let script = format!(
            "kcat -C -b {} -t {} -o beginning -e -q -f '%k %s\\n' | grep -c -F NEEDLE",
            b.cluster.bootstrap,
            quote(&topic)
        );
        let sample = median(b.rounds, &mut || {}, &mut || {
            let (sample, stdout) = run(&script, &[]);
            assert_eq!(String::from_utf8_lossy(&stdout).trim(), expected.to_string(), "kcat | grep found every match");
            sample
        });
        peers.push(("kcat | grep -c".to_owned(), sample));
    }
    if let Some(path) = &b.tools.kafkactl {
        let script = format!(
            "{} consume {} --from-beginning --exit --filter-value '*NEEDLE*' | grep -c NEEDLE",
            quote(&path.display().to_string()),
            quote(&topic)
        );
        let env = b.kafkactl_env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sample = median(b.rounds, &mut || {}, &mut || {
            let (sample, stdout) = run(&script, &env);
            assert_eq!(String::from_utf8_lossy(&stdout).trim(), expected.to_string(), "kafkactl found every match");
            sample
        });
        peers.push(("kafkactl consume --filter-value".to_owned(), sample));
    }
    let label = format!("keyword search, {RECORDS} records");
    results.compare(b.brokers, &label, ("ebb plan (query_messages)", ebb), peers);
    let counted = crate::requests::counted(b, &b.ebb(&["plan", &runbook, "--output", "json"]));
    b.runtime.block_on(b.seeder.delete_topic(&topic));
    counted
}
