//! `compute_offsets` strategies Apache's tool does not have, and its errors,
//! on the real broker: given offsets, another group's offsets, the first and
//! last matches of a query, notes on every clamp and fallback.

use std::collections::BTreeMap;

use ebb::provider::kafka::KafkaProvider;
use ebb::provider::{ProviderError, TopicPartition};
use ebb::steps::compute_offsets::{ComputeError, ComputeOffsets, Targeting};
use ebb_testkit::{Seeder, shared_cluster, unique};

fn provider() -> KafkaProvider {
    KafkaProvider::connect("compute", &shared_cluster().config()).expect("provider")
}

fn compute(group: &str, topics: Option<Vec<String>>, targeting: Targeting) -> ComputeOffsets {
    ComputeOffsets { group: group.to_owned(), topics, partitions: None, targeting }
}

/// Topic of 2 partitions × 20 messages, partition 1's log start at 5; `group` committed at 8 and 12.
async fn state() -> (String, String) {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, group) = (unique("compute"), unique("compute-group"));
    seeder.create_topic(&topic, 2).await;
    let t0 = chrono::Utc::now().timestamp_millis() - 3_600_000;
    for p in 0..2 {
        seeder.produce_sequence(&topic, p, 20, "m", t0, 1000).await;
    }
    seeder.delete_records(&topic, 1, 5).await;
    seeder.commit(&group, &[(&topic, 0, 8), (&topic, 1, 12)]).await;
    (topic, group)
}

#[tokio::test(flavor = "multi_thread")]
async fn given_offsets_are_clamped_with_a_note_and_totals_count_both_ways() {
    let (topic, group) = state().await;
    let given = BTreeMap::from([(TopicPartition::new(&topic, 0), 30), (TopicPartition::new(&topic, 1), 2)]);
    let out = compute(&group, None, Targeting::Given(given)).run(&provider()).await.unwrap();
    let p0 = &out.partitions[0];
    assert_eq!((p0.current, p0.target, p0.lag_before, p0.lag_after), (Some(8), 20, Some(12), 0));
    assert_eq!(p0.note.as_deref(), Some("30 is past log end: clamped to 20"));
    let p1 = &out.partitions[1];
    assert_eq!((p1.current, p1.target, p1.log_start), (Some(12), 5, 5));
    assert_eq!(p1.note.as_deref(), Some("2 is below log start: clamped to 5"));
    assert_eq!((out.total_skip, out.total_rewind), (12, 7));
}

#[tokio::test(flavor = "multi_thread")]
async fn from_group_copies_another_groups_offsets_over_its_partitions() {
    let (topic, source) = state().await;
    let fresh = unique("fresh-group");
    let out = compute(&fresh, None, Targeting::FromGroup(source)).run(&provider()).await.unwrap();
    let targets: Vec<(i32, Option<i64>, i64)> =
        out.partitions.iter().map(|p| (p.partition, p.current, p.target)).collect();
    assert_eq!(targets, [(0, None, 8), (1, None, 12)], "the fresh group has no offsets; the source's are copied");
    assert!(out.partitions.iter().all(|p| p.topic == topic));
}

#[tokio::test(flavor = "multi_thread")]
async fn matches_move_only_partitions_with_matches() {
    let (topic, group) = state().await;
    let matches = BTreeMap::from([(TopicPartition::new(&topic, 0), 15)]);
    let after = compute(&group, None, Targeting::AfterMatches(matches.clone())).run(&provider()).await.unwrap();
    assert_eq!(after.partitions[0].target, 16, "just past the last match");
    assert_eq!(
        (after.partitions[1].target, after.partitions[1].note.as_deref()),
        (12, Some("no matching message: unchanged"))
    );
    let at = compute(&group, None, Targeting::AtMatches(matches)).run(&provider()).await.unwrap();
    assert_eq!(at.partitions[0].target, 15, "at the first match");
}

#[tokio::test(flavor = "multi_thread")]
async fn to_current_keeps_an_offset_outside_the_log_and_says_so() {
    let (topic, group) = state().await;
    Seeder::new(&shared_cluster().bootstrap).commit(&group, &[(&topic, 1, 2)]).await;
    let out = compute(&group, None, Targeting::Current).run(&provider()).await.unwrap();
    assert_eq!((out.partitions[1].target, out.partitions[1].note.as_deref()), (2, Some("below log start 5")));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_topics_partitions_and_empty_scopes_are_clear_errors() {
    let (topic, group) = state().await;
    let err = compute(&group, Some(vec![unique("missing")]), Targeting::Latest).run(&provider()).await.unwrap_err();
    assert!(matches!(err, ComputeError::Provider(ProviderError::UnknownTopic { .. })), "{err}");
    let mut step = compute(&group, Some(vec![topic.clone()]), Targeting::Latest);
    step.partitions = Some(vec![0, 7]);
    let err = step.run(&provider()).await.unwrap_err().to_string();
    assert!(err.contains(&format!("topic {topic:?} has no partition 7 (it has 2)")), "{err}");
    let err = compute(&unique("nobody"), None, Targeting::Latest).run(&provider()).await.unwrap_err().to_string();
    assert!(err.contains("has no committed offsets, so there is no default scope"), "{err}");
}
