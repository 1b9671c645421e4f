//! A reset for people: the plan's table of changing partitions and its
//! summary line; after apply, each partition's outcome.

use std::fmt::Write;

use crate::text_table::{Table, dash};
use crate::view_document::ViewDocument;

use super::apply::{Outcome, ResetApplied};
use super::reset_plan::ResetPlan;

const RESET_HEADER: [&str; 10] =
    ["TOPIC", "PARTITION", "CURRENT", "TARGET", "MOVE", "LOG-START", "LOG-END", "LAG-BEFORE", "LAG-AFTER", "NOTE"];

/// How a partition's position moves: `skip N` messages forward, `re-read N`
/// back, or `-` when the group has no committed offset there.
pub fn movement(current: Option<i64>, target: i64) -> String {
    match current.map(|c| target - c) {
        Some(d) if d > 0 => format!("skip {d}"),
        Some(d) if d < 0 => format!("re-read {}", -d),
        _ => "-".to_owned(),
    }
}

pub fn plan(out: &mut ViewDocument, id: &str, reset: &ResetPlan) {
    let mut table = Table::new(RESET_HEADER.to_vec());
    for c in reset.changes.iter().map(|c| &c.planned) {
        table.row(vec![
            c.topic.clone(),
            c.partition.to_string(),
            dash(c.current),
            c.target.to_string(),
            movement(c.current, c.target),
            c.log_start.to_string(),
            c.log_end.to_string(),
            dash(c.lag_before),
            c.lag_after.to_string(),
            c.note.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !table.is_empty() {
        out.table(table);
    }
    let _ = writeln!(
        out,
        "{id}: {} partition(s) change in group {:?} (skip {}, rewind {}), {} unchanged",
        reset.changes.len(),
        reset.group,
        reset.total_skip,
        reset.total_rewind,
        reset.unchanged.len()
    );
}

/// Each partition's outcome after the commit.
pub fn applied(out: &mut ViewDocument, reset: &ResetApplied) {
    if reset.results.is_empty() {
        return;
    }
    let mut table = Table::new(vec!["TOPIC", "PARTITION", "BEFORE", "TARGET", "AFTER", "RESULT"]);
    for r in &reset.results {
        let result = match r.outcome {
            Outcome::Committed => "committed",
            Outcome::Unchanged => "unchanged",
            Outcome::NotCommitted => "NOT COMMITTED",
            Outcome::Unverified => "unverified",
        };
        table.row(vec![
            r.topic.clone(),
            r.partition.to_string(),
            dash(r.before),
            r.target.to_string(),
            dash(r.after),
            result.to_owned(),
        ]);
    }
    out.table(table);
}
