//! The sled store. Trees: `runs` (id → record JSON, compressed: record_body.rs), `summaries` (id → the
//! line `ebb history` shows), `by_runbook` (`runbook\0id`), `by_status`
//! (`status\0id`), `counts` (runbook → runs stored) and `meta` (store schema).
//! Run ids are ULIDs, so key order is start-time order and `runs` is the time
//! index. Every save updates all trees in one transaction and flushes.

use std::ops::Bound;
use std::path::Path;

use chrono::{DateTime, Utc};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::off_runtime::off_runtime;
use super::record::{RUN_FORMAT, RunRecord, RunSummary};
use super::record_body;
use super::store::{RunPage, RunQuery, Store, StoreError};
use crate::engine::time_prefix;

/// The layout of the trees; bumped when it changes incompatibly.
const STORE_SCHEMA: u64 = 1;

pub struct SledStore {
    /// Where it lives on disk; `None` for a temporary store.
    dir: Option<std::path::PathBuf>,
    db: sled::Db,
    runs: sled::Tree,
    summaries: sled::Tree,
    by_runbook: sled::Tree,
    by_status: sled::Tree,
    counts: sled::Tree,
    /// Runbook name → the last schedule slot the daemon dealt with (epoch ms).
    schedule: sled::Tree,
    /// The audit outbox: sequence number (big-endian) → a CloudEvent's JSON,
    /// written in the same transaction as the state change it tells of.
    audit: sled::Tree,
    /// Audit sink name → the sequence number it has been delivered up to.
    audit_cursors: sled::Tree,
    /// Whether saves put events in the outbox (ebb.yaml has `audit:`).
    audit_on: bool,
    /// Events in the outbox, counted as they come and go (sled's `len` reads the whole tree).
    audit_len: std::sync::atomic::AtomicUsize,
}

