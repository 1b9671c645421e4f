//! Apache Kafka's own command-line tools, run from the same jars as the test
//! broker, with their output parsed: the oracle ebb's results are compared to.

use std::collections::BTreeMap;
use std::process::Command;

use super::broker::repo_root;

/// Runs `scripts/kafka tool NAME ARGS…` and returns its standard output.
/// Panics with the tool's standard error when it exits non-zero.
pub fn run(tool: &str, args: &[&str]) -> String {
    let output = output_of(tool, args);
    assert!(
        output.status.success(),
        "Apache's {tool} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `kafka-get-offsets --topic T --time TIME`: partition → offset.
/// TIME is `-2` (earliest), `-1` (latest) or a timestamp in milliseconds.
pub fn get_offsets(bootstrap: &str, topic: &str, time: &str) -> BTreeMap<i32, i64> {
    let out = run("get-offsets", &["--bootstrap-server", bootstrap, "--topic", topic, "--time", time]);
    out.lines()
        .filter_map(|line| {
            let mut parts = line.trim().rsplitn(3, ':');
            let offset = parts.next()?.parse().ok()?;
            let partition = parts.next()?.parse().ok()?;
            (parts.next()? == topic).then_some((partition, offset))
        })
        .collect()
}

/// One row of `kafka-consumer-groups --describe --group G`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffsetRow {
    pub topic: String,
    pub partition: i32,
    /// `None` where the tool prints `-` (no committed offset).
    pub current: Option<i64>,
    pub log_end: Option<i64>,
    pub lag: Option<i64>,
}

/// Splits a table printed by Apache's tools into rows of named columns.
fn table(out: &str, first_header: &str) -> Vec<BTreeMap<String, String>> {
    let mut header: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in out.lines() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.first() == Some(&first_header) {
            header = cells.iter().map(|c| c.to_string()).collect();
            continue;
        }
        if header.is_empty() || cells.len() < header.len() {
            continue;
        }
        rows.push(header.iter().cloned().zip(cells.iter().map(|c| c.to_string())).collect());
    }
    rows
}

fn number(cell: Option<&String>) -> Option<i64> {
    cell.and_then(|c| c.parse().ok())
}

/// `kafka-consumer-groups --describe --group G --offsets`.
pub fn group_offsets(bootstrap: &str, group: &str) -> Vec<GroupOffsetRow> {
    let out = run("consumer-groups", &["--bootstrap-server", bootstrap, "--describe", "--group", group, "--offsets"]);
    let mut rows: Vec<GroupOffsetRow> = table(&out, "GROUP")
        .into_iter()
        .filter(|r| r.get("TOPIC").is_some_and(|t| t != "-"))
        .map(|r| GroupOffsetRow {
            topic: r["TOPIC"].clone(),
            partition: number(r.get("PARTITION")).unwrap_or(-1) as i32,
            current: number(r.get("CURRENT-OFFSET")),
            log_end: number(r.get("LOG-END-OFFSET")),
            lag: number(r.get("LAG")),
        })
        .collect();
    rows.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    rows
}

/// `kafka-consumer-groups --describe --group G --state`: (state, member count).
/// The COORDINATOR column contains a space, so state and count are read from the right.
pub fn group_state(bootstrap: &str, group: &str) -> (String, usize) {
    let out = run("consumer-groups", &["--bootstrap-server", bootstrap, "--describe", "--group", group, "--state"]);
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(group))
        .unwrap_or_else(|| panic!("no state line for {group} in:\n{out}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    let members = cells[cells.len() - 1].parse().expect("#MEMBERS");
    (cells[cells.len() - 2].to_owned(), members)
}

/// `kafka-consumer-groups --describe --group G --members`: (client id, host) per member.
pub fn group_members(bootstrap: &str, group: &str) -> Vec<(String, String)> {
    let out = run("consumer-groups", &["--bootstrap-server", bootstrap, "--describe", "--group", group, "--members"]);
    let mut members: Vec<(String, String)> = table(&out, "GROUP")
        .into_iter()
        .map(|r| (r["CLIENT-ID"].clone(), r["HOST"].trim_start_matches('/').to_owned()))
        .collect();
    members.sort();
    members
}

/// `kafka-consumer-groups --reset-offsets --group G SCOPE… STRATEGY… --dry-run`
/// (or `--execute`): (topic, partition) → new offset. `scope` is e.g.
/// `["--all-topics"]` or `["--topic", "t:0,2"]`; `strategy` e.g. `["--shift-by", "-5"]`.
/// Apache prints errors and still exits 0, so a run without a result table
/// returns `Err` with what it printed.
pub fn reset_offsets(
    bootstrap: &str,
    group: &str,
    scope: &[&str],
    strategy: &[&str],
    execute: bool,
) -> Result<BTreeMap<(String, i32), i64>, String> {
    let mut args = vec!["--bootstrap-server", bootstrap, "--reset-offsets", "--group", group];
    args.extend(scope);
    args.extend(strategy);
    args.push(if execute { "--execute" } else { "--dry-run" });
    let output = consumer_groups(&args);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let rows = table(&out, "GROUP");
    if rows.is_empty() {
        return Err(format!("{out}{}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r["TOPIC"].clone(), number(r.get("PARTITION")).unwrap_or(-1) as i32),
                number(r.get("NEW-OFFSET")).unwrap_or(-1),
            )
        })
        .collect())
}

