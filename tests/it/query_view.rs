//! Plans show what queries found: the count, records read, each partition's
//! first and last match, and the kept messages as a table — times in UTC or
//! `--tz`, values cut to the width, control characters escaped, binary named
//! — in `ebb query`, `ebb plan` and `ebb show`, and on a real terminal no
//! escape sequence from a message gets through.

use ebb_testkit::{Record, Seeder, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_for, on_a_terminal};

/// A topic whose partition 0 holds two matches between plain records: one
/// with a terminal escape and markup in its value, one binary.
async fn hostile_topic() -> String {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("qv");
    seeder.create_topic(&topic, 2).await;
    let at = 1_765_000_000_000; // 2025-12-06T05:46:40Z
    let records = vec![
        Record::value("plain").at(at),
        Record::value(format!("NEEDLE \u{1b}[2J<script>alert(1)</script> {}", "x".repeat(300)))
            .key("k\u{7}1")
            .at(at + 1_000),
        Record::value("plain").at(at + 2_000),
        Record::value(b"NEEDLE\xff\xfe\x00binary").at(at + 3_000),
    ];
    seeder.produce(&topic, 0, records).await;
    seeder.produce(&topic, 1, vec![Record::value("plain").at(at)]).await;
    topic
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_plan_shows_its_matches_as_a_table() {
    let topic = hostile_topic().await;
    let config = config_for(&shared_cluster().bootstrap);
    let shown = Ebb::new()
        .config(&config)
        .env("COLUMNS", "100")
        .args(["--tz", "Asia/Tokyo", "query", &topic, "--contains", "NEEDLE"])
        .run()
        .success();
    let out = &shown.stdout;
    assert!(out.contains("2 match(es) in 5 record(s) read, 2 shown"), "{out}");
    assert!(out.contains("PARTITION  MATCHES  FIRST-MATCH  LAST-MATCH"), "{out}");
    assert!(out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["0", "2", "1", "3"]), "{out}");
    assert!(out.contains("2025-12-06T14:46:41.000+09:00"), "times in --tz: {out}");
    assert!(out.contains("k\\u{7}1") && out.contains("\\u{1b}[2J<script>"), "escaped: {out}");
    assert!(out.contains("(binary, 15 bytes)"), "binary named: {out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "no control character reaches the screen");
    let table_lines: Vec<&str> = out.lines().filter(|l| l.contains("NEEDLE")).collect();
    assert!(!table_lines.is_empty() && table_lines.iter().all(|l| l.chars().count() <= 100), "cut to 100: {out}");

    // The same table in a runbook's plan, and again from history.
    let runbook = format!(
        "name: find\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: {topic}\n      from: 0\n      contains: NEEDLE\n"
    );
    let data = tempfile::tempdir().unwrap();
    let keeping = crate::cli_harness::config_keeping_history(&shared_cluster().bootstrap, data.path());
    let planned = Ebb::new().config(&keeping).file("find.yaml", &runbook).args(["plan", "find.yaml"]).run().success();
    assert!(planned.stdout.contains("FIRST-MATCH") && planned.stdout.contains("kept messages"), "{}", planned.stdout);
    assert!(planned.stdout.contains("2025-12-06T05:46:41.000Z"), "UTC by default: {}", planned.stdout);
    let history = Ebb::new().config(&keeping).args(["history", "--output", "json"]).run().success();
    let run_id = history.json()["runs"][0]["id"].as_str().unwrap().to_owned();
    let again = Ebb::new().config(&keeping).args(["show", &run_id]).run().success();
    assert!(again.stdout.contains("kept messages") && again.stdout.contains("(binary, 15 bytes)"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_no_escape_sequence_from_a_message_gets_through() {
    let topic = hostile_topic().await;
    let (code, screen) =
        on_a_terminal(&shared_cluster().bootstrap, "", &format!("query {topic} --contains NEEDLE"), "");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("kept messages"), "{screen}");
    assert!(!screen.contains("\u{1b}[2J") && !screen.contains('\u{7}'), "{screen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_says_where_it_wrote_and_how_many() {
    let topic = hostile_topic().await;
    let config = config_for(&shared_cluster().bootstrap);
    let shown = Ebb::new()
        .config(&config)
        .args(["query", &topic, "--contains", "NEEDLE", "--download", "found.jsonl"])
        .run()
        .success();
    assert!(shown.stdout.contains("downloaded 2 record(s) to "), "{}", shown.stdout);
    assert!(shown.stdout.contains("found.jsonl"), "{}", shown.stdout);
}
