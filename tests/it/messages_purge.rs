//! `purge_messages` through the CLI against the real broker: protection caps
//! (and blocks where a protecting group has no commit), every `before` mode
//! against Apache's own offsets, `allow_unconsumed`, `max_delete`, the log starts
//! after `ebb run` equal to Apache's `kafka-delete-records` on a twin topic,
//! bad input that changes nothing, an apply refused when a group rewound after
//! the plan, and one DeleteRecords per partition leader on three brokers.

use std::collections::BTreeMap;

use ebb_testkit::{Record, Seeder, apache, shared_cluster, shared_three_broker_cluster, unique};
use serde_json::Value;

use crate::cli_harness::{Ebb, Outcome, config_for, now_ms};

const MINUTE: i64 = 60_000;

/// A topic of `partitions` × 50 records, a minute apart, ending about 10 minutes ago.
async fn seeded(seeder: &Seeder, name: &str, partitions: i32) -> (String, i64) {
    let topic = unique(name);
    seeder.create_topic(&topic, partitions).await;
    let base = (now_ms() - 60 * MINUTE) / 1000 * 1000;
    for p in 0..partitions {
        seeder.produce_sequence(&topic, p, 50, "m", base, MINUTE).await;
    }
    (topic, base)
}

fn purge(topic: &str, fields: &str) -> String {
    format!("name: p\ncluster: local\nsteps:\n  - id: purge\n    purge_messages:\n      topic: {topic}\n{fields}\n")
}

fn ebb_on(bootstrap: &str, runbook: &str, args: &[&str]) -> Outcome {
    Ebb::new().config(&config_for(bootstrap)).file("rb.yaml", runbook).args(args.iter().copied()).run()
}

fn ebb(runbook: &str, args: &[&str]) -> Outcome {
    ebb_on(&shared_cluster().bootstrap, runbook, args)
}

