//! Retention (SPEC §5): delete runs older than the age limit, each
//! runbook's applies beyond the newest `max_runs` and its plan-only runs
//! beyond the newest `max_plans` — separate limits, so that plans (which a
//! viewer may make as often as they like) never push applies and their
//! rollback snapshots out. Never deleted: a run still `running`, and the
//! newest apply that reset each group, whatever its age or count.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::record::{RunState, RunSummary};
use super::store::{RunQuery, Store, StoreError};
use crate::config::HistoryConfig;
use crate::engine::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    /// Applies kept per runbook.
    pub max_runs: u64,
    /// Plan-only runs kept per runbook.
    pub max_plans: u64,
}

impl From<&HistoryConfig> for Retention {
    fn from(config: &HistoryConfig) -> Self {
        Retention { max_age: config.max_age.duration, max_runs: config.max_runs, max_plans: config.max_plans }
    }
}

impl Retention {
    /// Deletes what the limits say; returns how many runs went.
    pub fn apply(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut doomed: Vec<RunSummary> = Vec::new();
        let cutoff = chrono::Duration::from_std(self.max_age).ok().and_then(|age| now.checked_sub_signed(age));
        if let Some(cutoff) = cutoff {
            doomed.extend(store.list(&RunQuery { before: Some(cutoff), oldest_first: true, ..RunQuery::default() })?);
        }
        let fewest = self.max_runs.min(self.max_plans);
        for (runbook, count) in store.runbook_counts()? {
            if count <= fewest {
                continue;
            }
            let runs = store.list(&RunQuery { runbook: Some(runbook), ..RunQuery::default() })?;
            let (plans, applies): (Vec<RunSummary>, Vec<RunSummary>) =
                runs.into_iter().partition(|r| r.mode == Mode::Plan);
            doomed.extend(plans.into_iter().skip(usize::try_from(self.max_plans).unwrap_or(usize::MAX)));
            doomed.extend(applies.into_iter().skip(usize::try_from(self.max_runs).unwrap_or(usize::MAX)));
        }
        doomed.retain(|r| r.status != RunState::Running);
        if doomed.is_empty() {
            return Ok(0);
        }
        let kept = newest_apply_of_each_group(store)?;
        let mut removed = 0;
        let mut seen = HashSet::new();
        for run in doomed.iter().filter(|r| !kept.contains(&r.id)) {
            if seen.insert(run.id.clone()) {
                removed += usize::from(store.remove(&run.id)?);
            }
        }
        Ok(removed)
    }
}

/// The ids of the runs that hold the newest reset snapshot of some group.
fn newest_apply_of_each_group(store: &dyn Store) -> Result<BTreeSet<String>, StoreError> {
    let mut groups_seen = HashSet::new();
    let mut kept = BTreeSet::new();
    for run in store.list(&RunQuery::default())?.into_iter().filter(|r| r.mode == Mode::Apply) {
        let groups = match run.reset_groups {
            Some(groups) => groups,
            // A summary from before groups were kept: the record says.
            None => store.get(&run.id)?.map(|record| record.reset_groups()).unwrap_or_default(),
        };
        for group in groups {
            if groups_seen.insert(group) {
                kept.insert(run.id.clone());
            }
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::AppliedStep;
    use crate::history::SledStore;
    use crate::history::record::{ApplyRecord, RunRecord, sample};
    use crate::step::StepStatus;
    use crate::steps::AppliedDetail;
    use crate::steps::reset_offsets::ResetApplied;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_763_686_800_000;

    fn retention(max_runs: u64, max_plans: u64) -> Retention {
        Retention { max_age: Duration::from_secs(30 * 86_400), max_runs, max_plans }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(NOW).unwrap()
    }

    fn ids(store: &SledStore) -> Vec<String> {
        store.list(&RunQuery::default()).unwrap().into_iter().map(|s| s.id).collect()
    }

    fn plan(runbook: &str, millis: i64) -> RunRecord {
        RunRecord { mode: Mode::Plan, ..sample(runbook, RunState::Succeeded, millis) }
    }

    /// An apply that reset `group`, its snapshot taken.
    fn reset_of(runbook: &str, group: &str, millis: i64) -> RunRecord {
        let mut record = sample(runbook, RunState::Succeeded, millis);
        let reset = ResetApplied { group: group.to_owned(), snapshot: Vec::new(), results: Vec::new() };
        let step = AppliedStep {
            id: "reset".into(),
            kind: "reset_offsets".into(),
            status: StepStatus::Applied,
            reason: None,
            detail: Some(AppliedDetail::Reset(reset)),
            started_at: None,
            finished_at: None,
        };
        record.apply = Some(ApplyRecord { forced: false, drift: Vec::new(), steps: vec![step] });
        record
    }

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
        // Gone: the old finished run, then the two oldest recent ones of `a`.
        assert_eq!(retention(2, 2).apply(&store, now()).unwrap(), 3);
        let mut expected = vec![recent[3].id.clone(), recent[2].id.clone(), other.id.clone(), old_running.id.clone()];
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(ids(&store), expected);
        assert_eq!(retention(2, 2).apply(&store, now()).unwrap(), 0, "a second pass has nothing to do");
    }

    #[test]
    fn plans_never_push_applies_out() {
        let store = SledStore::temporary().unwrap();
        let applied = reset_of("a", "billing", NOW - 2 * DAY);
        store.save(&applied).unwrap();
        let plans: Vec<_> = (0..50).map(|i| plan("a", NOW - DAY + i)).collect();
        for p in &plans {
            store.save(p).unwrap();
        }
        assert_eq!(retention(1, 3).apply(&store, now()).unwrap(), 47);
        let left = ids(&store);
        assert!(left.contains(&applied.id), "the apply stays");
        assert_eq!(left.len(), 4);
    }

    #[test]
    fn the_newest_apply_of_each_group_outlives_age_and_count() {
        let store = SledStore::temporary().unwrap();
        let ancient = reset_of("a", "billing", NOW - 400 * DAY);
        let newer_other = reset_of("a", "shipping", NOW - 3 * DAY);
        let newest_billing = reset_of("b", "billing", NOW - 2 * DAY);
        let older_shipping = reset_of("a", "shipping", NOW - 5 * DAY);
        for run in [&ancient, &newer_other, &newest_billing, &older_shipping] {
            store.save(run).unwrap();
        }
        // `ancient` is past the age, and `a` is over its count of 1, but only
        // `ancient` (billing's newest is in `b`) and the older shipping reset go.
        assert_eq!(retention(1, 1).apply(&store, now()).unwrap(), 2);
        let left = ids(&store);
        assert!(left.contains(&newer_other.id) && left.contains(&newest_billing.id), "{left:?}");
        // Alone, an old reset is the newest of its group and stays.
        let store = SledStore::temporary().unwrap();
        store.save(&ancient).unwrap();
        assert_eq!(retention(1, 1).apply(&store, now()).unwrap(), 0);
    }
}
