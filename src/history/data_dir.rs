//! The data dir (`data_dir` in ebb.yaml): the sled store in `history/`, run
//! locks in `locks/`, and `history.lock`, which says who has the store open.
//!
//! sled admits one process per store. CLI commands open it for the moment a
//! read or write takes and close it again, so any number of them can run side
//! by side (one waits up to [`BRIEF_WAIT`] for another's moment to pass). A
//! long-lived holder (the daemon) says so in `history.lock`, and a command
//! that finds it there stops at once with a message saying who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::record::RunRecord;
use super::recovery::mark_interrupted;
use super::retention::Retention;
use super::run_locks::LockDir;
use super::sled_store::SledStore;
use super::store::{RunPage, RunQuery, Store, StoreError};
use crate::config::Config;

/// How long a command waits for another command to close the store.
pub const BRIEF_WAIT: Duration = Duration::from_secs(10);

/// How often a process that keeps using the store applies retention again.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Who has the store open, as written in `history.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// `ebb run`, `ebb daemon`…
    pub command: String,
    /// Where a long-lived holder serves the history API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

impl Holder {
    /// This process, holding the store for a moment.
    pub fn brief() -> Self {
        let command = std::env::args().nth(1).map_or_else(|| "ebb".to_owned(), |c| format!("ebb {c}"));
        Holder { pid: std::process::id(), command, api: None }
    }
}

pub struct DataDir {
    root: PathBuf,
    retention: Retention,
    retention_every: Duration,
    /// When this process last applied retention.
    retained_at: Mutex<Option<Instant>>,
    /// Saves put every state change in the audit outbox (ebb.yaml has `audit:`).
    audit: bool,
}

/// The store, open; closed (and `history.lock` released) on drop.
pub struct OpenStore {
    /// `None` only while it is dropped.
    store: Option<SledStore>,
    root: PathBuf,
    _holder: File,
}

impl Deref for OpenStore {
    type Target = SledStore;
    fn deref(&self) -> &SledStore {
        self.store.as_ref().expect("open until dropped")
    }
}

/// Closes the store, then notes its files as cleanly closed (store_seal.rs),
/// all while `history.lock` is still held.
impl Drop for OpenStore {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let runs = store.run_count();
            let flushed = store.flush();
            drop(store);
            if let (Ok(runs), Ok(())) = (runs, flushed) {
                super::store_seal::seal(&self.root, runs);
            }
        }
    }
}

impl DataDir {
    pub fn new(root: PathBuf, retention: Retention) -> Self {
        DataDir { root, retention, retention_every: RETENTION_EVERY, retained_at: Mutex::new(None), audit: false }
    }

    /// Applies retention again after `every` (instead of [`RETENTION_EVERY`]).
    pub fn with_retention_every(mut self, every: Duration) -> Self {
        self.retention_every = every;
        self
    }

