//! The offsets a run's resets found before committing, as one table: what
//! `ebb rollback` restores. `ebb show` prints it; the console shows it.

use super::RunRecord;
use crate::text_table::Table;

pub fn snapshot_table(record: &RunRecord) -> Table {
    let mut snapshot = Table::new(vec!["STEP", "GROUP", "TOPIC", "PARTITION", "OFFSET-BEFORE"]);
    for step in record.apply.iter().flat_map(|a| &a.steps) {
        let Some((group, entries)) = step.offsets_snapshot() else { continue };
        for entry in entries {
            snapshot.row(vec![
                step.id.clone(),
                group.to_owned(),
                entry.topic.clone(),
                entry.partition.to_string(),
                entry.offset.map_or_else(|| "-".to_owned(), |o| o.to_string()),
            ]);
        }
    }
    snapshot
}
