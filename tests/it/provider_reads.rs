//! Every read of the native provider, against the real broker, cross-checked
//! with Apache's `kafka-get-offsets` and `kafka-consumer-groups` on the same state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ebb::config::KafkaClusterConfig;
use ebb::provider::kafka::KafkaProvider;
use ebb::provider::{GroupState, Provider, ProviderError, TopicPartition};
use ebb::time::HumanDuration;
use ebb_testkit::{LiveMember, Seeder, apache, shared_cluster, unique};

fn provider() -> KafkaProvider {
    KafkaProvider::connect("test", &shared_cluster().config()).expect("provider")
}

fn partitions(topic: &str, count: i32) -> Vec<TopicPartition> {
    (0..count).map(|p| TopicPartition::new(topic, p)).collect()
}

/// A time an hour ago, rounded to the second: brokers reject timestamps far in the future.
fn an_hour_ago() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    (now - 3_600_000) / 1000 * 1000
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_and_partitions_match_the_cluster() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("topics");
    seeder.create_topic(&topic, 3).await;

    let p = provider();
    let described = p.topic(&topic).await.unwrap();
    assert_eq!(described.name, topic);
    assert_eq!(described.partitions.iter().map(|p| p.partition).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert!(described.partitions.iter().all(|p| p.leader == Some(1) && p.replicas == vec![1]));

    let all = p.topics().await.unwrap();
    assert!(all.iter().any(|t| t.name == topic));
    assert!(all.iter().all(|t| t.name != "__consumer_offsets"), "internal topics are not listed");
    assert!(all.windows(2).all(|w| w[0].name < w[1].name), "sorted by name");

    let apache = apache::get_offsets(&cluster.bootstrap, &topic, "-1");
    assert_eq!(apache.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_topic_or_partition_is_a_clear_error() {
    let cluster = shared_cluster();
    let topic = unique("known");
    Seeder::new(&cluster.bootstrap).create_topic(&topic, 2).await;
    let p = provider();

    let err = p.topic("no-such-topic-anywhere").await.unwrap_err();
    assert!(matches!(&err, ProviderError::UnknownTopic { topic, .. } if topic == "no-such-topic-anywhere"), "{err}");
    assert!(err.to_string().contains("\"no-such-topic-anywhere\" does not exist"), "{err}");

    let err = p.watermarks(&[TopicPartition::new(&topic, 5)]).await.unwrap_err();
    assert!(matches!(err, ProviderError::UnknownPartition { partition: 5, count: 2, .. }), "{err}");

    let err = p.committed_offsets("g", Some(&["no-such-topic-anywhere".to_owned()])).await.unwrap_err();
    assert!(matches!(err, ProviderError::UnknownTopic { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread")]
async fn watermarks_equal_apache_get_offsets_including_a_raised_log_start() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("watermarks");
    seeder.create_topic(&topic, 3).await;
    let t0 = an_hour_ago();
    seeder.produce_sequence(&topic, 0, 10, "a", t0, 1000).await;
    seeder.produce_sequence(&topic, 1, 5, "b", t0, 1000).await;
    seeder.delete_records(&topic, 0, 4).await;

    let marks = provider().watermarks(&partitions(&topic, 3)).await.unwrap();
    let got: Vec<(i32, i64, i64)> = marks.iter().map(|w| (w.partition, w.log_start, w.log_end)).collect();
    assert_eq!(got, vec![(0, 4, 10), (1, 0, 5), (2, 0, 0)]);

    let earliest = apache::get_offsets(&cluster.bootstrap, &topic, "-2");
    let latest = apache::get_offsets(&cluster.bootstrap, &topic, "-1");
    for w in &marks {
        assert_eq!(Some(&w.log_start), earliest.get(&w.partition), "log start of {}", w.partition);
        assert_eq!(Some(&w.log_end), latest.get(&w.partition), "log end of {}", w.partition);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_for_a_timestamp_equal_apache_get_offsets() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("by-time");
    seeder.create_topic(&topic, 3).await;
    let t0 = an_hour_ago();
    seeder.produce_sequence(&topic, 0, 10, "a", t0, 1000).await; // t0 .. t0+9s
    seeder.produce_sequence(&topic, 1, 3, "b", t0 + 500, 5000).await; // t0+0.5s, +5.5s, +10.5s
    let p = provider();

    for (at, expected) in [
        (t0 - 60_000, [Some(0), Some(0), None]),
        (t0 + 4_500, [Some(5), Some(1), None]),
        (t0 + 9_000, [Some(9), Some(2), None]),
        (t0 + 9_001, [None, Some(2), None]),
        (t0 + 60_000, [None, None, None]),
    ] {
        let found = p.offsets_for_timestamp(&partitions(&topic, 3), at).await.unwrap();
        let offsets: Vec<Option<i64>> = found.iter().map(|o| o.offset).collect();
        assert_eq!(offsets, expected, "at t0{:+}ms", at - t0);

        // Apache's tool leaves out partitions where no message is at or after the time.
        let apache = apache::get_offsets(&cluster.bootstrap, &topic, &at.to_string());
        let ours: BTreeMap<i32, i64> = found.iter().filter_map(|o| o.offset.map(|off| (o.partition, off))).collect();
        assert_eq!(ours, apache, "at t0{:+}ms", at - t0);
    }

    let err = p.offsets_for_timestamp(&partitions(&topic, 1), -5).await.unwrap_err();
    assert!(err.to_string().contains("before 1970"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_offsets_equal_apache_describe_for_all_topics_and_a_scope() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (a, b, other) = (unique("committed-a"), unique("committed-b"), unique("committed-other"));
    seeder.create_topic(&a, 2).await;
    seeder.create_topic(&b, 1).await;
    seeder.create_topic(&other, 1).await;
    let t0 = an_hour_ago();
    seeder.produce_sequence(&a, 0, 6, "a", t0, 10).await;
    seeder.produce_sequence(&a, 1, 6, "a", t0, 10).await;
    seeder.produce_sequence(&b, 0, 4, "b", t0, 10).await;
    let group = unique("group-committed");
    seeder.commit(&group, &[(&a, 0, 3), (&b, 0, 1)]).await;

    let p = provider();
    let all = p.committed_offsets(&group, None).await.unwrap();
    let got: Vec<(String, i32, i64)> = all.iter().map(|c| (c.topic.clone(), c.partition, c.offset)).collect();
    let mut expected = vec![(a.clone(), 0, 3), (b.clone(), 0, 1)];
    expected.sort();
    assert_eq!(got, expected, "partition a:1 has no commit and is left out");

    let apache: Vec<(String, i32, i64)> = apache::group_offsets(&cluster.bootstrap, &group)
        .into_iter()
        .filter_map(|r| r.current.map(|c| (r.topic, r.partition, c)))
        .collect();
    assert_eq!(got, apache);

    let scoped = p.committed_offsets(&group, Some(&[a.clone(), other.clone()])).await.unwrap();
    assert_eq!(
        scoped.iter().map(|c| (c.topic.as_str(), c.partition, c.offset)).collect::<Vec<_>>(),
        vec![(a.as_str(), 0, 3)]
    );

    let never = p.committed_offsets(&unique("group-never-seen"), None).await.unwrap();
    assert!(never.is_empty());
}

async fn wait_for_state<P: Provider>(p: &P, group: &str, state: GroupState) -> ebb::provider::GroupDescription {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let d = p.describe_group(group).await.unwrap();
        if d.state == state {
            return d;
        }
        assert!(Instant::now() < deadline, "group {group} stayed {} instead of {state}", d.state);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Holds a live member of `protocol` (`classic`, or `consumer` for KIP-848) and
/// checks that ebb's view of the group, while live and after it leaves, is
/// Apache's. The classic DescribeGroups reports a live KIP-848 group as Dead with
/// no members, which would let a reset through its gate.
async fn a_live_member_is_seen_like_apache_sees_it(protocol: &str) {
    let cluster = shared_cluster();
    let topic = unique(&format!("members-{protocol}"));
    Seeder::new(&cluster.bootstrap).create_topic(&topic, 2).await;
    let group = unique(&format!("group-live-{protocol}"));
    let client_id = format!("ebb-live-{protocol}");
    let p = provider();
    // A committed offset keeps the group known after its last member leaves
    // (the member never commits).
    Seeder::new(&cluster.bootstrap).commit(&group, &[(&topic, 0, 0)]).await;

    let member = LiveMember::join_with_protocol(&cluster.bootstrap, &group, &topic, &client_id, protocol);
    let stable = wait_for_state(&p, &group, GroupState::Stable).await;
    assert_eq!(stable.group_type, protocol);
    assert!(!stable.state.is_inactive());
    let ours: Vec<(String, String)> = stable.members.iter().map(|m| (m.client_id.clone(), m.host.clone())).collect();
    assert_eq!(ours, vec![(client_id.clone(), "127.0.0.1".to_owned())]);
    assert_eq!(apache::group_state(&cluster.bootstrap, &group), ("Stable".to_owned(), 1));
    assert_eq!(ours, apache::group_members(&cluster.bootstrap, &group));

    let listed = p.list_groups().await.unwrap();
    let entry = listed.iter().find(|g| g.group == group).expect("listed");
    assert_eq!((entry.state.clone(), entry.group_type.as_str()), (GroupState::Stable, protocol));

    drop(member);
    let empty = wait_for_state(&p, &group, GroupState::Empty).await;
    assert!(empty.members.is_empty());
    assert!(empty.state.is_inactive());
    assert_eq!(apache::group_state(&cluster.bootstrap, &group), ("Empty".to_owned(), 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_classic_group_is_seen_like_apache_sees_it() {
    a_live_member_is_seen_like_apache_sees_it("classic").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_kip848_group_is_seen_like_apache_sees_it() {
    a_live_member_is_seen_like_apache_sees_it("consumer").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_nobody_knows_is_dead_and_empty() {
    let unknown = provider().describe_group(&unique("group-nobody")).await.unwrap();
    assert_eq!(unknown.state, GroupState::Dead);
    assert!(unknown.members.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn listed_groups_include_every_group_apache_lists() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("listing");
    seeder.create_topic(&topic, 1).await;
    let (g1, g2) = (unique("group-list-1"), unique("group-list-2"));
    seeder.commit(&g1, &[(&topic, 0, 0)]).await;
    seeder.commit(&g2, &[(&topic, 0, 0)]).await;

    let apache = apache::list_groups(&cluster.bootstrap);
    let ours = provider().list_groups().await.unwrap();
    let names: Vec<&str> = ours.iter().map(|g| g.group.as_str()).collect();
    for group in [&g1, &g2] {
        assert!(apache.contains(group), "Apache lists {group}");
        let listed = ours.iter().find(|g| &g.group == group).expect("ebb lists the group");
        assert_eq!(listed.state, GroupState::Empty);
    }
    for group in &apache {
        assert!(names.contains(&group.as_str()), "ebb misses {group}, which Apache lists");
    }
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_policy_is_read_from_the_topic_config() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (plain, compact, both) = (unique("policy-delete"), unique("policy-compact"), unique("policy-both"));
    seeder.create_topic(&plain, 1).await;
    seeder.create_topic_with(&compact, 1, 1, &[("cleanup.policy", "compact")]).await;
    seeder.create_topic_with(&both, 1, 1, &[("cleanup.policy", "compact,delete")]).await;
    let p = provider();

    let policy = p.cleanup_policy(&plain).await.unwrap();
    assert_eq!(policy.policy, "delete");
    assert!(policy.allows_delete());
    let policy = p.cleanup_policy(&compact).await.unwrap();
    assert_eq!(policy.policy, "compact");
    assert!(!policy.allows_delete());
    assert!(p.cleanup_policy(&both).await.unwrap().allows_delete());

    let err = p.cleanup_policy("no-such-topic-anywhere").await.unwrap_err();
    assert!(matches!(err, ProviderError::UnknownTopic { .. }), "{err}");
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cluster_fails_within_the_timeout_naming_the_address() {
    let address = format!("127.0.0.1:{}", closed_port());
    let config = KafkaClusterConfig {
        bootstrap_servers: address.clone(),
        properties: Default::default(),
        timeout: HumanDuration::parse("2s").unwrap(),
        from_files: Vec::new(),
    };
    let p = KafkaProvider::connect("nowhere", &config).unwrap();
    let started = Instant::now();
    let err = p.topics().await.unwrap_err();
    // A bound against hanging, far above the 2 s timeout: not a performance check.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&address) && text.contains("within 2s"), "{text}");
    assert!(err.is_retryable());

    let err = p.watermarks(&[TopicPartition::new("t", 0)]).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err}");
}

#[test]
fn an_invalid_property_is_named_without_revealing_secrets() {
    let config = KafkaClusterConfig {
        bootstrap_servers: "127.0.0.1:9".into(),
        properties: [("sasl.password", "hunter2-secret"), ("security.protocol", "hunter2-secret")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        timeout: HumanDuration::parse("2s").unwrap(),
        from_files: Vec::new(),
    };
    let err = KafkaProvider::connect("c", &config).err().expect("invalid security.protocol");
    let text = err.to_string();
    assert!(text.contains("security.protocol"), "{text}");
    assert!(!text.contains("hunter2-secret"), "secret leaked: {text}");
}
