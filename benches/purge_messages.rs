//! Benchmark: purging 10,000 partitions (ten topics of 1,000) up to their log
//! end, against Apache Kafka's `kafka-delete-records` on the same broker, in
//! the same run.
//!
//! Before each round one record is produced to every partition, so every round
//! deletes one record everywhere. Both sides are timed from process start to
//! exit: `ebb run --yes` of a runbook with one `purge_messages` step per topic
//! (`before: { high_watermark: true }`), which plans, checks `cleanup.policy`,
//! deletes and reads every log start back; and `kafka-delete-records
//! --offset-json-file` with offset -1 (the high watermark) for every partition.
//! ebb runs twice: with `protect_groups: none`, the same work as Apache's tool,
//! and with its default protection (two groups that have consumed everything,
//! whose offsets it reads at plan and again at apply).
//! Run: `cargo bench --bench purge_messages` (`EBB_TEST_BOOTSTRAP` reuses a
//! running broker, but protection reads every group on it). Results go in
//! docs/BENCHMARKS.md.

mod support;

use std::process::Command;

use ebb::testkit::{Seeder, apache, repo_root, shared_cluster, unique};
use support::{Workdir, median_with, ms};

const TOPICS: usize = 10;
const PARTITIONS_PER_TOPIC: i32 = 1_000;
const ROUNDS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topics: Vec<String> = (0..TOPICS).map(|_| unique("bench-purge")).collect();
    for topic in &topics {
        runtime.block_on(seeder.create_topic(topic, PARTITIONS_PER_TOPIC));
    }
    let refill = || {
        for topic in &topics {
            runtime.block_on(seeder.produce_everywhere(topic, PARTITIONS_PER_TOPIC, 1, "r"));
        }
    };
    let dir = Workdir::new("ebb-bench-purge", cluster);
    let runbook = |protect: &str| {
        let steps: String = topics
            .iter()
            .enumerate()
            .map(|(i, t)| {
                format!(
                    "  - id: purge{i}\n    purge_messages:\n      topic: {t}\n      before: {{ high_watermark: true }}\n{protect}"
                )
            })
            .collect();
        format!("name: bench-purge\ncluster: local\nsteps:\n{steps}")
    };
    let unprotected = dir.file("unprotected.yaml", &runbook("      protect_groups: none\n"));
    let protected = dir.file("protected.yaml", &runbook(""));
    let mut offsets = Vec::new();
    for topic in &topics {
        for p in 0..PARTITIONS_PER_TOPIC {
            offsets.push(serde_json::json!({"topic": topic, "partition": p, "offset": -1}));
        }
    }
    let json = dir.file("offsets.json", &serde_json::json!({"version": 1, "partitions": offsets}).to_string());
    // Two groups that have consumed everything, refreshed after each refill.
    let groups = [unique("bench-purge-a"), unique("bench-purge-b")];
    let consume_all = || {
        for topic in &topics {
            let ends = apache::get_offsets(&cluster.bootstrap, topic, "-1");
            let commits: Vec<(&str, i32, i64)> = ends.iter().map(|(p, end)| (topic.as_str(), *p, *end)).collect();
            for group in &groups {
                runtime.block_on(seeder.commit(group, &commits));
            }
        }
    };

    let ebb_none = median_with(ROUNDS, &refill, || {
        dir.ebb(&["run", &unprotected, "--yes"]);
    });
    let apache_time = median_with(ROUNDS, &refill, || {
        let output = Command::new(repo_root().join("scripts/kafka"))
            .args(["tool", "delete-records", "--bootstrap-server", &cluster.bootstrap, "--offset-json-file", &json])
            .output()
            .expect("run kafka-delete-records");
        assert!(output.status.success(), "kafka-delete-records failed: {}", String::from_utf8_lossy(&output.stderr));
        let out = String::from_utf8_lossy(&output.stdout);
        assert_eq!(out.matches("low_watermark").count(), TOPICS * PARTITIONS_PER_TOPIC as usize, "{out}");
    });
    let ebb_all = median_with(
        ROUNDS,
        &|| {
            refill();
            consume_all();
        },
        || {
            dir.ebb(&["run", &protected, "--yes"]);
        },
    );
    for topic in &topics {
        let starts = apache::get_offsets(&cluster.bootstrap, topic, "-2");
        let ends = apache::get_offsets(&cluster.bootstrap, topic, "-1");
        assert_eq!(starts, ends, "every partition of {topic} was purged to its log end");
    }

    let total = TOPICS * PARTITIONS_PER_TOPIC as usize;
    println!("purge of {total} partitions to the log end, process start to exit, median of {ROUNDS}");
    println!("{:<44} {:>10} {:>8}", "tool", "time", "ratio");
    println!("{:<44} {:>10} {:>7.1}×", "kafka-delete-records", ms(apache_time), 1.0);
    let ratio = |d: std::time::Duration| apache_time.as_secs_f64() / d.as_secs_f64();
    println!("{:<44} {:>10} {:>7.1}×", "ebb run (protect_groups: none)", ms(ebb_none), ratio(ebb_none));
    println!("{:<44} {:>10} {:>7.1}×", "ebb run (default protection, 2 groups)", ms(ebb_all), ratio(ebb_all));
    for topic in &topics {
        runtime.block_on(seeder.delete_topic(topic));
    }
}
