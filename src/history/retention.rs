//! Retention (SPEC §5): delete runs older than the age limit, and each
//! runbook's runs beyond the newest `max_runs`; never a run still `running`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::record::RunState;
use super::store::{RunQuery, Store, StoreError};
use crate::config::HistoryConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_runs: u64,
}

impl From<&HistoryConfig> for Retention {
    fn from(config: &HistoryConfig) -> Self {
        Retention { max_age: config.max_age.duration, max_runs: config.max_runs }
    }
}

impl Retention {
    /// Deletes what the limits say; returns how many runs went.
    pub fn apply(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut removed = 0;
        let cutoff = chrono::Duration::from_std(self.max_age).ok().and_then(|age| now.checked_sub_signed(age));
        if let Some(cutoff) = cutoff {
            let old = store.list(&RunQuery { before: Some(cutoff), oldest_first: true, ..RunQuery::default() })?;
            for run in old.iter().filter(|r| r.status != RunState::Running) {
                removed += usize::from(store.remove(&run.id)?);
            }
        }
        for (runbook, count) in store.runbook_counts()? {
            if count <= self.max_runs {
                continue;
            }
            let runs = store.list(&RunQuery { runbook: Some(runbook), ..RunQuery::default() })?;
            let keep = usize::try_from(self.max_runs).unwrap_or(usize::MAX);
            for run in runs.iter().skip(keep).filter(|r| r.status != RunState::Running) {
                removed += usize::from(store.remove(&run.id)?);
            }
        }
        Ok(removed)
    }
}
