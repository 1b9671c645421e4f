//! Run records in memory, behind the same `Store` trait as sled, for unit
//! tests of what records runs (the run service, recovery, rollback) that
//! need no disk.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::record::RunRecord;
use super::store::{RunPage, RunQuery, Store, StoreError};

#[derive(Debug, Default)]
pub struct MemoryStore {
    runs: Mutex<BTreeMap<String, RunRecord>>,
    /// Saves that fail from now on, as on a full disk.
    failing: Mutex<bool>,
}

impl MemoryStore {
    /// Every save fails from now on (or succeeds again).
    pub fn fail_saves(&self, failing: bool) {
        *self.failing.lock().expect("not poisoned") = failing;
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, RunRecord>> {
        self.runs.lock().expect("not poisoned")
    }
}

impl Store for MemoryStore {
    fn save(&self, record: &RunRecord) -> Result<(), StoreError> {
        if *self.failing.lock().expect("not poisoned") {
            return Err(StoreError::Io("the memory store was told to fail".to_owned()));
        }
        self.runs().insert(record.id.clone(), record.clone());
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.runs().get(id).cloned())
    }

    fn remove(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.runs().remove(id).is_some())
    }

    fn page(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        let runs = self.runs();
        let mut candidates: Vec<&RunRecord> = runs
            .values()
            .filter(|r| query.runbook.as_ref().is_none_or(|name| &r.runbook == name))
            .filter(|r| query.since.is_none_or(|t| r.started_at >= t))
            .filter(|r| query.before.is_none_or(|t| r.started_at < t))
            .filter(|r| query.older_than.as_ref().is_none_or(|id| r.id < *id))
            .collect();
        if !query.oldest_first {
            candidates.reverse();
        }
        let (limit, scan_most) = (query.limit.unwrap_or(usize::MAX), query.scan_most.unwrap_or(usize::MAX));
        let mut page = RunPage::default();
        let mut last = None;
        for (scanned, record) in candidates.into_iter().enumerate() {
            if page.runs.len() >= limit || scanned >= scan_most {
                // Pages continue towards older runs only (`older_than`).
                page.resume_after = if query.oldest_first { None } else { last };
                break;
            }
            last = Some(record.id.clone());
            let summary = record.summary();
            if query.status.is_none_or(|status| summary.status == status) && query.names_match(&summary) {
                page.runs.push(summary);
            }
        }
        Ok(page)
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self.runs().keys().filter(|id| id.starts_with(prefix)).take(limit).cloned().collect())
    }

    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for record in self.runs().values() {
            *counts.entry(record.runbook.clone()).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }
}