/// `kafka-consumer-groups --list`.
pub fn list_groups(bootstrap: &str) -> Vec<String> {
    let out = run("consumer-groups", &["--bootstrap-server", bootstrap, "--list"]);
    let mut groups: Vec<String> = out.lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
    groups.sort();
    groups
}

/// `kafka-consumer-groups --delete-offsets --group G --topic T[:P,P]…`: its
/// exit status and everything it printed (a refused partition prints an
/// error in its row, and the tool may still exit 0).
pub fn delete_offsets(bootstrap: &str, group: &str, topics: &[&str]) -> (bool, String) {
    let mut args = vec!["--bootstrap-server", bootstrap, "--delete-offsets", "--group", group];
    for topic in topics {
        args.extend(["--topic", topic]);
    }
    let output = consumer_groups(&args);
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), printed)
}

/// `kafka-console-consumer --from-beginning`: the values of the first `count`
/// records of `topic`, one per line (waits up to 30 s for them).
pub fn consume(bootstrap: &str, topic: &str, count: usize) -> Vec<String> {
    let count = count.to_string();
    let out = run(
        "console-consumer",
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            &count,
            "--timeout-ms",
            "30000",
        ],
    );
    out.lines().map(str::to_owned).collect()
}

/// `kafka-consumer-groups ARGS`, whatever its exit status: Apache's tool
/// prints some failures and still exits 0, so callers read what it printed.
fn consumer_groups(args: &[&str]) -> std::process::Output {
    output_of("consumer-groups", args)
}

/// `scripts/kafka tool NAME ARGS…`, whatever its exit status.
fn output_of(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(repo_root().join("scripts/kafka"))
        .arg("tool")
        .arg(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run Apache's {tool}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_consumer_group_tables_with_missing_values() {
        let out = "\nGROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID\n\
                   g      t      0          5               9               4    -            -     -\n\
                   g      t      1          -               3               -    -            -     -\n";
        let rows: Vec<_> = table(out, "GROUP");
        assert_eq!(rows.len(), 2);
        assert_eq!(number(rows[0].get("LAG")), Some(4));
        assert_eq!(number(rows[1].get("CURRENT-OFFSET")), None);
    }
}

/// One record as Apache's console consumer printed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: Vec<(String, String)>,
}

const FIELD: &str = "~|~";
const HEADER: &str = "~,~";
/// Fixed by Apache's formatter.
const HEADER_VALUE: char = ':';
const NULL: &str = "<null>";

/// `kafka-console-consumer --from-beginning --isolation-level read_committed`:
/// the first `count` records of `topic` (or, with `None`, every record it
/// reads before 6 s pass without one) with partition, offset, timestamp,
/// headers, key and value, sorted by partition and offset. Keys, values and
/// headers must be text without `~|~` or `~,~`, and header names without `:`.
pub fn consume_records(bootstrap: &str, topic: &str, count: Option<usize>) -> Vec<Consumed> {
    let count_arg = count.map(|c| c.to_string());
    let mut args = vec![
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--from-beginning",
        "--isolation-level",
        "read_committed",
    ];
    match &count_arg {
        Some(count) => args.extend(["--max-messages", count, "--timeout-ms", "30000"]),
        None => args.extend(["--timeout-ms", "6000"]),
    }
    let properties = [
        "print.timestamp=true".to_owned(),
        "print.partition=true".to_owned(),
        "print.offset=true".to_owned(),
        "print.headers=true".to_owned(),
        "print.key=true".to_owned(),
        format!("key.separator={FIELD}"),
        format!("headers.separator={HEADER}"),
        format!("null.literal={NULL}"),
    ];
    for property in &properties {
        args.extend(["--property", property]);
    }
    // Ended by its timeout, the tool exits non-zero: its output is what counts.
    let output = output_of("console-consumer", &args);
    let out = String::from_utf8_lossy(&output.stdout);
    let mut records: Vec<Consumed> = out.lines().map(parse_consumed).collect();
    records.sort();
    if let Some(count) = count {
        assert_eq!(
            records.len(),
            count,
            "the console consumer read {} of {count} records of {topic}: {}",
            records.len(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    records
}

fn parse_consumed(line: &str) -> Consumed {
    let fields: Vec<&str> = line.splitn(6, FIELD).collect();
    assert_eq!(fields.len(), 6, "a console consumer line of six fields: {line}");
    let after = |field: &str, label: &str| -> i64 {
        field.rsplit(':').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{label} in {line}"))
    };
    let text = |field: &str| (field != NULL).then(|| field.to_owned());
    let headers = if fields[3] == "NO_HEADERS" {
        Vec::new()
    } else {
        fields[3]
            .split(HEADER)
            .map(|h| {
                let (name, value) = h.split_once(HEADER_VALUE).unwrap_or((h, ""));
                (name.to_owned(), if value == NULL { String::new() } else { value.to_owned() })
            })
            .collect()
    };
    Consumed {
        timestamp: after(fields[0], "a timestamp"),
        partition: i32::try_from(after(fields[1], "a partition")).expect("a partition number"),
        offset: after(fields[2], "an offset"),
        headers,
        key: text(fields[4]),
        value: text(fields[5]),
    }
}
