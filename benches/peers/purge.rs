//! Purging 10,000 partitions (ten topics of 1,000) to their log end: `ebb run
//! --yes` of one `purge_messages` step per topic (`protect_groups: none`, the
//! same work as Apache's tool) against `kafka-delete-records
//! --offset-json-file` with offset -1 for every partition. Before each round
//! one record is produced to every partition, so every round deletes one
//! record everywhere; afterwards every log start is checked to be its log end.
//!
//! It purges the reset comparison's topics and then deletes them: a deleted
//! topic's files stay open on the broker for a minute, so ten fresh topics
//! next to ten just deleted would hold some 21,000 files open on the single
//! broker and run it out of file descriptors.

use ebb_testkit::apache;

use crate::measure::{median, quote, run};
use crate::results::Results;
use crate::{Bench, PARTITIONS_PER_TOPIC};

const TOPICS: usize = 10;

/// Purges `topics` (ten of 1,000 partitions), then deletes them; returns the
/// requests one `ebb run` sent.
pub fn compare(b: &Bench, results: &mut Results, topics: &[String]) -> Option<String> {
    assert_eq!(topics.len(), TOPICS, "the purge takes ten topics of {PARTITIONS_PER_TOPIC} partitions");
    let mut refill = || {
        for topic in topics {
            b.runtime.block_on(b.seeder.produce_everywhere(topic, PARTITIONS_PER_TOPIC, 1, "r"));
        }
    };
    let steps: String = topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "  - id: purge{i}\n    purge_messages:\n      topic: {t}\n      before: {{ high_watermark: true }}\n      protect_groups: none\n"
            )
        })
        .collect();
    let runbook = b.dir.file("purge.yaml", &format!("name: bench-purge\ncluster: local\nsteps:\n{steps}"));
    let offsets: Vec<serde_json::Value> = topics
        .iter()
        .flat_map(|t| {
            (0..PARTITIONS_PER_TOPIC).map(move |p| serde_json::json!({"topic": t, "partition": p, "offset": -1}))
        })
        .collect();
    let json = b.dir.file("offsets.json", &serde_json::json!({"version": 1, "partitions": offsets}).to_string());
    let apache_script = format!(
        "{} tool delete-records --bootstrap-server {} --offset-json-file {}",
        quote(&b.scripts_kafka()),
        b.cluster.bootstrap,
        quote(&json)
    );

    let ebb = median(b.rounds, &mut refill, &mut || run(&b.ebb(&["run", &runbook, "--yes"]), &[]).0);
    let peer = median(b.rounds, &mut refill, &mut || {
        let (sample, stdout) = run(&apache_script, &[]);
        let out = String::from_utf8_lossy(&stdout);
        assert_eq!(out.matches("low_watermark").count(), TOPICS * PARTITIONS_PER_TOPIC as usize, "{out}");
        sample
    });
    refill();
    let counted = crate::requests::counted(b, &b.ebb(&["run", &runbook, "--yes"]));
    for topic in topics {
        let starts = apache::get_offsets(&b.cluster.bootstrap, topic, "-2");
        let ends = apache::get_offsets(&b.cluster.bootstrap, topic, "-1");
        assert_eq!(starts, ends, "every partition of {topic} was purged to its log end");
    }
    let label = format!("purge, {} partitions", TOPICS * PARTITIONS_PER_TOPIC as usize);
    results.compare(b.brokers, &label, ("ebb run --yes", ebb), vec![("kafka-delete-records".to_owned(), peer)]);
    for topic in topics {
        b.runtime.block_on(b.seeder.delete_topic(topic));
    }
    counted
}
