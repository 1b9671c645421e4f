//! Time-based purges that cannot surprise, against the real broker: records
//! produced out of time order, the plan's per-partition cut-off and the
//! offset it maps to (equal to Apache's `kafka-get-offsets --time`), the
//! warning for records on the wrong side of the cut, `strict_time` refusing,
//! and `max_delete_percent` refusing a partition that would lose too much.

use ebb_testkit::{Record, Seeder, apache, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, config_for, now_ms};

const MINUTE: i64 = 60_000;

fn purge(topic: &str, fields: &str) -> String {
    format!(
        "name: p\ncluster: local\nsteps:\n  - id: purge\n    purge_messages:\n      topic: {topic}\n      protect_groups: none\n{fields}\n"
    )
}

fn ebb(runbook: &str, args: &[&str]) -> Outcome {
    Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .file("rb.yaml", runbook)
        .args(args.iter().copied())
        .run()
}

fn log_starts(topic: &str) -> std::collections::BTreeMap<i32, i64> {
    apache::get_offsets(&shared_cluster().bootstrap, topic, "-2")
}

/// The planned (partition, cut-at offset, new log start) of every row.
fn cuts(plan: &Value) -> Vec<(i64, i64, i64)> {
    let step = &plan["steps"][0];
    let mut rows: Vec<(i64, i64, i64)> = ["changes", "untouched"]
        .iter()
        .flat_map(|list| step[*list].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (r["partition"].as_i64().unwrap(), r["requested"].as_i64().unwrap(), r["new_log_start"].as_i64().unwrap())
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn records_out_of_time_order_around_the_cut_warn_and_strict_time_refuses() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("purge-time");
    seeder.create_topic(&topic, 2).await;
    let base = (now_ms() - 60 * MINUTE) / 1000 * 1000;
    // Partition 0: ten records a minute apart, but record 3 comes from a client
    // whose clock is half an hour ahead. Partition 1: in order.
    let stamped = |i: i64| if i == 3 { base + 40 * MINUTE } else { base + i * MINUTE };
    seeder.produce(&topic, 0, (0..10).map(|i| Record::value(format!("r{i}")).at(stamped(i)))).await;
    seeder.produce(&topic, 1, (0..10).map(|i| Record::value(format!("r{i}")).at(base + i * MINUTE))).await;
    let cut_off = base + 6 * MINUTE + 30_000;
    let runbook = purge(&topic, &format!("      before: {{ datetime: \"{cut_off}\" }}"));

    let plan = ebb(&runbook, &["plan", "rb.yaml", "--output", "json"]).success().json();
    let apache_cuts = apache::get_offsets(&shared_cluster().bootstrap, &topic, &cut_off.to_string());
    assert_eq!(apache_cuts, [(0, 3), (1, 7)].into(), "Apache's lookup stops at the record from the future");
    assert_eq!(cuts(&plan), [(0, 3, 3), (1, 7, 7)], "the cut maps the cut-off to Apache's offset");
    assert_eq!(plan["steps"][0]["cut_off_ms"].as_i64(), Some(cut_off));
    let warnings = plan["steps"][0]["warnings"].to_string();
    assert!(
        warnings.contains(&format!("{topic}:0: 3 of the first 7 record(s) from the cut on are older than the cut-off")),
        "{warnings}"
    );
    assert!(!warnings.contains(&format!("{topic}:1:")), "partition 1 is in order: {warnings}");

    let table = ebb(&runbook, &["plan", "rb.yaml"]).success();
    assert!(table.stdout.contains("CUT-OFF") && table.stdout.contains("CUT-AT"), "{}", table.stdout);
    assert!(table.stdout.contains("warning:"), "{}", table.stdout);

    let strict = purge(&topic, &format!("      before: {{ datetime: \"{cut_off}\" }}\n      strict_time: true"));
    ebb(&strict, &["run", "rb.yaml", "--yes"]).code(3).stdout_contains("strict_time: the timestamps of topic");
    assert_eq!(log_starts(&topic), [(0, 0), (1, 0)].into(), "strict_time deleted nothing");

    ebb(&runbook, &["run", "rb.yaml", "--yes"]).success();
    assert_eq!(log_starts(&topic), apache_cuts, "without strict_time, the purge goes to the cut, as planned");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_delete_percent_refuses_a_partition_that_would_lose_too_much() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("purge-percent");
    seeder.create_topic(&topic, 2).await;
    let base = now_ms() - 60 * MINUTE;
    seeder.produce_sequence(&topic, 0, 10, "a", base, MINUTE).await;
    seeder.produce_sequence(&topic, 1, 20, "b", base, MINUTE).await;
    // Offset 6 is 60% of partition 0 and 30% of partition 1.
    let refused = purge(&topic, "      before: { offset: 6 }\n      max_delete_percent: 50");
    ebb(&refused, &["run", "rb.yaml", "--yes"]).code(3).stdout_contains(&format!("{topic}:0 (6 of 10 records, 60.0%)"));
    assert_eq!(log_starts(&topic), [(0, 0), (1, 0)].into(), "nothing deleted");

    let allowed = purge(&topic, "      before: { offset: 6 }\n      max_delete_percent: 60");
    ebb(&allowed, &["run", "rb.yaml", "--yes"]).success();
    assert_eq!(log_starts(&topic), [(0, 6), (1, 6)].into());
}
