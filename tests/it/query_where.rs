//! `where:` filters (CEL) and `contains_in` in `query_messages` and `ebb
//! query`, against the real broker: JSON values and headers matched by an
//! expression, records it cannot be evaluated on counted as no match, a
//! keyword looked for in the key or the value only, and expressions that
//! cannot work refused at validation with their line and column.

use ebb_testkit::{Record, Seeder, shared_cluster, unique};

use crate::cli_harness::{Ebb, config_for};

/// 40 records in one partition: values `{"amount": i, "id": "order-i"}` for
/// i in 0..39, the header `source: legacy` on every third, keys `k-i`; and
/// record 39 a value that is not JSON.
async fn seeded() -> String {
    let seeder = Seeder::new(&shared_cluster().bootstrap);
    let topic = unique("where");
    seeder.create_topic(&topic, 1).await;
    let records = (0..40).map(|i| {
        let value =
            if i == 39 { "not json at all".to_owned() } else { format!(r#"{{"amount": {i}, "id": "order-{i}"}}"#) };
        let record = Record::value(value).key(format!("k-{i}"));
        if i % 3 == 0 { record.header("source", "legacy") } else { record.header("source", "new") }
    });
    seeder.produce(&topic, 0, records).await;
    topic
}

fn query(topic: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["query", topic, "--output", "json"];
    args.extend(extra);
    let out = Ebb::new().config(&config_for(&shared_cluster().bootstrap)).args(args).run().success();
    out.json()
}

fn offsets(output: &serde_json::Value) -> Vec<i64> {
    let messages = output["query"]["messages"].as_array().cloned().unwrap_or_default();
    messages.iter().map(|m| m["offset"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cel_expression_matches_json_fields_and_headers() {
    let topic = seeded().await;
    let found = query(&topic, &["--where", r#"json.amount >= 20 && headers["source"] == "legacy""#]);
    assert_eq!(offsets(&found), [21, 24, 27, 30, 33, 36], "{found}");
    let output = &found["query"];
    assert_eq!(output["count"], 6);
    // Record 39 is not JSON: `json` is null there, and `json.amount` cannot be evaluated.
    assert_eq!(output["where_errors"], 1, "{output}");
    assert!(output["first_where_error"].as_str().unwrap().contains(&format!("{topic}:0 at offset 39")), "{output}");
    let table = Ebb::new()
        .config(&config_for(&shared_cluster().bootstrap))
        .args(["query", &topic, "--where", "json.amount == 5"])
        .run()
        .success();
    let said = format!("{}{}", table.stdout, table.stderr);
    assert!(said.contains("where: 1 record(s) could not be evaluated and count as no match"), "{said}");

    let guarded = query(&topic, &["--where", r#"json != null && json.id.endsWith("-7") || key == "k-39""#]);
    assert_eq!(offsets(&guarded), [7, 39]);
    assert!(guarded["query"]["where_errors"].is_null(), "no record fails: {guarded}");
    let by_position = query(
        &topic,
        &["--where", "offset % 10 == 0 && partition == 0 && timestamp > timestamp(\"2020-01-01T00:00:00Z\")"],
    );
    assert_eq!(offsets(&by_position), [0, 10, 20, 30]);
}

#[tokio::test(flavor = "multi_thread")]
async fn contains_in_looks_in_the_key_or_the_value_only() {
    let topic = seeded().await;
    // "-3" is in key k-3 and in value order-3 (and in k-30… for the prefix).
    let both = offsets(&query(&topic, &["--contains=-3", "--last", "40"]));
    let in_key = offsets(&query(&topic, &["--contains", "k-3", "--contains-in", "key", "--last", "40"]));
    let in_value = offsets(&query(&topic, &["--contains", "k-3", "--contains-in", "value", "--last", "40"]));
    assert!(both.contains(&3), "{both:?}");
    assert_eq!(in_key, [3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    assert!(in_value.is_empty(), "no value holds a key: {in_value:?}");
}

#[test]
fn an_expression_that_cannot_work_is_refused_where_it_is_written() {
    let runbook = "name: w\ncluster: local\nsteps:\n  - id: find\n    query_messages:\n      topic: orders\n      from: -1h\n      where: 'partition == \"2\"'\n";
    let out = Ebb::new()
        .config(&config_for("127.0.0.1:9"))
        .file("w.yaml", runbook)
        .args(["validate", "w.yaml"])
        .run()
        .code(1);
    assert!(
        out.stdout.contains(
            "w.yaml:8:14: step `find`: where: `partition == \"2\"`: `==` and `!=` cannot take int and string"
        ),
        "{}",
        out.stdout
    );
    let unknown = runbook.replace(r#"'partition == "2"'"#, "'amount > 5'");
    let out = Ebb::new()
        .config(&config_for("127.0.0.1:9"))
        .file("w.yaml", &unknown)
        .args(["validate", "w.yaml"])
        .run()
        .code(1);
    assert!(out.stdout.contains("unknown variable `amount`"), "{}", out.stdout);
}
