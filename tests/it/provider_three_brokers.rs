//! Reads over partitions led by different brokers, on the three-broker cluster.

use std::collections::BTreeSet;

use ebb::provider::kafka::KafkaProvider;
use ebb::provider::{Provider, TopicPartition};
use ebb_testkit::{Seeder, apache, shared_three_broker_cluster, unique};

#[tokio::test(flavor = "multi_thread")]
async fn reads_span_every_leader_and_match_apache() {
    let cluster = shared_three_broker_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("spread");
    // Recent times: records older than the retention period (7 days) may be deleted under us.
    let t0 = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
        - 3_600_000)
        / 1000
        * 1000;
    seeder.create_topic_with(&topic, 6, 3, &[]).await;
    for partition in 0..6 {
        seeder.produce_sequence(&topic, partition, (partition as usize + 1) * 3, "m", t0, 1000).await;
    }
    seeder.delete_records(&topic, 2, 4).await;
    let group = unique("group-spread");
    seeder.commit(&group, &[(&topic, 0, 1), (&topic, 3, 7), (&topic, 5, 18)]).await;

    let p = KafkaProvider::connect("three", &cluster.config()).unwrap();
    let described = p.topic(&topic).await.unwrap();
    let leaders: BTreeSet<i32> = described.partitions.iter().filter_map(|p| p.leader).collect();
    assert_eq!(leaders, BTreeSet::from([1, 2, 3]), "partitions are led by all three brokers");
    assert!(described.partitions.iter().all(|p| p.replicas.len() == 3));

    let all: Vec<TopicPartition> = described.topic_partitions().collect();
    let marks = p.watermarks(&all).await.unwrap();
    let earliest = apache::get_offsets(&cluster.bootstrap, &topic, "-2");
    let latest = apache::get_offsets(&cluster.bootstrap, &topic, "-1");
    for w in &marks {
        assert_eq!(w.log_end, (w.partition as i64 + 1) * 3);
        assert_eq!(w.log_start, if w.partition == 2 { 4 } else { 0 });
        assert_eq!((earliest[&w.partition], latest[&w.partition]), (w.log_start, w.log_end));
    }

    let by_time = p.offsets_for_timestamp(&all, t0 + 2_500).await.unwrap();
    let apache_by_time = apache::get_offsets(&cluster.bootstrap, &topic, &(t0 + 2_500).to_string());
    for o in &by_time {
        assert_eq!(o.offset, apache_by_time.get(&o.partition).copied(), "partition {}", o.partition);
    }

    let committed = p.committed_offsets(&group, None).await.unwrap();
    let got: Vec<(i32, i64)> = committed.iter().map(|c| (c.partition, c.offset)).collect();
    assert_eq!(got, vec![(0, 1), (3, 7), (5, 18)]);
    let apache_rows: Vec<(i32, i64)> = apache::group_offsets(&cluster.bootstrap, &group)
        .into_iter()
        .filter_map(|r| r.current.map(|c| (r.partition, c)))
        .collect();
    assert_eq!(got, apache_rows);
}

async fn settled_counts(p: &KafkaProvider) -> ebb::provider::kafka::RequestCounts {
    p.request_counts().await.expect("counting is on and librdkafka reports")
}

#[tokio::test(flavor = "multi_thread")]
async fn batched_reads_send_requests_per_leader_not_per_partition() {
    let cluster = shared_three_broker_cluster();
    let topic = unique("batched");
    Seeder::new(&cluster.bootstrap).create_topic_with(&topic, 30, 1, &[]).await;
    let p = KafkaProvider::connect_counting_requests("three", &cluster.config()).unwrap();
    let described = p.topic(&topic).await.unwrap();
    let leaders: BTreeSet<i32> = described.partitions.iter().filter_map(|p| p.leader).collect();
    assert_eq!(leaders.len(), 3);
    let all: Vec<TopicPartition> = described.topic_partitions().collect();
    p.watermarks(&all).await.unwrap(); // connects to every leader first

    let before = settled_counts(&p).await;
    p.watermarks(&all).await.unwrap(); // earliest and latest: one lookup each
    p.offsets_for_timestamp(&all, 1).await.unwrap(); // one more
    let after = settled_counts(&p).await;

    let sent = ebb::provider::kafka::sent_between(&before, &after, "ListOffsets");
    assert_eq!(sent.keys().copied().collect::<BTreeSet<_>>(), leaders, "every leader was asked: {after:?}");
    for (broker, count) in &sent {
        // Three lookups over ten partitions each: 3 requests batched, 30 if sent per partition.
        assert!(
            (3..=5).contains(count),
            "broker {broker} got {count} ListOffsets requests: {sent:?}\nbefore {before:?}\nafter {after:?}"
        );
    }
}
