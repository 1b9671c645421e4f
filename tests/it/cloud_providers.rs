//! The `ckafka` and `dms` providers through the CLI, against local emulators
//! of each cloud API that verify signatures as the clouds do and act on the
//! real broker: the same runbook gives the same committed offsets (skip a
//! poison message, replay from a time) and the same log start (purge)
//! through `kafka`, `ckafka` and `dms`, the same messages come back from a
//! query, and bad input (wrong secret, unreachable endpoint, an answer of
//! unexpected shape) is a clear error, quickly, without a retry storm.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ebb_testkit::emulator_server::EmulatorServer;
use ebb_testkit::{Record, Seeder, ckafka_emulator, dms_emulator, shared_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, now_ms};

/// `ebb.yaml` with the broker three ways: `local` (native), `tencent` (CKafka
/// emulator) and `huawei` (DMS emulator); the cloud secrets come from the environment.
fn clouds_config(ckafka_url: &str, dms_url: &str, timeout: &str) -> String {
    let bootstrap = &shared_cluster().bootstrap;
    format!(
        "clusters:
  local:
    kafka:
      bootstrap_servers: {bootstrap}
  tencent:
    ckafka:
      region: ap-guangzhou
      instance_id: {ck_instance}
      secret_id: {ck_id}
      secret_key: ${{EBB_TEST_TC_KEY}}
      endpoint: {ckafka_url}
      timeout: {timeout}
  huawei:
    dms:
      endpoint: {dms_url}
      project_id: {project}
      instance_id: {dms_instance}
      access_key: {ak}
      secret_key: ${{EBB_TEST_HW_SK}}
      timeout: {timeout}
",
        ck_instance = ckafka_emulator::INSTANCE_ID,
        ck_id = ckafka_emulator::SECRET_ID,
        project = dms_emulator::PROJECT_ID,
        dms_instance = dms_emulator::INSTANCE_ID,
        ak = dms_emulator::ACCESS_KEY,
    )
}

struct Clouds {
    ckafka: EmulatorServer,
    dms: EmulatorServer,
}

impl Clouds {
    fn start() -> Self {
        let bootstrap = &shared_cluster().bootstrap;
        Clouds { ckafka: ckafka_emulator::start(bootstrap), dms: dms_emulator::start(bootstrap) }
    }

    fn ebb(&self, runbook: &str, args: &[&str]) -> Outcome {
        self.ebb_with_keys(runbook, args, ckafka_emulator::SECRET_KEY, dms_emulator::SECRET_KEY)
    }

    fn ebb_with_keys(&self, runbook: &str, args: &[&str], tc_key: &str, hw_key: &str) -> Outcome {
        Ebb::new()
            .config(&clouds_config(&self.ckafka.url, &self.dms.url, "10s"))
            .env("EBB_TEST_TC_KEY", tc_key)
            .env("EBB_TEST_HW_SK", hw_key)
            .file("rb.yaml", runbook)
            .args(args.iter().copied())
            .run()
    }
}

const CLUSTERS: [&str; 3] = ["local", "tencent", "huawei"];

/// A topic of two partitions, 12 records each, a second apart, ending about a
/// minute ago; POISON at offset 4 of partition 0 and offset 9 of partition 1.
async fn poisoned(seeder: &Seeder) -> String {
    let topic = unique("cloud-orders");
    seeder.create_topic(&topic, 2).await;
    let base = now_ms() - 120_000;
    for (partition, poison) in [(0, 4), (1, 9)] {
        let records = (0..12).map(|i| {
            let value = if i == poison { format!("order {i} POISON") } else { format!("order {i}") };
            Record::value(value).key(format!("k{i}")).header("trace", format!("t{partition}-{i}")).at(base + i * 1000)
        });
        seeder.produce(&topic, partition, records).await;
    }
    topic
}

