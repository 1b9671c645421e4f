//! `query_messages` through `ebb plan` against the real broker: time windows
//! read only their window, offsets and `last`, every filter, `limit` with
//! `count`, order, download, non-UTF-8 records; and a query's matches driving a
//! reset (`after_messages` skips past poison messages, end to end).

use std::collections::BTreeMap;

use ebb_testkit::{Record, Seeder, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, config_for, now_ms, on_a_terminal};

const MINUTE: i64 = 60_000;

/// 2 partitions × 60 records a minute apart, ending 30 s ago. Value `p{p}-{i}`,
/// key `k{i % 5}`; every 10th (i = 5, 15, …) also says POISON and carries header
/// `kind: bad`. Partition 1 ends with one record whose value is not UTF-8.
async fn seeded() -> (String, i64) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("query");
    seeder.create_topic(&topic, 2).await;
    let base = (now_ms() - 60 * MINUTE - MINUTE / 2) / 1000 * 1000;
    for p in 0..2 {
        let records = (0..60).map(|i| {
            let poison = i % 10 == 5;
            let value = if poison { format!("p{p}-{i} POISON") } else { format!("p{p}-{i}") };
            let record = Record::value(value).key(format!("k{}", i % 5)).at(base + i * MINUTE);
            if poison { record.header("kind", "bad") } else { record.header("kind", "good") }
        });
        seeder.produce(&topic, p, records).await;
    }
    seeder.produce(&topic, 1, [Record::value([0xff, 0xfe, 0x00]).key("bin").at(base + 60 * MINUTE)]).await;
    (topic, base)
}

fn query(topic: &str, fields: &str) -> String {
    format!("name: q\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n{fields}\n")
}

fn output(runbook: &str) -> Value {
    let plan = Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .file("rb.yaml", runbook)
        .args(["plan", "rb.yaml", "--output", "json"])
        .run()
        .success()
        .json();
    plan["steps"][0]["output"].clone()
}