/// The planned rows, deleting or not, by partition: (new_log_start, deleted, capped_by).
fn rows(plan: &Value) -> BTreeMap<i64, (i64, i64, Option<String>)> {
    let step = &plan["steps"][0];
    ["changes", "untouched"]
        .iter()
        .flat_map(|list| step[*list].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                (
                    r["new_log_start"].as_i64().unwrap(),
                    r["deleted"].as_i64().unwrap(),
                    r["capped_by"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

fn log_starts(topic: &str) -> BTreeMap<i32, i64> {
    apache::get_offsets(&shared_cluster().bootstrap, topic, "-2")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_purge_stops_where_every_group_has_consumed_and_matches_apache_on_a_twin() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let (topic, _) = seeded(&seeder, "purge", 3).await;
    let (twin, _) = seeded(&seeder, "purge-twin", 3).await;
    let (billing, audit) = (unique("billing"), unique("audit"));
    // billing has read 30 of p0 and 10 of p1; audit 20 of p0 and 40 of p1; nobody has a commit on p2.
    seeder.commit(&billing, &[(&topic, 0, 30), (&topic, 1, 10)]).await;
    seeder.commit(&audit, &[(&topic, 0, 20), (&topic, 1, 40)]).await;

    let runbook = purge(&topic, "      before: { offset: 25 }");
    let table = ebb(&runbook, &["plan", "rb.yaml"]).success();
    for text in ["PARTITION", "NEW-LOG-START", "CAPPED-BY", "IRREVERSIBLE", "delete 30 record(s)"] {
        assert!(table.stdout.contains(text), "{text}:\n{}", table.stdout);
    }
    let plan = ebb(&runbook, &["plan", "rb.yaml", "--output", "json"]).success().json();
    let step = &plan["steps"][0];
    assert_eq!(step["kind"], "purge_messages");
    assert_eq!(step["irreversible"], true);
    assert_eq!(step["total_deleted"], 30);
    let planned = rows(&plan);
    assert_eq!(planned[&0], (20, 20, Some(audit.clone())), "capped by the lower of the two groups");
    assert_eq!(planned[&1], (10, 10, Some(billing.clone())));
    assert_eq!(planned[&2], (0, 0, Some(audit.clone())), "no commit on p2 blocks it");
    let blocked = step["untouched"][0]["note"].as_str().unwrap();
    assert!(blocked.contains(&billing) && blocked.contains("no committed offset"), "{blocked}");
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 0), (1, 0), (2, 0)]), "a plan deletes nothing");

    let applied = ebb(&runbook, &["run", "rb.yaml", "--yes", "--output", "json"]).success().json();
    let results = applied["applied"]["steps"][0]["purge"]["results"].as_array().unwrap();
    let outcome: Vec<(i64, String, i64)> = results
        .iter()
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["deleted"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcome, vec![(0, "deleted".into(), 20), (1, "deleted".into(), 10)]);

    // Apache's kafka-delete-records, given the same offsets, on a twin topic.
    let dir = std::env::temp_dir().join(unique("delete-records"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("offsets.json");
    let offsets = serde_json::json!({"version": 1, "partitions": [
        {"topic": twin, "partition": 0, "offset": 20}, {"topic": twin, "partition": 1, "offset": 10}]});
    std::fs::write(&file, offsets.to_string()).unwrap();
    apache::run("delete-records", &["--bootstrap-server", bootstrap, "--offset-json-file", file.to_str().unwrap()]);
    assert_eq!(log_starts(&topic), log_starts(&twin));
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 20), (1, 10), (2, 0)]));

    // Run again: nothing left to delete.
    let again = ebb(&runbook, &["plan", "rb.yaml", "--output", "json", "--detailed-exitcode"]).code(0).json();
    assert_eq!(again["steps"][0]["total_deleted"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_before_mode_lands_where_apache_says() {
    let bootstrap = &shared_cluster().bootstrap;
    let seeder = Seeder::new(bootstrap);
    let (topic, base) = seeded(&seeder, "before", 2).await;
    let group = unique("reader");
    seeder.commit(&group, &[(&topic, 0, 35)]).await;
    let plan = |before: &str, protect: &str| {
        let fields = format!("      before: {before}\n      protect_groups: {protect}");
        rows(&ebb(&purge(&topic, &fields), &["plan", "rb.yaml", "--output", "json"]).success().json())
    };
    let new_starts = |rows: BTreeMap<i64, (i64, i64, Option<String>)>| -> Vec<i64> {
        rows.into_values().map(|(start, _, _)| start).collect()
    };

    // older_than and datetime: the first record at or after the time, as Apache's GetOffsetShell finds it.
    let cut = base + 12 * MINUTE + MINUTE / 2;
    let by_apache: Vec<i64> = apache::get_offsets(bootstrap, &topic, &cut.to_string()).into_values().collect();
    assert_eq!(by_apache, vec![13, 13]);
    let at = chrono::DateTime::from_timestamp_millis(cut).unwrap().to_rfc3339();
    assert_eq!(new_starts(plan(&format!("{{ datetime: \"{at}\" }}"), "none")), by_apache);
    let ago = (now_ms() - cut) / 1000;
    let older = new_starts(plan(&format!("{{ older_than: {ago}s }}"), "none"));
    assert!(older == by_apache || older == vec![14, 14], "the time moved on by at most a second: {older:?}");

    // offsets per partition (the seed delete API's shape), partitions not named are out of scope.
    let given = plan("{ offsets: { 1: 7 } }", "none");
    assert_eq!(given.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(given[&1], (7, 7, None));

    // committed_by: the group's offset; no commit on p1, so nothing there.
    let committed = plan(&format!("{{ committed_by: [{group}] }}"), "none");
    assert_eq!(committed[&0], (35, 35, None));
    assert_eq!(committed[&1], (0, 0, None));

    // high_watermark: everything, unless protected.
    assert_eq!(new_starts(plan("{ high_watermark: true }", "none")), vec![50, 50]);
    let protected = plan("{ high_watermark: true }", &format!("[{group}]"));
    assert_eq!(protected[&0], (35, 35, Some(group.clone())));
    assert_eq!(protected[&1], (0, 0, Some(group.clone())));

    // Apply one: the high watermark with no protection empties both partitions.
    let runbook = purge(&topic, "      before: { high_watermark: true }\n      protect_groups: none");
    ebb(&runbook, &["run", "rb.yaml", "--yes"]).success().stdout_contains("100 record(s) deleted and verified");
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 50), (1, 50)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_unconsumed_warns_and_max_delete_refuses() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, _) = seeded(&seeder, "unconsumed", 2).await;
    let group = unique("slow");
    seeder.commit(&group, &[(&topic, 0, 5), (&topic, 1, 5)]).await;

    let guarded = purge(&topic, "      before: { offset: 40 }\n      allow_unconsumed: true\n      max_delete: 50");
    let refused = ebb(&guarded, &["run", "rb.yaml", "--yes"]).code(3);
    assert!(
        refused.stderr.contains("would delete 80 record(s), above max_delete 50"),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 0), (1, 0)]), "a refusal deletes nothing");

    let runbook = purge(&topic, "      partitions: [0]\n      before: { offset: 40 }\n      allow_unconsumed: true");
    let planned = ebb(&runbook, &["plan", "rb.yaml"]).success();
    assert!(
        planned.stdout.contains(&format!("deletes records group \"{group}\" has not consumed on {topic}:0")),
        "{}",
        planned.stdout
    );
    ebb(&runbook, &["run", "rb.yaml", "--yes"]).success();
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 40), (1, 0)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_a_clear_error_and_deletes_nothing() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, _) = seeded(&seeder, "bad-purge", 2).await;
    let compacted = unique("compacted");
    seeder.create_topic_with(&compacted, 1, 1, &[("cleanup.policy", "compact")]).await;
    seeder.produce(&compacted, 0, (0..5).map(|i| Record::value("c").key(format!("k{i}")))).await;
    let missing = unique("missing");
    for (runbook, expected) in [
        (
            purge(&compacted, "      before: { offset: 2 }"),
            format!("topic {compacted:?} has cleanup.policy=compact: purge_messages needs `delete`"),
        ),
        (purge(&missing, "      before: { offset: 2 }"), format!("topic {missing:?} does not exist")),
        (
            purge(&topic, "      partitions: [0, 9]\n      before: { offset: 2 }"),
            format!("topic {topic:?} has no partition 9"),
        ),
        (purge(&topic, "      before: { offset: 70 }"), format!("offset 70 is past the log end of {topic}:0 (50)")),
        (
            purge(&topic, "      before: { offsets: { 0: 3, 1: 51 } }"),
            format!("offset 51 is past the log end of {topic}:1 (50)"),
        ),
        (purge(&topic, "      before: { offset: -4 }"), "offset -4 is negative".to_owned()),
        (
            purge(&topic, "      before: { committed_by: [nobody-by-this-name] }"),
            "group \"nobody-by-this-name\" has no committed offset".to_owned(),
        ),
    ] {
        let out = ebb(&runbook, &["run", "rb.yaml", "--yes"]);
        assert_eq!(out.code, 1, "{runbook}\n{}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(&expected), "{expected}\n{}{}", out.stdout, out.stderr);
    }
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 0), (1, 0)]));
    assert_eq!(log_starts(&compacted), BTreeMap::from([(0, 0)]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_that_rewound_after_the_plan_stops_the_apply_even_when_forced() {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let (topic, _) = seeded(&seeder, "rewound", 1).await;
    let group = unique("rewinder");
    seeder.commit(&group, &[(&topic, 0, 30)]).await;
    let dir = std::env::temp_dir().join(unique("purge-plan"));
    std::fs::create_dir_all(&dir).unwrap();
    let (rb, plan_file) = (dir.join("rb.yaml"), dir.join("purge.plan.json"));
    std::fs::write(&rb, purge(&topic, "      before: { high_watermark: true }")).unwrap();
    let (rb, plan_file) = (rb.to_str().unwrap(), plan_file.to_str().unwrap());
    let config = crate::cli_harness::config_keeping_history(&shared_cluster().bootstrap, &dir.join("history"));
    let saved = Ebb::new().config(&config).args(["plan", rb, "--out", plan_file, "--output", "json"]).run().success();
    assert_eq!(saved.json()["steps"][0]["changes"][0]["new_log_start"], 30);

    seeder.commit(&group, &[(&topic, 0, 12)]).await;
    for args in [vec!["apply", plan_file], vec!["apply", plan_file, "--force"]] {
        let out = Ebb::new().config(&config).args(args.clone()).run();
        assert_eq!(out.code, 3, "{args:?}\n{}{}", out.stdout, out.stderr);
        let expected = format!("group {group:?} is now at 12 on {topic}:0, below the planned new log start 30");
        assert!(out.stdout.contains(&expected), "{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("refused: step `purge`: the planned purge would now delete records not yet consumed")
        );
    }
    assert_eq!(log_starts(&topic), BTreeMap::from([(0, 0)]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_records_goes_once_to_each_partition_leader() {
    let cluster = shared_three_broker_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let topic = unique("leaders");
    seeder.create_topic(&topic, 6).await;
    for p in 0..6 {
        seeder.produce_sequence(&topic, p, 10, "l", now_ms() - MINUTE, 1).await;
    }
    let runbook = purge(&topic, "      before: { offset: 4 }\n      protect_groups: none");
    ebb_on(&cluster.bootstrap, &runbook, &["run", "rb.yaml", "--yes"]).success();
    let sent = cluster.requests_logged(21, &format!("\"name\":\"{topic}\""));
    assert_eq!(sent, BTreeMap::from([(1, 1), (2, 1), (3, 1)]), "one DeleteRecords per leader");
    let starts = apache::get_offsets(&cluster.bootstrap, &topic, "-2");
    assert_eq!(starts, (0..6).map(|p| (p, 4)).collect());
}
