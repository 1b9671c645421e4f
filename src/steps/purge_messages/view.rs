//! A purge for people: the plan's table of each partition's new log start and
//! its summary line; after apply, each partition's outcome.

use std::fmt::Write;

use crate::text_table::{Table, dash};
use crate::view_document::ViewDocument;

use super::apply::{PurgeApplied, PurgeOutcome};
use super::purge_plan::PurgePlan;

const PURGE_HEADER: [&str; 6] = ["PARTITION", "LOG-START", "NEW-LOG-START", "DELETED", "CAPPED-BY", "NOTE"];

pub fn plan(out: &mut ViewDocument, id: &str, purge: &PurgePlan) {
    // A time cut-off shows, per partition, the time and the offset it maps to.
    let mut header = PURGE_HEADER.to_vec();
    if purge.cut_off_ms.is_some() {
        header.splice(2..2, ["CUT-OFF", "CUT-AT"]);
    }
    let mut table = Table::new(header);
    let mut rows: Vec<_> = purge.rows().collect();
    rows.sort_by_key(|r| r.partition);
    for r in rows {
        let mut cells = vec![r.partition.to_string(), r.log_start.to_string()];
        if let Some(cut_off) = purge.cut_off_ms {
            cells.push(super::guard::time(cut_off));
            cells.push(dash(r.requested));
        }
        cells.extend([
            r.new_log_start.to_string(),
            r.deleted.to_string(),
            r.capped_by.clone().unwrap_or_else(|| "-".to_owned()),
            r.note.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
        table.row(cells);
    }
    if !table.is_empty() {
        let _ =
            writeln!(out, "topic {} (IRREVERSIBLE: deleted records cannot be restored or rolled back)", purge.topic);
        out.table(table);
    }
    let protection = if purge.allow_unconsumed {
        "allow_unconsumed: protection off".to_owned()
    } else if purge.protected_by.is_empty() {
        "no group protects it".to_owned()
    } else {
        format!("protected by {}", purge.protected_by.join(", "))
    };
    let _ = writeln!(
        out,
        "{id}: delete {} record(s) from {} partition(s) of topic {:?}, {} untouched; {protection}",
        purge.total_deleted,
        purge.changes.len(),
        purge.topic,
        purge.untouched.len()
    );
}

/// Each partition's outcome after DeleteRecords.
pub fn applied(out: &mut ViewDocument, purge: &PurgeApplied) {
    if purge.results.is_empty() {
        return;
    }
    let mut table = Table::new(vec!["PARTITION", "LOG-START-BEFORE", "TARGET", "LOG-START-AFTER", "DELETED", "RESULT"]);
    for r in &purge.results {
        let result = match r.outcome {
            PurgeOutcome::Deleted => "deleted".to_owned(),
            PurgeOutcome::Unchanged => "unchanged".to_owned(),
            PurgeOutcome::NotDeleted => match &r.error {
                Some(e) => format!("NOT DELETED ({e})"),
                None => "NOT DELETED".to_owned(),
            },
            PurgeOutcome::Unverified => "unverified".to_owned(),
        };
        table.row(vec![
            r.partition.to_string(),
            r.log_start_before.to_string(),
            r.target.to_string(),
            dash(r.log_start_after),
            r.deleted.to_string(),
            result,
        ]);
    }
    let _ = writeln!(out, "topic {}", purge.topic);
    out.table(table);
}
