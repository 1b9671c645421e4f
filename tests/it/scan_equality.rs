//! The direct scan (Fetch spoken by ebb) reads what Apache's console consumer
//! reads, read_committed: every record's partition, offset, timestamp, key,
//! value and headers, on each compression codec, on transactional data with
//! aborted transactions and their markers, on a compacted topic with gaps, with
//! the log start moved by DeleteRecords in the middle of the scan, and with the
//! partition's leader moved in the middle of the scan (three brokers); and
//! the librdkafka scan it falls back to on SASL listeners reads the same.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ebb::provider::kafka::KafkaProvider;
use ebb::provider::{Message, OffsetRange, Provider, TopicPartition};
use ebb_testkit::apache::{self, Consumed};
use ebb_testkit::{Record, Seeder, TestCluster, shared_cluster, shared_three_broker_cluster, unique};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::cli_harness::now_ms;

fn as_consumed(m: &Message) -> Consumed {
    let text = |b: &Option<Vec<u8>>| b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
    Consumed {
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp.unwrap_or(-1),
        key: text(&m.key),
        value: text(&m.value),
        headers: m.headers.iter().map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned())).collect(),
    }
}

/// Every record ebb's scan reads from each partition's log start to its log
/// end, sorted, and what the scan noted; `visit` sees each as it is read.
/// Each partition's records must come in offset order.
async fn ebb_reads_noting(
    provider: &KafkaProvider,
    topic: &str,
    partitions: i32,
    visit: impl Fn(&Message) + Send + Sync + 'static,
) -> (Vec<Consumed>, Vec<String>) {
    let asked: Vec<TopicPartition> = (0..partitions).map(|p| TopicPartition::new(topic, p)).collect();
    let ranges: Vec<OffsetRange> = provider
        .watermarks(&asked)
        .await
        .unwrap()
        .into_iter()
        .map(|w| OffsetRange { topic: topic.to_owned(), partition: w.partition, start: w.log_start, end: w.log_end })
        .collect();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let scanned = provider
        .scan_noting(
            &ranges,
            Arc::new(move |m: &Message| {
                visit(m);
                sink.lock().unwrap().push(as_consumed(m));
                true
            }),
        )
        .await
        .unwrap();
    let mut seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(scanned.read as usize, seen.len(), "the scan counts what it shows");
    for p in 0..partitions {
        let offsets: Vec<i64> = seen.iter().filter(|r| r.partition == p).map(|r| r.offset).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "partition {p} is shown in offset order");
    }
    seen.sort();
    (seen, scanned.notes)
}

async fn ebb_reads(
    provider: &KafkaProvider,
    topic: &str,
    partitions: i32,
    visit: impl Fn(&Message) + Send + Sync + 'static,
) -> Vec<Consumed> {
    let (seen, notes) = ebb_reads_noting(provider, topic, partitions, visit).await;
    assert!(notes.is_empty(), "{notes:?}");
    seen
}

/// Apache's read of `topic`: `count` records, or with `None` all it finds.
async fn apache_reads(bootstrap: &str, topic: &str, count: Option<usize>) -> Vec<Consumed> {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || apache::consume_records(&bootstrap, &topic, count)).await.unwrap()
}

fn provider(cluster: &TestCluster) -> KafkaProvider {
    KafkaProvider::connect("local", &cluster.config()).unwrap()
}

/// The codecs `kafka-dump-log` reports for the first segment of `topic`'s
/// partition 0, found under the cluster's data directories.
fn codecs_on_disk(cluster: &TestCluster, topic: &str) -> String {
    let dir = cluster.dir.as_ref().expect("a cluster the tests started, whose data they can read");
    let segment = find_segment(dir, &format!("{topic}-0")).expect("the partition's first segment");
    let out = apache::run("dump-log", &["--files", &segment.display().to_string()]);
    out.lines()
        .filter_map(|l| l.split("compresscodec: ").nth(1))
        .map(|c| c.split_whitespace().next().unwrap_or(c))
        .collect::<Vec<_>>()
        .join(" ")
}

fn find_segment(dir: &Path, partition_dir: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == partition_dir) {
            return Some(path.join("00000000000000000000.log"));
        }
        if let Some(found) = find_segment(&path, partition_dir) {
            return Some(found);
        }
    }
    None
}