impl SledStore {
    /// Opens (creating if needed) the store in `dir`. Fails at once if another
    /// process has it open.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let open_error = |reason: String| StoreError::Open { dir: dir.display().to_string(), reason };
        super::unfinished_snapshots::remove(dir);
        let db = sled::Config::new().path(dir).open().map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::SledLocked(dir.display().to_string())
            }
            other => open_error(other.to_string()),
        })?;
        let mut store = SledStore::with_db(db).map_err(|e| open_error(e.to_string()))?;
        store.dir = Some(dir.to_path_buf());
        Ok(store)
    }

    /// A store that lives in memory only, for tests.
    pub fn temporary() -> Result<SledStore, StoreError> {
        SledStore::with_db(sled::Config::new().temporary(true).open()?)
    }

    fn with_db(db: sled::Db) -> Result<SledStore, StoreError> {
        let meta = db.open_tree("meta")?;
        match meta.get("schema")? {
            None => {
                meta.insert("schema", &STORE_SCHEMA.to_be_bytes())?;
            }
            Some(bytes) => {
                let schema = u64::from_be_bytes(bytes.as_ref().try_into().unwrap_or([0xff; 8]));
                if schema != STORE_SCHEMA {
                    return Err(StoreError::Corrupt(format!(
                        "its layout is version {schema}; this ebb reads version {STORE_SCHEMA} (written by a newer ebb?)"
                    )));
                }
            }
        }
        Ok(SledStore {
            dir: None,
            runs: db.open_tree("runs")?,
            summaries: db.open_tree("summaries")?,
            by_runbook: db.open_tree("by_runbook")?,
            by_status: db.open_tree("by_status")?,
            counts: db.open_tree("counts")?,
            schedule: db.open_tree("schedule")?,
            audit: db.open_tree("audit")?,
            audit_cursors: db.open_tree("audit_cursors")?,
            audit_on: false,
            audit_len: std::sync::atomic::AtomicUsize::new(0),
            db,
        })
    }

    /// From now on, every state change a save makes goes to the audit outbox too.
    pub fn audit_state_changes(&mut self) {
        self.audit_on = true;
        self.audit_len.store(self.audit.len(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Up to `limit` audit events after sequence number `after`, oldest first.
    pub fn audit_events_after(&self, after: Option<u64>, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let start = after.map_or(0, |a| a.saturating_add(1));
        self.audit
            .range(start.to_be_bytes()..)
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                Ok((u64::from_be_bytes(key.as_ref().try_into().unwrap_or([0; 8])), value.to_vec()))
            })
            .collect()
    }

    /// The sequence number sink `name` has been delivered up to.
    pub fn audit_cursor(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.audit_cursors.get(name)?.map(|b| u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8]))))
    }

    /// Records that sink `name` has every event up to `seq`; durable when it returns.
    pub fn set_audit_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        self.audit_cursors.insert(name, &seq.to_be_bytes())?;
        self.audit_cursors.flush()?;
        Ok(())
    }

    /// Removes the events every one of `sinks` has, then the oldest beyond
    /// `max`; returns how many of those were dropped undelivered.
    pub fn audit_trim(&self, sinks: &[String], max: u64) -> Result<u64, StoreError> {
        // What the slowest sink has; a sink that has had nothing keeps everything.
        let mut delivered_by_all: Option<u64> = None;
        for (i, sink) in sinks.iter().enumerate() {
            let cursor = self.audit_cursor(sink)?;
            delivered_by_all = if i == 0 { cursor } else { delivered_by_all.min(cursor) };
        }
        let removed = |n: usize| self.audit_len.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
        if let Some(upto) = delivered_by_all {
            for key in self.audit.range(..=upto.to_be_bytes()).keys() {
                if self.audit.remove(key?)?.is_some() {
                    removed(1);
                }
            }
        }
        let excess = (self.audit_backlog() as u64).saturating_sub(max);
        let dropped: Vec<sled::IVec> = self.audit.iter().keys().take(excess as usize).collect::<Result<_, _>>()?;
        for key in &dropped {
            if self.audit.remove(key)?.is_some() {
                removed(1);
            }
        }
        Ok(dropped.len() as u64)
    }

    /// Audit events waiting for some sink.
    pub fn audit_backlog(&self) -> usize {
        self.audit_len.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs stored, by the per-runbook counts.
    pub fn run_count(&self) -> Result<u64, StoreError> {
        self.counts.iter().values().map(|v| Ok(decode_count(&v?))).sum()
    }

    /// The id of every stored record.
    pub fn run_ids(&self) -> Result<Vec<String>, StoreError> {
        keys(&self.runs)
    }

    /// The id of every run the summaries list.
    pub fn summary_ids(&self) -> Result<Vec<String>, StoreError> {
        keys(&self.summaries)
    }

    /// Bytes the store takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// The last schedule slot the daemon dealt with for `runbook`, so that a
    /// restarted daemon knows which slots it missed.
    pub fn schedule_cursor(&self, runbook: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(bytes) = self.schedule.get(runbook)? else { return Ok(None) };
        let millis = i64::from_be_bytes(bytes.as_ref().try_into().unwrap_or([0; 8]));
        Ok(DateTime::from_timestamp_millis(millis))
    }

    /// Saves schedule cursors; sled writes them out within its flush interval.
    pub fn save_schedule_cursors<'a>(
        &self,
        cursors: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
    ) -> Result<(), StoreError> {
        for (runbook, slot) in cursors {
            self.schedule.insert(runbook, &slot.timestamp_millis().to_be_bytes())?;
        }
        Ok(())
    }

    /// Writes everything out now (the daemon's last act).
    pub fn flush(&self) -> Result<(), StoreError> {
        off_runtime(|| self.flush_now())
    }

    fn flush_now(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn summary(&self, id: &[u8]) -> Result<Option<RunSummary>, StoreError> {
        let Some(bytes) = self.summaries.get(id)? else { return Ok(None) };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| StoreError::Corrupt(format!("summary of a run: {e}")))
    }
}

fn index_key(prefix: &str, id: &str) -> Vec<u8> {
    format!("{prefix}\0{id}").into_bytes()
}

fn abort(e: impl std::fmt::Display) -> ConflictableTransactionError<String> {
    ConflictableTransactionError::Abort(e.to_string())
}

fn keys(tree: &sled::Tree) -> Result<Vec<String>, StoreError> {
    tree.iter().keys().map(|key| Ok(String::from_utf8_lossy(&key?).into_owned())).collect()
}

fn transaction_error(e: TransactionError<String>) -> StoreError {
    match e {
        TransactionError::Abort(reason) => StoreError::Corrupt(reason),
        TransactionError::Storage(e) => e.into(),
    }
}

