//! The everyday jobs of the README's "Everyday jobs" section, each as the
//! README writes it, on the real broker: replay 30 minutes, find and export
//! messages, purge what every group consumed and what is older than a day,
//! copy a group's offsets to a new group, skip a poison message and undo it,
//! and schedule a nightly purge and trigger it. Where Apache's tool does the
//! same, its answer is the oracle.

use std::collections::BTreeMap;

use ebb_testkit::{Record, Seeder, apache, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_keeping_history, now_ms};
use crate::daemon_support::DaemonWorkspace;

const MINUTE: i64 = 60_000;

async fn committed(group: &str) -> BTreeMap<(String, i32), i64> {
    Seeder::new(&shared_cluster().bootstrap).committed(group).await
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_export_purge_and_copy_are_one_command_each() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let data = tempfile::tempdir().unwrap();
    let ebb = || Ebb::new().config(&config_keeping_history(bootstrap, data.path()));
    let topic = unique("jobs-t");
    seeder.create_topic(&topic, 2).await;
    // Two days of history: a record an hour for 48 hours, then one a minute for the last hour.
    let old: Vec<Record> =
        (0..48).map(|i| Record::value(format!("old-{i}")).at(now_ms() - (50 - i) * 60 * MINUTE)).collect();
    for p in 0..2 {
        seeder.produce(&topic, p, old.clone()).await;
        seeder.produce_sequence(&topic, p, 60, &format!("order-{p}"), now_ms() - 60 * MINUTE, MINUTE).await;
    }
    let (billing, twin, copy) = (unique("jobs-billing"), unique("jobs-twin"), unique("jobs-copy"));
    for group in [&billing, &twin] {
        seeder.commit(group, &[(&topic, 0, 100), (&topic, 1, 100)]).await;
    }

    // Replay the last 30 minutes (to a fixed time, so Apache's answer is the same).
    let at = chrono::DateTime::from_timestamp_millis((now_ms() - 30 * MINUTE) / 1000 * 1000).unwrap();
    let ebb_time = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let apache_time = at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    ebb().args(["reset", &billing, "--topic", &topic, "--to-datetime", &ebb_time, "--yes"]).run().success();
    apache::reset_offsets(bootstrap, &twin, &["--topic", &topic], &["--to-datetime", &apache_time], true).unwrap();
    assert_eq!(committed(&billing).await, committed(&twin).await, "replay equals Apache's");

    // Find and export messages.
    let found = ebb().args(["query", &topic, "--contains", "order-1-5", "--download", "found.jsonl"]).run().success();
    assert!(found.stdout.contains("downloaded 11 record(s)"), "{}", found.stdout);

    // Copy a group's offsets to a new group.
    ebb().args(["reset", &copy, "--topic", &topic, "--from-group", &billing, "--yes"]).run().success();
    assert_eq!(
        committed(&copy).await.values().collect::<Vec<_>>(),
        committed(&billing).await.values().collect::<Vec<_>>()
    );

    // Purge what is older than a day, then what every group has consumed.
    ebb().args(["purge", &topic, "--older-than", "1d", "--yes"]).run().success();
    // Record i of the old ones is 50 - i hours old: 0 … 26 are older than a day by now.
    assert_eq!(apache::get_offsets(bootstrap, &topic, "-2"), BTreeMap::from([(0, 27), (1, 27)]), "older than a day");
    ebb().args(["purge", &topic, "--everything", "--yes"]).run().success();
    // Every group (billing, its twin, the copy) is where the replay put billing.
    let consumed: BTreeMap<i32, i64> = committed(&billing).await.into_iter().map(|((_, p), o)| (p, o)).collect();
    assert!(consumed.values().all(|o| (70..90).contains(o)), "{consumed:?}");
    assert_eq!(apache::get_offsets(bootstrap, &topic, "-2"), consumed, "what every group consumed");
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_a_poison_message_then_undo_it() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let (topic, group) = (unique("jobs-poison-t"), unique("jobs-poison-g"));
    seeder.create_topic(&topic, 1).await;
    let values = (0..10).map(|i| if i == 4 { "POISON".to_owned() } else { format!("order-{i}") });
    seeder.produce(&topic, 0, values.map(|v| Record::value(v).at(now_ms() - MINUTE))).await;
    seeder.commit(&group, &[(&topic, 0, 4)]).await;
    let data = tempfile::tempdir().unwrap();
    let config = format!(
        "{}notify:\n  ops-chat: {{ webhook: {{ url: \"http://127.0.0.1:9/x\" }} }}\n",
        config_keeping_history(bootstrap, data.path())
    );
    let example = ebb_testkit::repo_root().join("runbooks/skip-poison-orders.yaml");
    let run = Ebb::new()
        .config(&config)
        .args(["run", example.to_str().unwrap(), "--yes", "--output", "json"])
        .args(["--set", &format!("topic={topic}"), "--set", &format!("group={group}")])
        .run()
        .success();
    assert_eq!(committed(&group).await.get(&(topic.clone(), 0)), Some(&5), "past the poison only");
    let run_id = run.json()["plan"]["run_id"].as_str().unwrap().to_owned();
    Ebb::new().config(&config).args(["rollback", &run_id, "--yes"]).run().success();
    assert_eq!(committed(&group).await.get(&(topic.clone(), 0)), Some(&4), "undone");
}

#[tokio::test(flavor = "multi_thread")]
async fn schedule_a_nightly_purge_and_trigger_it() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let (topic, group) = (unique("jobs-nightly-t"), unique("jobs-nightly-g"));
    seeder.create_topic(&topic, 1).await;
    seeder.produce_everywhere(&topic, 1, 20, "m").await;
    seeder.commit(&group, &[(&topic, 0, 12)]).await;
    let ws = DaemonWorkspace::new("notify:\n  ops-chat: { webhook: { url: \"http://127.0.0.1:9/x\" } }\n");
    let nightly = std::fs::read_to_string(ebb_testkit::repo_root().join("runbooks/nightly-purge-orders.yaml")).unwrap();
    ws.runbook("nightly-purge-orders.yaml", &nightly.replace("default: orders", &format!("default: {topic}")));
    let _daemon = ws.start();
    let listed = ws.ebb(["runbooks"]).success();
    assert!(listed.stdout.contains("nightly-purge-orders") && listed.stdout.contains("30 2 * * * Europe/Berlin"));
    let run = ws.ebb(["trigger", "nightly-purge-orders", "--wait", "--output", "json"]).success().json();
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(apache::get_offsets(bootstrap, &topic, "-2"), BTreeMap::from([(0, 12)]), "what the group consumed");
}