    pub fn from_config(config: &Config) -> Self {
        let mut data = DataDir::new(config.data_dir.clone(), Retention::from(&config.history));
        data.audit = config.audit.is_some();
        data
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn locks(&self) -> LockDir {
        LockDir::new(self.root.join("locks"))
    }

    /// Opens the store for a moment (a command's read or write).
    pub fn open(&self) -> Result<OpenStore, StoreError> {
        self.open_as(&Holder::brief(), BRIEF_WAIT)
    }

    /// Opens the store as `holder`, waiting up to `wait` for a brief holder to
    /// let go. Runs left `running` by dead processes become `interrupted`;
    /// retention runs on the first open of this process, and again on an open
    /// once `retention_every` has passed.
    pub fn open_as(&self, holder: &Holder, wait: Duration) -> Result<OpenStore, StoreError> {
        // Waiting for the lock, opening sled, recovery and retention all block.
        super::off_runtime::off_runtime(|| self.open_now(holder, wait))
    }

    fn open_now(&self, holder: &Holder, wait: Duration) -> Result<OpenStore, StoreError> {
        let file = self.lock_as(holder, wait)?;
        let unsealed = super::store_seal::guard(&self.root);
        let copied = unsealed.is_some_and(|u| u.copied);
        let mut sled = open_sled(&self.sled_dir()).map_err(|e| match e {
            StoreError::Open { dir, reason } if copied => StoreError::Open {
                dir,
                reason: format!(
                    "{reason}; its files as they were before this open are kept in {}; run `ebb history repair`",
                    self.root.join(super::store_seal::PRE_OPEN_COPY).display()
                ),
            },
            StoreError::Open { dir, reason } => {
                StoreError::Open { dir, reason: format!("{reason}; run `ebb history repair`") }
            }
            other => other,
        })?;
        if let Some(before) = unsealed.and_then(|u| u.runs_at_close)
            && let Ok(now) = sled.run_count()
            && now < before
        {
            super::store_seal::suspect(&self.root, before);
            tracing::error!(
                store = %self.sled_dir().display(),
                runs_at_close = before,
                runs_now = now,
                "the history store holds fewer runs than when it was last closed, and its files were changed \
                 since: runs may have been lost to damage. Its files as they were are kept in {}; run \
                 `ebb history check`, then `ebb history repair`",
                super::store_seal::PRE_OPEN_COPY
            );
        }
        if self.audit {
            sled.audit_state_changes();
        }
        let store = OpenStore { store: Some(sled), root: self.root.clone(), _holder: file };
        mark_interrupted(&*store, &self.locks())?;
        self.retain_if_due(&store)?;
        Ok(store)
    }

    /// sled's own directory inside the data dir.
    pub fn sled_dir(&self) -> PathBuf {
        self.root.join("history")
    }

    /// Takes `history.lock` as `holder`, waiting up to `wait` for a brief
    /// holder to let go; the store is ours while the file stays open.
    pub fn lock_as(&self, holder: &Holder, wait: Duration) -> Result<File, StoreError> {
        let dir = self.root.display().to_string();
        let io = |e: std::io::Error| StoreError::Open { dir: dir.clone(), reason: e.to_string() };
        std::fs::create_dir_all(&self.root).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.root.join("history.lock"))
            .map_err(io)?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let other = read_holder(&mut file);
                    let long_lived = other.as_ref().is_some_and(|h| h.api.is_some());
                    if long_lived || Instant::now() >= deadline {
                        return Err(busy(&dir, other.as_ref(), wait));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let text = serde_json::to_string(holder).map_err(|e| io(e.into()))?;
        file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(text.as_bytes())).map_err(io)?;
        Ok(file)
    }

    /// The API address of a daemon holding the store now, if one does; the
    /// CLI's history commands go through it.
    pub fn held_by_daemon(&self) -> Option<String> {
        let mut file = OpenOptions::new().read(true).open(self.root.join("history.lock")).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(TryLockError::WouldBlock) => read_holder(&mut file).and_then(|h| h.api),
            Err(TryLockError::Error(_)) => None,
        }
    }

    fn retain_if_due(&self, store: &SledStore) -> Result<(), StoreError> {
        let mut retained_at = self.retained_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if retained_at.is_some_and(|at| at.elapsed() < self.retention_every) {
            return Ok(());
        }
        let removed = self.retention.apply(store, Utc::now())?;
        if removed > 0 {
            tracing::info!(removed, "history retention deleted old runs");
        }
        *retained_at = Some(Instant::now());
        Ok(())
    }
}

