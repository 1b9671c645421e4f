//! A deletion for people: the committed offsets that go and its summary line;
//! after apply, each partition's outcome.

use std::fmt::Write;

use crate::text_table::{Table, dash};
use crate::view_document::ViewDocument;

use super::apply::{DeletionOutcome, OffsetsDeleted};
use super::deletion_plan::DeletionPlan;

pub fn plan(out: &mut ViewDocument, id: &str, plan: &DeletionPlan) {
    let mut table = Table::new(vec!["TOPIC", "PARTITION", "COMMITTED", "LAG", "NOTE"]);
    for d in &plan.deletions {
        table.row(vec![
            d.topic.clone(),
            d.partition.to_string(),
            d.offset.to_string(),
            dash(d.lag),
            d.note.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !table.is_empty() {
        out.table(table);
    }
    let _ = writeln!(
        out,
        "{id}: {} committed offset(s) of group {:?} deleted, {} partition(s) have none",
        plan.deletions.len(),
        plan.group,
        plan.absent.len()
    );
}

pub fn applied(out: &mut ViewDocument, done: &OffsetsDeleted) {
    if done.results.is_empty() {
        return;
    }
    let mut table = Table::new(vec!["TOPIC", "PARTITION", "BEFORE", "RESULT"]);
    for r in &done.results {
        let result = match (r.outcome, &r.refused) {
            (DeletionOutcome::Deleted, _) => "deleted".to_owned(),
            (DeletionOutcome::Absent, _) => "had none".to_owned(),
            (DeletionOutcome::NotDeleted, Some(why)) => format!("NOT DELETED: {why}"),
            (DeletionOutcome::NotDeleted, None) => "NOT DELETED".to_owned(),
            (DeletionOutcome::Unverified, _) => "unverified".to_owned(),
        };
        table.row(vec![r.topic.clone(), r.partition.to_string(), dash(r.before), result]);
    }
    out.table(table);
}
