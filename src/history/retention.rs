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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::SledStore;
    use crate::history::record::sample;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_763_686_800_000;

    #[test]
    fn old_runs_and_runs_beyond_the_count_go_but_never_a_running_one() {
        let store = SledStore::temporary().unwrap();
        let old_done = sample("a", RunState::Succeeded, NOW - 40 * DAY);
        let old_running = sample("a", RunState::Running, NOW - 39 * DAY);
        let recent: Vec<_> = (0..4).map(|i| sample("a", RunState::Failed, NOW - DAY + i)).collect();
        let other = sample("b", RunState::Succeeded, NOW - DAY);
        for run in [&old_done, &old_running, &other].into_iter().chain(&recent) {
            store.save(run).unwrap();
        }
        let retention = Retention { max_age: Duration::from_secs(30 * 86_400), max_runs: 2 };
        let now = DateTime::from_timestamp_millis(NOW).unwrap();
        // Gone: the old finished run, then the two oldest recent ones of `a`.
        assert_eq!(retention.apply(&store, now).unwrap(), 3);
        let left: Vec<String> = store.list(&RunQuery::default()).unwrap().into_iter().map(|s| s.id).collect();
        let mut expected = vec![recent[3].id.clone(), recent[2].id.clone(), other.id.clone(), old_running.id.clone()];
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(left, expected);
        assert_eq!(retention.apply(&store, now).unwrap(), 0, "a second pass has nothing to do");
    }
}
