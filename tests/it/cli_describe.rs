//! `ebb cluster describe` as an operator runs it, against the real broker.

use std::time::{Duration, Instant};

use ebb_testkit::{Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_for, now_ms};

#[tokio::test(flavor = "multi_thread")]
async fn describe_shows_watermarks_and_lag_like_apache() {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("describe");
    seeder.create_topic(&topic, 2).await;
    seeder.produce_sequence(&topic, 0, 8, "x", now_ms() - 60_000, 1).await;
    seeder.produce_sequence(&topic, 1, 3, "x", now_ms() - 60_000, 1).await;
    seeder.delete_records(&topic, 0, 2).await;
    let group = unique("group-describe");
    seeder.commit(&group, &[(&topic, 0, 5)]).await;

    let out = Ebb::new()
        .config(&config_for(&cluster.bootstrap))
        .args(["cluster", "describe", "--topic", &topic, "--group", &group, "--output", "json"])
        .run()
        .success();
    let json = out.json();
    assert_eq!(json["cluster"], "local");
    let parts = &json["topics"][0]["partitions"];
    assert_eq!((parts[0]["log_start"].as_i64(), parts[0]["log_end"].as_i64()), (Some(2), Some(8)));
    assert_eq!((parts[1]["log_start"].as_i64(), parts[1]["log_end"].as_i64()), (Some(0), Some(3)));
    let g = &json["groups"][0];
    assert_eq!(g["group"], group.as_str());
    assert_eq!(g["state"], "Empty");
    let offsets = g["offsets"].as_array().unwrap();
    assert_eq!(offsets.len(), 1);

    let apache = apache::group_offsets(&cluster.bootstrap, &group);
    assert_eq!(apache.len(), 1);
    assert_eq!(offsets[0]["committed"].as_i64(), apache[0].current);
    assert_eq!(offsets[0]["log_end"].as_i64(), apache[0].log_end);
    assert_eq!(offsets[0]["lag"].as_i64(), apache[0].lag);
    assert_eq!(offsets[0]["lag"].as_i64(), Some(3));

    let table = Ebb::new()
        .config(&config_for(&cluster.bootstrap))
        .args(["cluster", "describe", "--topic", &topic, "--group", &group])
        .run()
        .success();
    let header = "TOPIC";
    let out = table.stdout_contains(header).stdout_contains("LOG-START").stdout_contains("LAG");
    let row = out.stdout.lines().find(|l| l.starts_with(&group)).expect("group row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, vec![group.as_str(), "Empty", "0", topic.as_str(), "0", "5", "8", "3"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_topic_and_unknown_group_are_errors_naming_them() {
    let cluster = shared_cluster();
    Ebb::new()
        .config(&config_for(&cluster.bootstrap))
        .args(["cluster", "describe", "--topic", "no-such-topic-anywhere"])
        .run()
        .code(1)
        .stderr_contains("topic \"no-such-topic-anywhere\" does not exist");
    let group = unique("group-missing");
    Ebb::new()
        .config(&config_for(&cluster.bootstrap))
        .args(["cluster", "describe", "--group", &group])
        .run()
        .code(1)
        .stderr_contains(&format!("consumer group \"{group}\" does not exist"));
}

#[test]
fn an_unset_variable_is_named_and_nothing_is_contacted() {
    let yaml = "clusters:\n  local:\n    kafka:\n      bootstrap_servers: ${EBB_TEST_SURELY_UNSET}\n";
    Ebb::new()
        .config(yaml)
        .args(["cluster", "describe"])
        .run()
        .code(1)
        .stderr_contains("environment variable EBB_TEST_SURELY_UNSET is not set")
        .stderr_contains("clusters.local.kafka.bootstrap_servers");
}

#[test]
fn an_unreachable_cluster_fails_in_bounded_time_and_never_shows_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = format!(
        "clusters:\n  local:\n    kafka:\n      bootstrap_servers: 127.0.0.1:{port}\n      timeout: 2s\n      \
         properties:\n        security.protocol: SASL_PLAINTEXT\n        sasl.mechanism: PLAIN\n        \
         sasl.username: ops\n        sasl.password: ${{EBB_TEST_PASSWORD}}\n"
    );
    let started = Instant::now();
    Ebb::new()
        .config(&yaml)
        .env("EBB_TEST_PASSWORD", "pw-7f3a9c-do-not-print")
        .env("EBB_LOG", "trace")
        .args(["cluster", "describe"])
        .run()
        .code(1)
        .stderr_contains(&format!("cannot reach 127.0.0.1:{port} within 2s"))
        .never_shows("pw-7f3a9c-do-not-print");
    assert!(started.elapsed() < Duration::from_secs(20), "a bound against hanging: {:?}", started.elapsed());
}

#[test]
fn a_missing_config_or_cluster_is_explained() {
    Ebb::new().args(["cluster", "describe"]).run().code(1).stderr_contains("no ebb.yaml found");
    let two = "clusters:\n  a: {kafka: {bootstrap_servers: x}}\n  b: {kafka: {bootstrap_servers: y}}\n";
    Ebb::new()
        .config(two)
        .args(["cluster", "describe"])
        .run()
        .code(1)
        .stderr_contains("name a cluster with --cluster (clusters: a, b)");
    Ebb::new()
        .config(two)
        .args(["cluster", "describe", "--cluster", "c"])
        .run()
        .code(1)
        .stderr_contains("no cluster named \"c\" (clusters: a, b)");
}