/// Opens sled once `history.lock` is ours. sled's own file lock can outlive a
/// closed handle by a few milliseconds (its background threads let go last),
/// so a store this process just closed is retried for a while.
pub(super) fn open_sled(dir: &Path) -> Result<SledStore, StoreError> {
    let deadline = Instant::now() + BRIEF_WAIT;
    loop {
        match SledStore::open(dir) {
            Err(StoreError::SledLocked(_)) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            other => return other,
        }
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn busy(dir: &str, holder: Option<&Holder>, waited: Duration) -> StoreError {
    let (who, advice) = match holder {
        Some(Holder { pid, command, api: Some(api) }) => (
            format!("{command} (pid {pid})"),
            format!(
                ", which keeps it open while it runs: use its API at {api} for history, or stop the daemon to use \
                 this command"
            ),
        ),
        Some(Holder { pid, command, api: None }) => (
            format!("{command} (pid {pid})"),
            format!("; waited {}s for it to let go; try again when it has finished", waited.as_secs()),
        ),
        None => (
            "another process".to_owned(),
            format!("; waited {}s for it to let go; try again when it has finished", waited.as_secs()),
        ),
    };
    StoreError::Busy { dir: dir.to_owned(), holder: who, advice }
}

/// Each call opens the store for its moment.
impl Store for DataDir {
    fn save(&self, record: &RunRecord) -> Result<(), StoreError> {
        self.open()?.save(record)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.open()?.get(id)
    }

    fn remove(&self, id: &str) -> Result<bool, StoreError> {
        self.open()?.remove(id)
    }

    fn page(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        self.open()?.page(query)
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.open()?.ids_with_prefix(prefix, limit)
    }

    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.open()?.runbook_counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::{RunState, sample};

    fn data_dir() -> DataDir {
        let root = tempfile::tempdir().unwrap().keep();
        DataDir::new(
            root,
            Retention { max_age: Duration::from_secs(86_400 * 365 * 100), max_runs: 100, max_plans: 100 },
        )
    }

    #[test]
    fn commands_take_turns_and_a_daemon_holder_is_named_at_once() {
        let data = data_dir();
        let run = sample("a", RunState::Succeeded, 1_763_686_800_000);
        data.save(&run).unwrap();
        assert_eq!(data.get(&run.id).unwrap(), Some(run.clone()), "each call opens and closes the store");

        let brief = data.open().unwrap();
        let started = Instant::now();
        let err = data.open_as(&Holder::brief(), Duration::from_millis(300)).err().unwrap().to_string();
        assert!(started.elapsed() >= Duration::from_millis(300), "a brief holder is waited for");
        assert!(err.contains(&format!("pid {}", std::process::id())) && err.contains("waited"), "{err}");
        drop(brief);

        let daemon = Holder { pid: 4242, command: "ebb daemon".into(), api: Some("http://127.0.0.1:8480".into()) };
        let held = data.open_as(&daemon, Duration::ZERO).unwrap();
        let started = Instant::now();
        let err = data.open().err().unwrap().to_string();
        assert!(started.elapsed() < BRIEF_WAIT / 2, "a long-lived holder is not waited for");
        assert!(err.contains("ebb daemon (pid 4242)") && err.contains("use its API at http://127.0.0.1:8480"), "{err}");
        assert_eq!(data.held_by_daemon().as_deref(), Some("http://127.0.0.1:8480"));
        drop(held);
        assert_eq!(data.held_by_daemon(), None);
        let brief = data.open().unwrap();
        assert_eq!(data.held_by_daemon(), None, "a command is not a daemon");
        drop(brief);
        let _ = std::fs::remove_dir_all(data.root());
    }

    #[test]
    fn saves_back_to_back_reopen_a_store_this_process_just_closed() {
        let data = data_dir();
        {
            let store = data.open().unwrap();
            for i in 0..3_000 {
                store.save(&sample("a", RunState::Succeeded, 1_763_686_800_000 + i)).unwrap();
            }
        }
        for i in 0..100 {
            data.save(&sample("b", RunState::Running, 1_763_686_900_000 + i)).unwrap();
        }
        assert_eq!(data.runbook_counts().unwrap(), [("a".to_owned(), 3_000), ("b".to_owned(), 100)]);
        let _ = std::fs::remove_dir_all(data.root());
    }

    #[test]
    fn retention_runs_at_the_first_open_and_again_when_due() {
        let root = tempfile::tempdir().unwrap().keep();
        let keep_one = Retention { max_age: Duration::from_secs(86_400 * 365 * 100), max_runs: 1, max_plans: 1 };
        let data = DataDir::new(root.clone(), keep_one).with_retention_every(Duration::from_millis(400));
        let now = Utc::now().timestamp_millis();
        for i in 0..3 {
            data.save(&sample("a", RunState::Succeeded, now + i)).unwrap();
        }
        assert_eq!(data.runbook_counts().unwrap(), [("a".to_owned(), 3)], "not due yet");
        std::thread::sleep(Duration::from_millis(450));
        assert_eq!(data.runbook_counts().unwrap(), [("a".to_owned(), 1)], "due: applied on open");
        // Another process starting up applies it at once.
        data.save(&sample("a", RunState::Succeeded, now + 10)).unwrap();
        let fresh = DataDir::new(root.clone(), keep_one);
        assert_eq!(fresh.runbook_counts().unwrap(), [("a".to_owned(), 1)]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