fn records(partition: i32, count: usize, t0: i64) -> impl Iterator<Item = Record> {
    (0..count).map(move |i| {
        let mut record =
            Record::value(format!("{{\"p\":{partition},\"n\":{i},\"text\":\"value {i} of a codec test\"}}"))
                .at(t0 + i as i64)
                .header("h", format!("first {i}"))
                .header("h", format!("second {i}"))
                .header("trace", "t");
        if i % 7 != 0 {
            record = record.key(format!("key-{i}"));
        }
        record
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_codec_reads_as_apache_reads_it() {
    let cluster = shared_cluster();
    let t0 = now_ms() - 60_000;
    let mut checks = Vec::new();
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        checks.push(async move {
            let topic = unique(&format!("codec-{codec}"));
            let seeder = Seeder::with_settings(&cluster.bootstrap, &[("compression.type", codec), ("linger.ms", "50")]);
            seeder.create_topic(&topic, 2).await;
            for p in 0..2 {
                seeder.produce(&topic, p, records(p, 400, t0)).await;
            }
            let ebb = ebb_reads(&provider(cluster), &topic, 2, |_| {}).await;
            let apache = apache_reads(&cluster.bootstrap, &topic, Some(800)).await;
            assert_eq!(ebb.len(), 800, "{codec}");
            assert_eq!(ebb, apache, "ebb reads {codec} records as Apache does");
            assert_eq!(ebb[1].headers.iter().filter(|(k, _)| k == "h").count(), 2, "both headers named h");
            let on_disk = codecs_on_disk(cluster, &topic);
            assert!(on_disk.split(' ').all(|c| c.eq_ignore_ascii_case(codec)), "{codec}: stored as {on_disk}");
        });
    }
    futures_util::future::join_all(checks).await;
}

/// A transactional producer of its own, for committed and aborted transactions.
fn transactional(bootstrap: &str, id: &str) -> FutureProducer {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("transactional.id", id)
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    producer
}

async fn send_all(producer: &FutureProducer, topic: &str, partition: i32, values: &[String]) {
    let sends = values.iter().map(|v| {
        producer
            .send(FutureRecord::<str, str>::to(topic).partition(partition).payload(v).key(v), Duration::from_secs(30))
    });
    for sent in futures_util::future::join_all(sends).await {
        sent.map_err(|(e, _)| e).unwrap();
    }
}

/// Two partitions of interleaved committed and aborted transactions, with
/// plain records between them; returns how many records Apache reads.
async fn transactions(cluster: &TestCluster, topic: &str) -> usize {
    let seeder = Seeder::new(&cluster.bootstrap);
    seeder.create_topic(topic, 2).await;
    let committing = transactional(&cluster.bootstrap, &unique("tx-commit"));
    let aborting = transactional(&cluster.bootstrap, &unique("tx-abort"));
    let values = |what: &str, round: usize| (0..50).map(|i| format!("{what}-{round}-{i}")).collect::<Vec<_>>();
    // Interleaved: aborted and committed transactions overlap on both partitions,
    // with plain records between them.
    for round in 0..4 {
        committing.begin_transaction().unwrap();
        aborting.begin_transaction().unwrap();
        for p in 0..2 {
            send_all(&committing, topic, p, &values("committed", round)).await;
            send_all(&aborting, topic, p, &values("aborted", round)).await;
        }
        aborting.abort_transaction(Duration::from_secs(30)).unwrap();
        committing.commit_transaction(Duration::from_secs(30)).unwrap();
        for p in 0..2 {
            seeder.produce(topic, p, (0..10).map(|i| Record::value(format!("plain-{round}-{i}")))).await;
        }
    }
    2 * 4 * (50 + 10)
}

#[tokio::test(flavor = "multi_thread")]
async fn aborted_transactions_and_markers_are_left_out_as_apache_leaves_them() {
    let cluster = shared_cluster();
    let topic = unique("transactions");
    let expected = transactions(cluster, &topic).await;
    let ebb = ebb_reads(&provider(cluster), &topic, 2, |_| {}).await;
    assert!(ebb.iter().all(|r| !r.value.as_deref().unwrap_or_default().starts_with("aborted")));
    assert_eq!(ebb.len(), expected);
    assert_eq!(ebb, apache_reads(&cluster.bootstrap, &topic, Some(expected)).await);
    let offsets: Vec<i64> = ebb.iter().filter(|r| r.partition == 0).map(|r| r.offset).collect();
    assert!(offsets.windows(2).any(|w| w[1] > w[0] + 1), "the aborted records and markers leave gaps");
}

/// On a SASL listener the scan falls back to librdkafka's consumer, which
/// reads committed records too: the same records as Apache's, and as the
/// direct scan's on the plaintext listener.
#[tokio::test(flavor = "multi_thread")]
async fn the_librdkafka_fallback_reads_as_apache_and_the_direct_scan_read() {
    let cluster = shared_cluster();
    let topic = unique("fallback");
    let expected = transactions(cluster, &topic).await;
    let listeners = ebb_testkit::SecureListeners::of(cluster);
    let mut config = ebb_testkit::broker::cluster_config(&listeners.sasl_plaintext);
    for (key, value) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", listeners.user.as_str()),
        ("sasl.password", listeners.password.as_str()),
    ] {
        config.properties.insert(key.to_owned(), value.to_owned());
    }
    let over_sasl = KafkaProvider::connect("local", &config).unwrap();
    assert!(over_sasl.scan_fallback().is_some_and(|why| why.contains("SASL_PLAINTEXT")));
    let fallback = ebb_reads(&over_sasl, &topic, 2, |_| {}).await;
    assert_eq!(fallback.len(), expected);
    assert_eq!(fallback, apache_reads(&cluster.bootstrap, &topic, Some(expected)).await);
    assert_eq!(fallback, ebb_reads(&provider(cluster), &topic, 2, |_| {}).await, "both paths read the same");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_transaction_ends_the_read_where_apache_stops_and_the_scan_says_so() {
    let cluster = shared_cluster();
    let topic = unique("open-transaction");
    let seeder = Seeder::new(&cluster.bootstrap);
    seeder.create_topic(&topic, 1).await;
    seeder.produce(&topic, 0, (0..20).map(|i| Record::value(format!("before-{i}")))).await;
    let open = transactional(&cluster.bootstrap, &unique("tx-open"));
    open.begin_transaction().unwrap();
    send_all(&open, &topic, 0, &(0..10).map(|i| format!("open-{i}")).collect::<Vec<_>>()).await;
    seeder.produce(&topic, 0, (0..5).map(|i| Record::value(format!("after-{i}")))).await;
    let (ebb, notes) = ebb_reads_noting(&provider(cluster), &topic, 1, |_| {}).await;
    let values: Vec<&str> = ebb.iter().filter_map(|r| r.value.as_deref()).collect();
    assert_eq!(values, (0..20).map(|i| format!("before-{i}")).collect::<Vec<_>>(), "up to the open transaction");
    assert!(
        notes.len() == 1 && notes[0].contains("last stable offset 20, short of 35"),
        "the scan says where it stopped and why: {notes:?}"
    );
    assert_eq!(ebb, apache_reads(&cluster.bootstrap, &topic, None).await, "Apache stops there too");
    open.abort_transaction(Duration::from_secs(30)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compacted_topic_with_gaps_reads_as_apache_reads_it() {
    let cluster = shared_cluster();
    let topic = unique("compacted");
    let seeder = Seeder::with_settings(&cluster.bootstrap, &[("compression.type", "zstd")]);
    seeder
        .create_topic_with(
            &topic,
            1,
            1,
            &[
                ("cleanup.policy", "compact"),
                ("segment.ms", "100"),
                ("min.cleanable.dirty.ratio", "0.01"),
                ("min.compaction.lag.ms", "0"),
                ("delete.retention.ms", "0"),
            ],
        )
        .await;
    let provider = provider(cluster);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut round = 0;
    let ebb = loop {
        // Every key at first, then the even ones again each round: the odd
        // keys' first records stay between removed ones. A new round also rolls the segment.
        let keys = (0..20).filter(|k| round == 0 || k % 2 == 0);
        seeder.produce(&topic, 0, keys.map(|k| Record::value(format!("round {round}")).key(format!("key-{k}")))).await;
        round += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let read = ebb_reads(&provider, &topic, 1, |_| {}).await;
        let log_end = read.last().map_or(0, |r| r.offset + 1);
        if (read.len() as i64) < log_end / 2 {
            break read;
        }
        assert!(Instant::now() < deadline, "the log cleaner compacted nothing in 90 s");
    };
    assert!(ebb.windows(2).any(|w| w[1].offset > w[0].offset + 1), "compaction left gaps");
    assert_eq!(ebb, apache_reads(&cluster.bootstrap, &topic, None).await, "every record Apache finds, and no other");
}

/// Records of 10 KB: produced uncompressed, 6,000 of them are more than the
/// scan holds at once (24 MiB), so the scan is still reading when the test
/// acts in the middle of it.
fn large(count: usize) -> impl Iterator<Item = Record> {
    (0..count).map(|i| Record::value(format!("{i:06}:{}", "x".repeat(10_000))).key(format!("k{i}")))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_start_moved_in_the_middle_of_a_scan_is_read_on_from() {
    let cluster = shared_cluster();
    let topic = unique("moved-start");
    let seeder = Seeder::with_settings(&cluster.bootstrap, &[("compression.type", "none")]);
    seeder.create_topic(&topic, 1).await;
    seeder.produce(&topic, 0, large(6_000)).await;
    let deleted_below = 5_000;
    let bootstrap = cluster.bootstrap.clone();
    let moved = Arc::new(Mutex::new(false));
    let mover = Arc::clone(&moved);
    let deleting = topic.clone();
    // At the first record the scan shows, the records below 5,000 are deleted
    // (Apache's DeleteRecords through the seeder) before the scan goes on.
    let (ebb, notes) = ebb_reads_noting(&provider(cluster), &topic, 1, move |_| {
        let mut moved = mover.lock().unwrap();
        if !*moved {
            *moved = true;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(Seeder::new(&bootstrap).delete_records(&deleting, 0, deleted_below));
        }
    })
    .await;
    assert!(*moved.lock().unwrap());
    assert!(
        notes.len() == 1
            && notes[0].contains(":0: records ")
            && notes[0].contains("4999 were deleted before the scan could read them"),
        "the scan says which records it could not read: {notes:?}"
    );
    let (before, after): (Vec<&Consumed>, Vec<&Consumed>) = ebb.iter().partition(|r| r.offset < deleted_below);
    assert!(
        !before.is_empty() && before.len() < deleted_below as usize,
        "some records were read before the move, not all: {}",
        before.len()
    );
    for (i, r) in before.iter().enumerate() {
        assert_eq!(r.offset, i as i64, "no record is missed before the move");
        assert!(r.value.as_deref().unwrap().starts_with(&format!("{i:06}:")));
    }
    let apache = apache_reads(&cluster.bootstrap, &topic, Some(1_000)).await;
    assert_eq!(after.into_iter().cloned().collect::<Vec<_>>(), apache, "from the new log start, what Apache reads");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_moved_in_the_middle_of_a_scan_is_followed() {
    let cluster = shared_three_broker_cluster();
    let topic = unique("moved-leader");
    apache::run(
        "topics",
        &["--bootstrap-server", &cluster.bootstrap, "--create", "--topic", &topic, "--replica-assignment", "1:2:3"],
    );
    // Uncompressed, so the records are more than the scan holds at once.
    let seeder = Seeder::with_settings(&cluster.bootstrap, &[("compression.type", "none")]);
    seeder.produce(&topic, 0, large(6_000)).await;
    let provider = KafkaProvider::connect_counting_requests("local", &cluster.config()).unwrap();
    let leader = |p: &KafkaProvider| {
        let p = p.clone();
        let topic = topic.clone();
        async move { p.topic(&topic).await.unwrap().partitions[0].leader }
    };
    assert_eq!(leader(&provider).await, Some(1));
    let moved = Arc::new(Mutex::new(false));
    let mover = Arc::clone(&moved);
    let (bootstrap, moving) = (cluster.bootstrap.clone(), topic.clone());
    // At the first record, the partition moves to brokers 2 and 3, led by 2.
    let ebb = ebb_reads(&provider, &topic, 1, move |_| {
        let mut moved = mover.lock().unwrap();
        if !*moved {
            *moved = true;
            move_leader(&bootstrap, &moving);
        }
    })
    .await;
    assert!(*moved.lock().unwrap());
    assert_eq!(leader(&provider).await, Some(2), "the leader moved during the scan");
    let counts = provider.request_counts().await.expect("counted");
    let fetches = |broker: i32| counts.get(&broker).and_then(|apis| apis.get("Fetch")).copied().unwrap_or(0);
    assert!(fetches(1) > 0 && fetches(2) > 0, "both leaders were fetched from: {counts:?}");
    assert_eq!(ebb.len(), 6_000);
    assert_eq!(ebb, apache_reads(&cluster.bootstrap, &topic, Some(6_000)).await);
}

/// Moves partition 0 off broker 1, its leader, to brokers 2 and 3, and elects
/// broker 2. (A broker left as a follower would go on answering the scan's
/// fetches, as Kafka lets consumers fetch from followers; one that holds no
/// replica at all sends the scan to the new leader.)
fn move_leader(bootstrap: &str, topic: &str) {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("reassign.json");
    std::fs::write(
        &plan,
        format!("{{\"version\":1,\"partitions\":[{{\"topic\":\"{topic}\",\"partition\":0,\"replicas\":[2,3]}}]}}"),
    )
    .unwrap();
    let plan = plan.display().to_string();
    apache::run(
        "reassign-partitions",
        &["--bootstrap-server", bootstrap, "--reassignment-json-file", &plan, "--execute"],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !apache::run(
        "reassign-partitions",
        &["--bootstrap-server", bootstrap, "--reassignment-json-file", &plan, "--verify"],
    )
    .contains("is completed")
    {
        assert!(Instant::now() < deadline, "the reassignment did not complete in 30 s");
        std::thread::sleep(Duration::from_millis(300));
    }
    apache::run(
        "leader-election",
        &["--bootstrap-server", bootstrap, "--election-type", "PREFERRED", "--topic", topic, "--partition", "0"],
    );
}
