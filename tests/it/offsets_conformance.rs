//! `compute_offsets` against Apache Kafka's own `kafka-consumer-groups
//! --reset-offsets --dry-run`: for every strategy both have, over every scope
//! (the group's committed partitions, a whole topic, a partition subset,
//! several topics), on one cluster state that has partitions without commits,
//! a log start raised by DeleteRecords, an empty partition, and commits that
//! fall outside the log on both sides — the targets must be equal.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ebb::provider::kafka::KafkaProvider;
use ebb::steps::compute_offsets::{ComputeError, ComputeOffsets, Targeting};
use ebb_testkit::{Seeder, apache, shared_cluster, unique};

const MINUTE: i64 = 60_000;

struct State {
    group: String,
    a: String,
    b: String,
    empty: String,
    /// Timestamp of message 0 in every partition of `a` and `b`; message k is k minutes later.
    base: i64,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Topic a: 3 partitions × 100 messages, a minute apart; a-1's log start raised
/// to 30. Topic b: 2 × 40. Topic `empty`: 2 partitions, no messages.
/// Commits: a-0 at 50, a-1 at 10 (now below log start), b-0 at 20,
/// b-1 at 40 (log end), empty-0 at 0; a-2 has none.
async fn build_state() -> State {
    let cluster = shared_cluster();
    let seeder = Seeder::new(&cluster.bootstrap);
    let (a, b, empty, group) = (unique("conf-a"), unique("conf-b"), unique("conf-empty"), unique("conf-group"));
    seeder.create_topic(&a, 3).await;
    seeder.create_topic(&b, 2).await;
    seeder.create_topic(&empty, 2).await;
    // Message 60 lands 30 s after "now − 2h" at seeding: `by_duration: 2h` finds it
    // for both tools as long as they run within 30 s of seeding.
    let base = (now_ms() - 3 * 60 * MINUTE + MINUTE / 2) / 1000 * 1000;
    for p in 0..3 {
        seeder.produce_sequence(&a, p, 100, "a", base, MINUTE).await;
    }
    for p in 0..2 {
        seeder.produce_sequence(&b, p, 40, "b", base, MINUTE).await;
    }
    seeder.commit(&group, &[(&a, 0, 50), (&a, 1, 10), (&b, 0, 20), (&b, 1, 40), (&empty, 0, 0)]).await;
    seeder.delete_records(&a, 1, 30).await;
    State { group, a, b, empty, base }
}

fn provider() -> KafkaProvider {
    KafkaProvider::connect("conformance", &shared_cluster().config()).expect("provider")
}

/// A scope as ebb writes it and as Apache's flags write it.
struct Scope {
    name: &'static str,
    topics: Option<Vec<String>>,
    partitions: Option<Vec<i32>>,
    apache: Vec<String>,
}

fn scopes(s: &State) -> Vec<Scope> {
    vec![
        Scope { name: "committed partitions", topics: None, partitions: None, apache: vec!["--all-topics".into()] },
        Scope {
            name: "whole topic",
            topics: Some(vec![s.a.clone()]),
            partitions: None,
            apache: vec!["--topic".into(), s.a.clone()],
        },
        Scope {
            name: "partition subset",
            topics: Some(vec![s.a.clone()]),
            partitions: Some(vec![1, 2]),
            apache: vec!["--topic".into(), format!("{}:1,2", s.a)],
        },
        Scope {
            name: "several topics",
            topics: Some(vec![s.a.clone(), s.b.clone(), s.empty.clone()]),
            partitions: None,
            apache: vec![
                "--topic".into(),
                s.a.clone(),
                "--topic".into(),
                s.b.clone(),
                "--topic".into(),
                s.empty.clone(),
            ],
        },
    ]
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

async fn ebb_targets(
    s: &State,
    scope: &Scope,
    targeting: Targeting,
) -> Result<BTreeMap<(String, i32), i64>, ComputeError> {
    let step = ComputeOffsets {
        group: s.group.clone(),
        topics: scope.topics.clone(),
        partitions: scope.partitions.clone(),
        targeting,
    };
    let output = step.run(&provider()).await?;
    Ok(output.partitions.into_iter().map(|p| ((p.topic, p.partition), p.target)).collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_equal_apache_for_every_shared_strategy_and_scope() {
    let s = build_state().await;
    let bootstrap = &shared_cluster().bootstrap;
    let at = s.base + 45 * MINUTE + MINUTE / 2;
    let strategies: Vec<(&str, Targeting, Vec<String>)> = vec![
        ("to_earliest", Targeting::Earliest, vec!["--to-earliest".into()]),
        ("to_latest", Targeting::Latest, vec!["--to-latest".into()]),
        ("to_current", Targeting::Current, vec!["--to-current".into()]),
        ("to_offset inside", Targeting::Offset(35), vec!["--to-offset".into(), "35".into()]),
        ("to_offset below log start", Targeting::Offset(5), vec!["--to-offset".into(), "5".into()]),
        ("to_offset past log end", Targeting::Offset(1000), vec!["--to-offset".into(), "1000".into()]),
        ("to_datetime", Targeting::Time(at), vec!["--to-datetime".into(), iso(at)]),
        (
            "to_datetime after every message",
            Targeting::Time(now_ms() - 1000),
            vec!["--to-datetime".into(), iso(now_ms() - 1000)],
        ),
    ];
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for scope in scopes(&s) {
        for (name, targeting, flags) in &strategies {
            let apache_scope: Vec<&str> = scope.apache.iter().map(String::as_str).collect();
            let apache_flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let theirs = apache::reset_offsets(bootstrap, &s.group, &apache_scope, &apache_flags, false)
                .unwrap_or_else(|out| panic!("Apache failed for {name} over {}:\n{out}", scope.name));
            let ours = ebb_targets(&s, &scope, targeting.clone()).await.expect("ebb computes");
            compared += 1;
            if ours != theirs {
                mismatches.push(format!("{name} over {}:\n  ebb:    {ours:?}\n  apache: {theirs:?}", scope.name));
            }
        }
    }
    // by_duration: a duration that puts "now − D" half a minute after message 60,
    // worked out just before each pair of runs so both tools land in the same gap.
    for scope in scopes(&s) {
        let seconds = (now_ms() - (s.base + 60 * MINUTE + MINUTE / 2)) / 1000;
        let apache_scope: Vec<&str> = scope.apache.iter().map(String::as_str).collect();
        let theirs = apache::reset_offsets(
            bootstrap,
            &s.group,
            &apache_scope,
            &["--by-duration", &format!("PT{seconds}S")],
            false,
        )
        .unwrap_or_else(|out| panic!("Apache failed for by_duration over {}:\n{out}", scope.name));
        let ours = ebb_targets(&s, &scope, Targeting::Time(now_ms() - seconds * 1000)).await.expect("ebb computes");
        compared += 1;
        if ours != theirs {
            mismatches.push(format!("by_duration over {}:\n  ebb:    {ours:?}\n  apache: {theirs:?}", scope.name));
        }
    }
    assert_eq!(compared, 36);
    assert!(mismatches.is_empty(), "{} of {compared} differ:\n{}", mismatches.len(), mismatches.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn shift_by_equals_apache_where_every_partition_has_a_commit_and_fails_like_it_where_one_has_none() {
    let s = build_state().await;
    let bootstrap = &shared_cluster().bootstrap;
    let committed = &scopes(&s)[0];
    for shift in ["15", "-25", "500", "-500"] {
        let theirs = apache::reset_offsets(bootstrap, &s.group, &["--all-topics"], &["--shift-by", shift], false)
            .unwrap_or_else(|out| panic!("Apache failed for shift {shift}:\n{out}"));
        let ours = ebb_targets(&s, committed, Targeting::Shift(shift.parse().unwrap())).await.expect("ebb computes");
        assert_eq!(ours, theirs, "shift_by {shift}");
    }
    // a-2 has no committed offset: Apache refuses, and so does ebb, naming the partition.
    let whole_topic = &scopes(&s)[1];
    let apache = apache::reset_offsets(bootstrap, &s.group, &["--topic", &s.a], &["--shift-by", "1"], false);
    assert!(apache.is_err(), "Apache should refuse a shift without a committed offset: {apache:?}");
    let err = ebb_targets(&s, whole_topic, Targeting::Shift(1)).await.unwrap_err().to_string();
    assert!(err.contains(&format!("has none on {}-2", s.a)), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn from_file_equals_apache_on_a_file_apache_exported() {
    let s = build_state().await;
    let bootstrap = &shared_cluster().bootstrap;
    // Apache writes the file (a plan to move every committed partition to 35, clamped as it clamps).
    let out = apache::run(
        "consumer-groups",
        &[
            "--bootstrap-server",
            bootstrap,
            "--reset-offsets",
            "--group",
            &s.group,
            "--all-topics",
            "--to-offset",
            "35",
            "--dry-run",
            "--export",
        ],
    );
    // Apache quotes some topic names in its export ("name",0,12): ebb reads both.
    let csv: String = out.lines().filter(|l| l.matches(',').count() >= 2).map(|l| format!("{l}\n")).collect();
    assert!(csv.lines().count() >= 4, "an exported plan:\n{out}");
    // Edit one row to fall outside the log on purpose: 5 on a-1, whose log starts at 30.
    let csv = csv
        .lines()
        .map(|l| {
            if l.trim_start_matches('"').starts_with(s.a.as_str()) && l.contains(",1,") {
                format!("{},1,5", s.a)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = std::env::temp_dir().join(format!("{}.csv", s.group));
    std::fs::write(&path, &csv).unwrap();

    let theirs =
        apache::reset_offsets(bootstrap, &s.group, &["--all-topics"], &["--from-file", path.to_str().unwrap()], false)
            .unwrap_or_else(|out| panic!("Apache failed for from-file:\n{out}"));
    let given = ebb::steps::compute_offsets::offsets_file::parse_offsets_file(&csv, &s.group).unwrap();
    let ours = ebb_targets(&s, &scopes(&s)[0], Targeting::Given(given))
        .await
        .unwrap_or_else(|e| panic!("ebb computes: {e}\ncsv: {csv:?}\nexport: {out:?}"));
    let _ = std::fs::remove_file(&path);
    assert_eq!(ours, theirs);
}
