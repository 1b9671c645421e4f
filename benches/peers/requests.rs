//! Round trips: the requests one ebb run sends, counted on the brokers' side
//! from their own request logs (clusters the benchmark starts log every
//! request), by API and broker.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::Bench;
use crate::measure::run;

/// The APIs ebb's operations use, by key.
const APIS: [(i32, &str); 10] = [
    (3, "Metadata"),
    (2, "ListOffsets"),
    (10, "FindCoordinator"),
    (9, "OffsetFetch"),
    (8, "OffsetCommit"),
    (15, "DescribeGroups"),
    (16, "ListGroups"),
    (21, "DeleteRecords"),
    (32, "DescribeConfigs"),
    (1, "Fetch"),
];

/// Runs `script` once more, untimed, and describes the requests the brokers
/// completed meanwhile, e.g. `ListOffsets 2 (1 each), OffsetFetch 1`; `None`
/// when the cluster's request logs cannot be read (a cluster this run did not start).
pub fn counted(b: &Bench, script: &str) -> Option<String> {
    b.cluster.dir.as_ref()?;
    let snapshot = || -> BTreeMap<&str, BTreeMap<i32, usize>> {
        APIS.iter().map(|(key, name)| (*name, b.cluster.requests_logged(*key, ""))).collect()
    };
    let before = snapshot();
    run(script, &[]);
    // The brokers write their request logs as requests complete; give them a moment.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let after = snapshot();
    let mut out = String::new();
    for (_, name) in APIS {
        let per_broker: Vec<usize> = after[name]
            .iter()
            .map(|(broker, n)| n - before[name].get(broker).copied().unwrap_or(0))
            .filter(|n| *n > 0)
            .collect();
        let total: usize = per_broker.iter().sum();
        if total == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "{name} {total}");
        if per_broker.len() > 1 {
            let spread: Vec<String> = per_broker.iter().map(usize::to_string).collect();
            let _ = write!(out, " ({} brokers: {})", per_broker.len(), spread.join("+"));
        }
    }
    Some(out)
}