/// The store's work itself; [`Store`] runs it off the async runtime.
impl SledStore {
    fn save_now(&self, record: &RunRecord) -> Result<(), StoreError> {
        // The margin is for runs that changed nothing yet: once one has, its
        // records must be written, and the margin is what they use.
        if let Some(dir) = &self.dir
            && !record.may_have_changed()
        {
            super::free_space::ensure(dir)?;
        }
        let body = record_body::encode(record)?;
        let summary = serde_json::to_vec(&record.summary()).map_err(|e| StoreError::Io(e.to_string()))?;
        let id = record.id.as_str();
        let event = match self.audit_on {
            true => super::audit_event::event(record)
                .map(|e| serde_json::to_vec(&e))
                .transpose()
                .map_err(|e| StoreError::Io(e.to_string()))?,
            false => None,
        };
        // Set by the attempt that commits (a transaction may be tried again).
        let queued = std::sync::atomic::AtomicBool::new(false);
        (&self.runs, &self.summaries, &self.by_runbook, &self.by_status, &self.counts, &self.audit)
            .transaction(|(runs, summaries, by_runbook, by_status, counts, audit)| {
                let old_status = match summaries.get(id)? {
                    Some(old) => Some(serde_json::from_slice::<RunSummary>(&old).map_err(abort)?.status),
                    None => None,
                };
                let event = event.as_ref().filter(|_| old_status != Some(record.status));
                queued.store(event.is_some(), std::sync::atomic::Ordering::Relaxed);
                if let Some(event) = event {
                    audit.insert(&audit.generate_id()?.to_be_bytes(), event.as_slice())?;
                }
                match old_status {
                    Some(old) => {
                        by_status.remove(index_key(old.name(), id))?;
                    }
                    None => {
                        let count = counts.get(&record.runbook)?.map_or(0, |b| decode_count(&b));
                        counts.insert(record.runbook.as_bytes(), &(count + 1).to_be_bytes())?;
                    }
                }
                runs.insert(id, body.as_slice())?;
                summaries.insert(id, summary.as_slice())?;
                by_runbook.insert(index_key(&record.runbook, id), &[])?;
                by_status.insert(index_key(record.status.name(), id), &[])?;
                Ok(())
            })
            .map_err(transaction_error)?;
        if queued.into_inner() {
            self.audit_len.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.db.flush()?;
        Ok(())
    }

    fn get_now(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let Some(bytes) = self.runs.get(id)? else { return Ok(None) };
        let value = record_body::decode(id, &bytes)?;
        if value["format"] != RUN_FORMAT {
            return Err(StoreError::NewerFormat { id: id.to_owned(), format: value["format"].to_string() });
        }
        serde_json::from_value(value).map(Some).map_err(|e| StoreError::Corrupt(format!("run {id}: {e}")))
    }

    fn remove_now(&self, id: &str) -> Result<bool, StoreError> {
        if let Some(root) = self.dir.as_deref().and_then(Path::parent) {
            super::store_seal::one_fewer(root);
        }
        let removed = (&self.runs, &self.summaries, &self.by_runbook, &self.by_status, &self.counts)
            .transaction(|(runs, summaries, by_runbook, by_status, counts)| {
                let Some(old) = summaries.remove(id)? else { return Ok(false) };
                let old: RunSummary = serde_json::from_slice(&old).map_err(abort)?;
                runs.remove(id)?;
                by_runbook.remove(index_key(&old.runbook, id))?;
                by_status.remove(index_key(old.status.name(), id))?;
                let count = counts.get(&old.runbook)?.map_or(0, |b| decode_count(&b));
                if count <= 1 {
                    counts.remove(old.runbook.as_bytes())?;
                } else {
                    counts.insert(old.runbook.as_bytes(), &(count - 1).to_be_bytes())?;
                }
                Ok(true)
            })
            .map_err(transaction_error)?;
        self.db.flush()?;
        Ok(removed)
    }

    fn page_now(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        let low = query.since.map_or_else(String::new, |t| time_prefix(t.timestamp_millis()));
        let before = query.before.map(|t| time_prefix(t.timestamp_millis()));
        // Ids begin with their start time, so both bounds are bounds on the id: the lower one holds.
        let high = match (before, &query.older_than) {
            (Some(time), Some(id)) => Some(time.min(id.clone())),
            (time, id) => time.or_else(|| id.clone()),
        };
        // The index that narrows most: a runbook, else a status, else every run.
        let (tree, prefix, status_filter) = match (&query.runbook, query.status) {
            (Some(runbook), status) => (&self.by_runbook, format!("{runbook}\0"), status),
            (None, Some(status)) => (&self.by_status, format!("{}\0", status.name()), None),
            (None, None) => (&self.summaries, String::new(), None),
        };
        let start = Bound::Included(format!("{prefix}{low}").into_bytes());
        let end = match &high {
            Some(high) => Bound::Excluded(format!("{prefix}{high}").into_bytes()),
            None if prefix.is_empty() => Bound::Unbounded,
            None => Bound::Excluded(format!("{}\u{1}", &prefix[..prefix.len() - 1]).into_bytes()),
        };
        let keys = tree.range::<Vec<u8>, _>((start, end));
        let keys: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if query.oldest_first { Box::new(keys) } else { Box::new(keys.rev()) };
        let limit = query.limit.unwrap_or(usize::MAX);
        let scan_most = query.scan_most.unwrap_or(usize::MAX);
        let mut page = RunPage::default();
        let mut last = None;
        for (scanned, entry) in keys.enumerate() {
            if page.runs.len() >= limit || scanned >= scan_most {
                // Pages continue towards older runs only (`older_than`).
                page.resume_after = if query.oldest_first { None } else { last };
                break;
            }
            let (key, _) = entry?;
            let id = &key[prefix.len()..];
            last = Some(String::from_utf8_lossy(id).into_owned());
            let Some(summary) = self.summary(id)? else { continue };
            if status_filter.is_none_or(|s| s == summary.status) && query.names_match(&summary) {
                page.runs.push(summary);
            }
        }
        Ok(page)
    }

    fn ids_with_prefix_now(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.runs
            .scan_prefix(prefix)
            .keys()
            .take(limit)
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    fn runbook_counts_now(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.counts
            .iter()
            .map(|entry| {
                let (k, v) = entry?;
                Ok((String::from_utf8_lossy(&k).into_owned(), decode_count(&v)))
            })
            .collect()
    }
}

impl Store for SledStore {
    fn save(&self, record: &RunRecord) -> Result<(), StoreError> {
        off_runtime(|| self.save_now(record))
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        off_runtime(|| self.get_now(id))
    }

    fn remove(&self, id: &str) -> Result<bool, StoreError> {
        off_runtime(|| self.remove_now(id))
    }

    fn page(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        off_runtime(|| self.page_now(query))
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        off_runtime(|| self.ids_with_prefix_now(prefix, limit))
    }

    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        off_runtime(|| self.runbook_counts_now())
    }
}

fn decode_count(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::engine::Trigger;
    use crate::history::record::{RunState, sample};

    const T0: i64 = 1_763_686_800_000;

    #[test]
    fn each_state_change_goes_to_the_audit_outbox_once_and_is_trimmed_as_sinks_take_it() {
        let mut store = SledStore::temporary().unwrap();
        store.audit_state_changes();
        let mut run = sample("nightly", RunState::Running, T0);
        store.save(&run).unwrap();
        assert_eq!(store.audit_backlog(), 0, "a run that starts is no event");
        run.status = RunState::Succeeded;
        store.save(&run).unwrap();
        store.save(&run).unwrap();
        let events = store.audit_events_after(None, 10).unwrap();
        assert_eq!(events.len(), 1, "saved twice in one state: one event");
        let event: serde_json::Value = serde_json::from_slice(&events[0].1).unwrap();
        assert_eq!((event["type"].as_str(), event["specversion"].as_str()), (Some("dev.ebb.run.applied"), Some("1.0")));
        let other = sample("weekly", RunState::Failed, T0 + 1);
        store.save(&other).unwrap();
        let sinks = ["a".to_owned(), "b".to_owned()];
        assert_eq!(store.audit_trim(&sinks, 10).unwrap(), 0);
        assert_eq!(store.audit_backlog(), 2, "no sink has anything yet");
        store.set_audit_cursor("a", events[0].0).unwrap();
        store.audit_trim(&sinks, 10).unwrap();
        assert_eq!(store.audit_backlog(), 2, "b has not taken the first");
        store.set_audit_cursor("b", events[0].0).unwrap();
        store.audit_trim(&sinks, 10).unwrap();
        assert_eq!(store.audit_backlog(), 1, "both took the first");
        assert_eq!(store.audit_trim(&sinks, 0).unwrap(), 1, "over the bound: the oldest goes, counted");
        assert_eq!(store.audit_backlog(), 0);
    }

    fn filled() -> (SledStore, Vec<RunRecord>) {
        let store = SledStore::temporary().unwrap();
        let runs = vec![
            sample("nightly", RunState::Succeeded, T0),
            sample("nightly", RunState::Failed, T0 + 1_000),
            sample("replay", RunState::Succeeded, T0 + 2_000),
            sample("nightly", RunState::Running, T0 + 3_000),
        ];
        for run in &runs {
            store.save(run).unwrap();
        }
        (store, runs)
    }

    fn ids(found: Vec<RunSummary>) -> Vec<String> {
        found.into_iter().map(|s| s.id).collect()
    }

    /// Pages through `store` with `query`, each page continuing where the last stopped.
    fn all_pages(store: &dyn Store, query: RunQuery) -> (Vec<String>, usize) {
        let (mut seen, mut pages, mut older_than) = (Vec::new(), 0, None);
        loop {
            let page = store.page(&RunQuery { older_than: older_than.clone(), ..query.clone() }).unwrap();
            pages += 1;
            seen.extend(ids(page.runs));
            match page.resume_after {
                Some(last) => older_than = Some(last),
                None => return (seen, pages),
            }
        }
    }

    #[test]
    fn pages_continue_where_the_last_stopped_without_gaps_or_repeats() {
        let sled = SledStore::temporary().unwrap();
        let memory = crate::history::memory_store::MemoryStore::default();
        let mut runs = Vec::new();
        for i in 0..250 {
            let mut run = sample(if i % 10 == 0 { "rare" } else { "often" }, RunState::Succeeded, T0 + (i / 3) * 1_000);
            run.trigger = if i % 25 == 0 { Trigger::Rollback } else { Trigger::Cli };
            sled.save(&run).unwrap();
            memory.save(&run).unwrap();
            runs.push(run);
        }
        let mut newest_first: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
        newest_first.sort();
        newest_first.reverse();
        for store in [&sled as &dyn Store, &memory] {
            let (seen, pages) = all_pages(store, RunQuery { limit: Some(50), ..RunQuery::default() });
            assert_eq!(seen, newest_first, "every run once, newest first");
            assert!((5..=6).contains(&pages), "{pages} pages of 50");
            // A filter few runs pass: each page looks at no more than 40 runs, and says where it stopped.
            let rollbacks = RunQuery {
                trigger: Some(Trigger::Rollback),
                limit: Some(50),
                scan_most: Some(40),
                ..RunQuery::default()
            };
            let first = store.page(&rollbacks).unwrap();
            assert!(first.runs.len() <= 2 && first.resume_after.is_some(), "{first:?}");
            let (seen, pages) = all_pages(store, rollbacks);
            assert_eq!(seen.len(), 10, "every 25th run is a rollback");
            assert!(pages >= 7, "{pages}");
            // Time bounds and the page cursor narrow together.
            let (since, until) = (runs[60].started_at, runs[120].started_at);
            let window = RunQuery { since: Some(since), before: Some(until), limit: Some(9), ..RunQuery::default() };
            let (seen, _) = all_pages(store, window);
            let wanted: Vec<&String> = newest_first
                .iter()
                .filter(|id| runs.iter().any(|r| &r.id == *id && r.started_at >= since && r.started_at < until))
                .collect();
            assert_eq!(seen.iter().collect::<Vec<_>>(), wanted);
            let backwards = RunQuery { oldest_first: true, limit: Some(10), ..RunQuery::default() };
            assert_eq!(store.page(&backwards).unwrap().resume_after, None, "no cursor oldest first");
            let (rare, _) =
                all_pages(store, RunQuery { runbook: Some("rare".into()), limit: Some(7), ..RunQuery::default() });
            assert_eq!(rare.len(), 25);
        }
    }

    #[test]
    fn a_saved_run_reads_back_whole() {
        let (store, runs) = filled();
        assert_eq!(store.get(&runs[2].id).unwrap().as_ref(), Some(&runs[2]));
        assert_eq!(store.get("01NOPE").unwrap(), None);
    }

    #[test]
    fn lists_newest_first_by_runbook_status_time_and_limit() {
        let (store, runs) = filled();
        let id = |i: usize| runs[i].id.clone();
        assert_eq!(ids(store.list(&RunQuery::default()).unwrap()), [id(3), id(2), id(1), id(0)]);
        let nightly = RunQuery { runbook: Some("nightly".into()), ..RunQuery::default() };
        assert_eq!(ids(store.list(&nightly).unwrap()), [id(3), id(1), id(0)]);
        let succeeded = RunQuery { status: Some(RunState::Succeeded), ..RunQuery::default() };
        assert_eq!(ids(store.list(&succeeded).unwrap()), [id(2), id(0)]);
        let both = RunQuery { status: Some(RunState::Failed), ..nightly.clone() };
        assert_eq!(ids(store.list(&both).unwrap()), [id(1)]);
        let since = RunQuery { since: DateTime::from_timestamp_millis(T0 + 1_000), ..RunQuery::default() };
        assert_eq!(ids(store.list(&since).unwrap()), [id(3), id(2), id(1)]);
        let before = RunQuery { before: DateTime::from_timestamp_millis(T0 + 2_000), ..nightly.clone() };
        assert_eq!(ids(store.list(&before).unwrap()), [id(1), id(0)]);
        let limited = RunQuery { limit: Some(2), oldest_first: true, ..RunQuery::default() };
        assert_eq!(ids(store.list(&limited).unwrap()), [id(0), id(1)]);
        // A runbook whose name starts another's is not mixed in.
        store.save(&sample("nightly-2", RunState::Succeeded, T0 + 500)).unwrap();
        assert_eq!(store.list(&nightly).unwrap().len(), 3);
    }

    #[test]
    fn a_status_change_moves_the_run_between_status_indexes() {
        let (store, mut runs) = filled();
        runs[3].interrupt(Utc::now());
        store.save(&runs[3]).unwrap();
        let running = RunQuery { status: Some(RunState::Running), ..RunQuery::default() };
        assert!(store.list(&running).unwrap().is_empty());
        let interrupted = RunQuery { status: Some(RunState::Interrupted), ..RunQuery::default() };
        assert_eq!(ids(store.list(&interrupted).unwrap()), [runs[3].id.clone()]);
        assert_eq!(
            store.runbook_counts().unwrap(),
            [("nightly".into(), 3), ("replay".into(), 1)],
            "a resave is no new run"
        );
    }

    #[test]
    fn removal_updates_every_index_and_count() {
        let (store, runs) = filled();
        assert!(store.remove(&runs[2].id).unwrap());
        assert!(!store.remove(&runs[2].id).unwrap());
        assert_eq!(store.runbook_counts().unwrap(), [("nightly".into(), 3)]);
        let replay = RunQuery { runbook: Some("replay".into()), ..RunQuery::default() };
        assert!(store.list(&replay).unwrap().is_empty());
        assert_eq!(store.list(&RunQuery::default()).unwrap().len(), 3);
    }

    #[test]
    fn a_unique_start_of_an_id_finds_its_run() {
        let (store, runs) = filled();
        assert_eq!(store.find(&runs[2].id[..20]).unwrap().id, runs[2].id);
        let common = &runs[0].id[..6];
        assert!(matches!(store.find(common), Err(StoreError::Ambiguous { count: 4, .. })), "{common}");
        assert!(matches!(store.find("ZZZZ"), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn a_record_of_a_newer_format_is_refused_by_name() {
        let (store, runs) = filled();
        let mut value = serde_json::to_value(&runs[0]).unwrap();
        value["format"] = "ebb.run/v9".into();
        store.runs.insert(runs[0].id.as_bytes(), serde_json::to_vec(&value).unwrap()).unwrap();
        let err = store.get(&runs[0].id).unwrap_err().to_string();
        assert!(err.contains("ebb.run/v9") && err.contains("newer ebb"), "{err}");
    }

    #[test]
    fn the_store_reopens_with_its_runs() {
        let dir = tempfile::tempdir().unwrap().keep();
        let run = sample("nightly", RunState::Succeeded, T0);
        {
            let store = SledStore::open(&dir).unwrap();
            store.save(&run).unwrap();
        }
        // sled's file lock can outlive a dropped handle by a few milliseconds
        // (its threads let go last); DataDir retries the same way.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let store = loop {
            match SledStore::open(&dir) {
                Err(StoreError::SledLocked(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => break other.unwrap(),
            }
        };
        assert_eq!(store.get(&run.id).unwrap(), Some(run));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