fn offsets(out: &Value) -> Vec<(i64, i64)> {
    out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["partition"].as_i64().unwrap(), m["offset"].as_i64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn windows_offsets_filters_limit_and_order() {
    let (topic, base) = seeded().await;
    let at = |i: i64| chrono::DateTime::from_timestamp_millis(base + i * MINUTE).unwrap().to_rfc3339();

    // A window of minutes [20, 40): 20 records per partition are read, no more.
    let out = output(&query(
        &topic,
        &format!("      from: \"{}\"\n      to: \"{}\"\n      contains: POISON", at(20), at(40)),
    ));
    assert_eq!(out["scanned"], 40, "only the window is read");
    assert_eq!(out["count"], 4);
    assert_eq!(offsets(&out), vec![(0, 25), (1, 25), (0, 35), (1, 35)], "ascending by timestamp");
    assert_eq!(
        out["partitions"][0],
        serde_json::json!({"partition": 0, "first_match": 25, "last_match": 35, "matches": 2, "runs": [[25, 26], [35, 36]]})
    );

    // limit keeps the newest with desc; count still counts every match.
    let out = output(&query(
        &topic,
        "      from_offset: 0\n      contains: poison\n      case_insensitive: true\n      limit: 2\n      order: desc",
    ));
    assert_eq!(out["count"], 12);
    assert_eq!(offsets(&out), vec![(1, 55), (0, 55)]);

    // Every filter ANDed: key, header, regex.
    let out = output(&query(
        &topic,
        "      partitions: [0]\n      last: 30\n      key: k0\n      headers: { kind: bad }\n      value_regex: \"^p0-[0-9]+ POISON$\"",
    ));
    assert_eq!(out["scanned"], 30);
    assert_eq!(offsets(&out), vec![(0, 35), (0, 45), (0, 55)]);

    // One exact record, and one that is not UTF-8.
    let out = output(&query(&topic, "      partition: 1\n      offset: 60"));
    let m = &out["messages"][0];
    assert_eq!(
        (m["encoding"].as_str(), m["value"].as_str(), m["key"].as_str()),
        (Some("base64"), Some("//4A"), Some("Ymlu"))
    );
    assert_eq!(m["size"], 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn download_streams_every_match_past_the_limit() {
    let (topic, _) = seeded().await;
    let runbook =
        query(&topic, "      from_offset: 0\n      contains: POISON\n      limit: 1\n      download: matches.jsonl");
    let dir = std::env::temp_dir().join(unique("query-download"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rb.yaml"), runbook).unwrap();
    let config = format!("{}downloads_dir: {}\n", config_for(&shared_cluster().bootstrap), dir.display());
    let out = Ebb::new()
        .config(&config)
        .args(["plan", dir.join("rb.yaml").to_str().unwrap(), "--output", "json"])
        .run()
        .success()
        .json();
    assert_eq!(out["steps"][0]["output"]["messages"].as_array().unwrap().len(), 1);
    let lines: Vec<Value> = std::fs::read_to_string(dir.join("matches.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12, "every match, in downloads_dir");
    assert!(lines.iter().all(|l| l["value"].as_str().unwrap().contains("POISON")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_progress_bar_shows_on_a_terminal_only() {
    let (topic, _) = seeded().await;
    let runbook = query(&topic, "      from_offset: 0\n      contains: POISON");
    let (code, screen) = on_a_terminal(&shared_cluster().bootstrap, &runbook, "plan rb.yaml", "");
    assert_eq!(code, 0, "{screen}");
    let bar = format!("find [{}] 100%  121/121 records", "#".repeat(30));
    assert!(screen.contains(&bar), "{screen}");

    let piped = Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .file("rb.yaml", &runbook)
        .args(["plan", "rb.yaml"])
        .run()
        .success();
    assert!(!piped.stderr.contains("records") && !piped.stdout.contains("121/121"), "{}{}", piped.stdout, piped.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_positions_are_clear_errors() {
    let (topic, _) = seeded().await;
    for (fields, expected) in [
        ("      partition: 0\n      offset: 60", &format!("{topic}:0 has no offset 60: its log holds [0, 60)")),
        ("      from_offset: 10\n      to_offset: 5", &"from_offset 10 is not before to_offset 5".to_owned()),
        ("      from_offset: 0\n      to_offset: 500", &format!("{topic}:0 has no offset 500")),
        ("      partitions: [7]\n      last: 1", &format!("topic {topic:?} has no partition 7")),
        ("      last: 1\n      value_regex: \"a(\"", &"value_regex".to_owned()),
        ("      from: -1h\n      to: -2h", &"`from` (-3600s) is not before `to` (-7200s)".to_owned()),
        ("      from: \"{{#if true}}-1h{{/if}}\"\n      to: -2h", &"after it ends at".to_owned()),
    ] {
        let out = Ebb::new()
            .config(&config_for(&shared_cluster().bootstrap))
            .file("rb.yaml", &query(&topic, fields))
            .args(["plan", "rb.yaml"])
            .run();
        assert_eq!(out.code, 1, "{fields}:\n{}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains(expected) || out.stderr.contains(expected),
            "{fields}: {expected}\n{}{}",
            out.stdout,
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_messages_moves_the_group_past_poison_messages() {
    let (topic, _) = seeded().await;
    let group = unique("poisoned");
    Seeder::new(&shared_cluster().bootstrap).commit(&group, &[(&topic, 0, 10), (&topic, 1, 10)]).await;
    let runbook = format!(
        "name: skip\ncluster: local\nsteps:\n  - id: find\n    query_messages: {{ topic: {topic}, partitions: [0], from_offset: 0, to_offset: 40, contains: POISON }}\n  - id: targets\n    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ after_messages: find }} }}\n  - id: reset\n    when: \"{{{{gt steps.find.output.count 0}}}}\"\n    reset_offsets: {{ offsets: targets, max_skip: 100 }}\n"
    );
    Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .file("rb.yaml", &runbook)
        .args(["run", "rb.yaml", "--yes"])
        .run()
        .success()
        .stdout_contains("Succeeded: 1 partition(s) committed and verified.");
    let committed: BTreeMap<i32, i64> = Seeder::new(&shared_cluster().bootstrap)
        .committed(&group)
        .await
        .into_iter()
        .map(|((_, partition), offset)| (partition, offset))
        .collect();
    assert_eq!(committed, BTreeMap::from([(0, 36), (1, 10)]), "past the last poison (35) on 0; 1 had no match");
}