fn committed_on(committed: &BTreeMap<(String, i32), i64>, topic: &str) -> Vec<(i32, i64)> {
    committed.iter().filter(|((t, _), _)| t == topic).map(|((_, p), o)| (*p, *o)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_poison_gives_the_same_offsets_and_messages_through_kafka_ckafka_and_dms() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = poisoned(&seeder).await;
    let clouds = Clouds::start();
    let mut found = Vec::new();
    for cluster in CLUSTERS {
        let group = unique(&format!("billing-{cluster}"));
        seeder.commit(&group, &[(&topic, 0, 2), (&topic, 1, 3)]).await;
        let runbook = format!(
            "name: skip-poison\ncluster: {cluster}\nsteps:
  - id: find
    query_messages: {{ topic: {topic}, from: -1h, contains: POISON, limit: 20 }}
  - id: targets
    compute_offsets: {{ group: {group}, topics: [{topic}], strategy: {{ after_messages: find }} }}
  - id: reset
    when: \"{{{{gt steps.find.output.count 0}}}}\"
    reset_offsets: {{ offsets: targets, max_skip: 100 }}
"
        );
        let plan = clouds.ebb(&runbook, &["plan", "rb.yaml", "--output", "json"]).success().json();
        let output = &plan["steps"][0]["output"];
        found.push((cluster, output["messages"].clone()));
        let scanned = output["scanned"].as_i64();
        let expected = if cluster == "huawei" { 2 } else { 24 };
        assert_eq!(scanned, Some(expected), "{cluster}: DMS searches the keyword itself, the others scan the window");
        clouds.ebb(&runbook, &["run", "rb.yaml", "--yes"]).success();
        let committed = seeder.committed(&group).await;
        assert_eq!(committed_on(&committed, &topic), vec![(0, 5), (1, 10)], "through {cluster}");
    }
    let (_, native) = &found[0];
    assert_eq!(native.as_array().map(Vec::len), Some(2), "{native:#}");
    assert_eq!(native[0]["headers"]["trace"], "t0-4", "{native:#}");
    let without_headers = |messages: &Value| {
        let mut messages = messages.clone();
        for m in messages.as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("headers");
            m.as_object_mut().unwrap().remove("size");
        }
        messages
    };
    // CKafka carries headers; DMS's message entity has none.
    assert_eq!(&found[1].1, native, "ckafka finds the same messages");
    assert_eq!(without_headers(&found[2].1), without_headers(native), "dms finds the same messages");
    let ck = &clouds.ckafka.log;
    assert_eq!(ck.throttled(), 0, "ebb keeps to 1 fetch a second, the emulator never had to throttle");
    assert!(ck.count("FetchMessageListByTimestamp") >= 2 && ck.count("FetchMessageListByOffset") >= 2);
    assert_eq!(ck.count("BatchModifyGroupOffsets"), 1, "different targets per partition: one batch");
    assert_eq!(clouds.dms.log.count("ResetMessageOffsetWithEngine"), 2, "one reset per partition");
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_from_a_time_gives_the_same_offsets_through_kafka_ckafka_and_dms() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("cloud-replay");
    seeder.create_topic(&topic, 3).await;
    let base = (now_ms() - 3_600_000) / 1000 * 1000;
    for partition in 0..3 {
        seeder.produce_sequence(&topic, partition, 30, "e", base, 60_000).await;
    }
    // The first record at or after base + 10.5 minutes is offset 11 of every partition.
    let since = chrono::DateTime::from_timestamp_millis(base + 630_000).unwrap().to_rfc3339();
    let clouds = Clouds::start();
    for cluster in CLUSTERS {
        let group = unique(&format!("analytics-{cluster}"));
        seeder.commit(&group, &[(&topic, 0, 25), (&topic, 1, 30), (&topic, 2, 20)]).await;
        let runbook = format!(
            "name: replay\ncluster: {cluster}\nparams:\n  since: {{ type: time, required: true }}\nsteps:
  - id: rewind
    reset_offsets:
      group: {group}
      topics: [{topic}]
      strategy: {{ to_datetime: \"{{{{params.since}}}}\" }}
      max_rewind: 1000
"
        );
        let set = format!("since={since}");
        clouds.ebb(&runbook, &["run", "rb.yaml", "--yes", "--set", &set]).success();
        let committed = seeder.committed(&group).await;
        assert_eq!(committed_on(&committed, &topic), vec![(0, 11), (1, 11), (2, 11)], "through {cluster}");
    }
    let ck = &clouds.ckafka.log;
    assert_eq!(ck.count("ModifyGroupOffsets"), 1, "one target for every partition: Strategy 2 in one call");
    assert_eq!(ck.throttled(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_gives_the_same_log_start_through_kafka_and_dms_and_ckafka_refuses_it() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let clouds = Clouds::start();
    let mut starts = Vec::new();
    for cluster in ["local", "huawei"] {
        let topic = unique(&format!("cloud-purge-{cluster}"));
        seeder.create_topic(&topic, 2).await;
        let base = now_ms() - 3_600_000;
        for partition in 0..2 {
            seeder.produce_sequence(&topic, partition, 40, "p", base, 1000).await;
        }
        let group = unique("consumed");
        seeder.commit(&group, &[(&topic, 0, 30), (&topic, 1, 12)]).await;
        let runbook = format!(
            "name: purge\ncluster: {cluster}\nsteps:\n  - id: purge\n    purge_messages: {{ topic: {topic}, before: {{ offset: 20 }} }}\n"
        );
        clouds.ebb(&runbook, &["run", "rb.yaml", "--yes"]).success();
        starts.push(ebb_testkit::apache::get_offsets(bootstrap, &topic, "-2"));
    }
    assert_eq!(starts[0], BTreeMap::from([(0, 20), (1, 12)]), "capped where the group has consumed");
    assert_eq!(starts[1], starts[0], "dms purges exactly as kafka does");
    assert_eq!(clouds.dms.log.count("DeleteKafkaTopicMessages"), 1, "one request for the topic");

    let runbook = "name: purge\ncluster: tencent\nsteps:\n  - id: purge\n    purge_messages: { topic: any, before: { offset: 1 } }\n";
    let refused = clouds.ebb(runbook, &["plan", "rb.yaml"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("has no action that deletes messages"), "{}", refused.stderr);
    assert_eq!(clouds.ckafka.log.calls.lock().unwrap().len(), 0, "refused before any call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_a_clear_authentication_error_tried_once_and_never_shown() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = poisoned(&seeder).await;
    let clouds = Clouds::start();
    let wrong = "wrong-secret-0f3a9c";
    for (cluster, code) in [("tencent", "AuthFailure.SignatureFailure"), ("huawei", "APIGW.0301")] {
        let runbook = format!(
            "name: q\ncluster: {cluster}\nsteps:\n  - id: q\n    query_messages: {{ topic: {topic}, last: 1 }}\n"
        );
        let out = clouds.ebb_with_keys(&runbook, &["plan", "rb.yaml"], wrong, wrong).never_shows(wrong);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(code) && out.stderr.contains("request id emulated-0"), "{}", out.stderr);
    }
    assert_eq!(clouds.ckafka.log.count("rejected"), 1, "no retry storm");
    assert_eq!(clouds.dms.log.count("rejected"), 1, "no retry storm");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_fails_within_the_timeout_naming_the_action() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for (cluster, action) in [("tencent", "DescribeTopicSyncReplica failed"), ("huawei", "ListTopicPartitions failed")]
    {
        let runbook =
            format!("name: q\ncluster: {cluster}\nsteps:\n  - id: q\n    query_messages: {{ topic: t, last: 1 }}\n");
        let started = Instant::now();
        let out = Ebb::new()
            .config(&clouds_config(&closed, &closed, "2s"))
            .env("EBB_TEST_TC_KEY", "k")
            .env("EBB_TEST_HW_SK", "k")
            .file("rb.yaml", &runbook)
            .args(["plan", "rb.yaml"])
            .run();
        assert!(started.elapsed() < Duration::from_secs(15), "{cluster} took {:?}", started.elapsed());
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(action), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_of_unexpected_shape_is_an_error_naming_the_action() {
    let odd = |_| {
        axum::Router::new().fallback(|| async {
            axum::Json(serde_json::json!({ "Response": { "Result": "surprise", "RequestId": "r" }, "partitions": 7 }))
        })
    };
    let (ckafka, dms) = (EmulatorServer::start(odd), EmulatorServer::start(odd));
    for (cluster, action) in [
        ("tencent", "DescribeTopicSyncReplica failed: unexpected answer from the CKafka API"),
        ("huawei", "ListTopicPartitions failed: unexpected answer from the DMS API"),
    ] {
        let runbook =
            format!("name: q\ncluster: {cluster}\nsteps:\n  - id: q\n    query_messages: {{ topic: t, last: 1 }}\n");
        let out = Ebb::new()
            .config(&clouds_config(&ckafka.url, &dms.url, "5s"))
            .env("EBB_TEST_TC_KEY", "k")
            .env("EBB_TEST_HW_SK", "k")
            .file("rb.yaml", &runbook)
            .args(["plan", "rb.yaml"])
            .run();
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(action), "{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_describe_reports_the_same_through_kafka_ckafka_and_dms() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = poisoned(&seeder).await;
    seeder.delete_records(&topic, 1, 3).await;
    let group = unique("described");
    seeder.commit(&group, &[(&topic, 0, 7)]).await;
    let clouds = Clouds::start();
    let summary = |json: &Value| {
        let partitions: Vec<(i64, i64)> = json["topics"][0]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["log_start"].as_i64().unwrap(), p["log_end"].as_i64().unwrap()))
            .collect();
        let g = &json["groups"][0];
        (partitions, g["state"].clone(), g["offsets"].clone())
    };
    let mut reports = Vec::new();
    for cluster in CLUSTERS {
        let args =
            ["cluster", "describe", "--cluster", cluster, "--topic", &topic, "--group", &group, "--output", "json"];
        reports.push(summary(&clouds.ebb("", &args).success().json()));
        let unknown = clouds.ebb("", &["cluster", "describe", "--cluster", cluster, "--topic", "no-such-topic-e2"]);
        assert_ne!(unknown.code, 0);
        assert!(unknown.stderr.contains("topic \"no-such-topic-e2\" does not exist"), "{cluster}: {}", unknown.stderr);
    }
    assert_eq!(reports[0].0, vec![(0, 12), (3, 12)]);
    assert_eq!(reports[0].1, "Empty");
    assert_eq!(reports[0].2[0]["lag"], 5);
    assert_eq!(reports[1], reports[0], "ckafka");
    assert_eq!(reports[2], reports[0], "dms");
}
