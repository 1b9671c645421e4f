//! `ebb history check` and `ebb history repair`: real damage to the store
//! (a flipped byte, a torn file) found and reported, and every readable
//! record salvaged into a fresh store. The damaged store is kept beside it,
//! renamed, and every run that could not be salvaged is named: nothing is
//! dropped in silence. docs/RELIABILITY.md.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use super::data_dir::{DataDir, Holder, open_sled};
use super::record::RunRecord;
use super::salvage;
use super::sled_store::SledStore;
use super::store::{Store, StoreError};

/// What a check of the store found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub store: String,
    /// Why the store cannot be opened, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unopenable: Option<String>,
    /// Runs whose record reads.
    pub readable: usize,
    /// Runs whose record does not read, with why.
    pub unreadable: Vec<(String, String)>,
    /// Runs the store lists but holds no record of.
    pub missing: Vec<String>,
    /// How many fewer runs it holds than when it was last closed cleanly,
    /// its files changed since: runs sled dropped as a torn last write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fewer_than_at_close: Option<u64>,
}

impl CheckReport {
    pub fn healthy(&self) -> bool {
        self.unopenable.is_none()
            && self.unreadable.is_empty()
            && self.missing.is_empty()
            && self.fewer_than_at_close.is_none()
    }
}

/// What a repair did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    pub store: String,
    /// Nothing was wrong: the store is as it was.
    pub nothing_to_repair: bool,
    /// Runs copied into the fresh store.
    pub salvaged: usize,
    /// Runs that existed but whose record could not be read anywhere.
    pub lost: Vec<String>,
    /// Runs lost whose ids nothing names any more (the store held this many
    /// more when it was last closed cleanly).
    pub lost_unnamed: u64,
    /// Where the damaged store was moved, kept for inspection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged_kept_at: Option<String>,
    /// The store could not be opened, so its files were read byte by byte;
    /// runs that retention had deleted may come back, and retention applies again.
    pub read_from_files: bool,
}

const WAIT: Duration = Duration::from_secs(2);

impl DataDir {
    /// Reads every record the store lists. sled rewrites what it takes for a
    /// torn tail when it opens a damaged store, so the check opens a copy and
    /// the store itself is left as it was, for `repair`.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let _lock = self.lock_as(&Holder::brief(), WAIT)?;
        let mut report = CheckReport { store: self.sled_dir().display().to_string(), ..CheckReport::default() };
        let runs_at_close = super::store_seal::inspect(self.root()).and_then(|u| u.runs_at_close);
        let copy = self.root().join("history.checking");
        if let Err(e) = copy_store(&self.sled_dir(), &copy) {
            let _ = std::fs::remove_dir_all(&copy);
            return Err(e);
        }
        match open_sled(&copy) {
            Ok(store) => {
                let read = read_all(&store);
                drop(store);
                let (readable, unreadable, missing) = match read {
                    Ok(read) => read,
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&copy);
                        return Err(e);
                    }
                };
                let listed = (readable.len() + unreadable.len()) as u64;
                report.fewer_than_at_close = runs_at_close.filter(|at| *at > listed).map(|at| at - listed);
                report.readable = readable.len();
                report.unreadable = unreadable;
                report.missing = missing;
            }
            Err(e) => {
                let copy_name = copy.display().to_string();
                report.unopenable = Some(e.to_string().replace(&copy_name, &report.store));
            }
        }
        let _ = std::fs::remove_dir_all(&copy);
        Ok(report)
    }

    /// Salvages every readable record into a fresh store that takes the
    /// damaged one's place; the damaged one is kept, renamed. The store's
    /// files are read byte by byte before sled opens a copy of them.
    pub fn repair(&self) -> Result<RepairReport, StoreError> {
        let _lock = self.lock_as(&Holder::brief(), WAIT)?;
        let dir = self.sled_dir();
        let mut report = RepairReport { store: dir.display().to_string(), ..RepairReport::default() };
        let runs_at_close = super::store_seal::inspect(self.root()).and_then(|u| u.runs_at_close);
        let mut found = salvage::scan(&dir);
        // What the store looked like before an open that failed, if one did (store_seal.rs).
        found.absorb(salvage::scan(&self.root().join(super::store_seal::PRE_OPEN_COPY)));
        let copy = self.root().join("history.checking");
        let opened = copy_store(&dir, &copy).and_then(|()| open_sled(&copy)).and_then(|store| read_all(&store));
        let _ = std::fs::remove_dir_all(&copy);
        let shrank = |stored: usize| runs_at_close.is_some_and(|at| at > stored as u64);
        let (records, mut lost) = match opened {
            Ok((readable, unreadable, missing))
                if unreadable.is_empty() && missing.is_empty() && !shrank(readable.len()) =>
            {
                report.nothing_to_repair = true;
                report.salvaged = readable.len();
                return Ok(report);
            }
            Ok((mut records, unreadable, missing)) => {
                // The store opened: its list of runs is the truth, and a damaged run may have another copy in the files.
                let mut lost = Vec::new();
                let listed = records.len() + unreadable.len();
                let mut stored: BTreeSet<String> = records.iter().map(|r| r.id.clone()).collect();
                for id in unreadable.into_iter().map(|(id, _)| id).chain(missing) {
                    stored.insert(id.clone());
                    match found.records.remove(&id) {
                        Some(record) => records.push(record),
                        None => lost.push(id),
                    }
                }
                if shrank(listed) {
                    // sled dropped runs as a torn last write: every record the files hold that the
                    // store lacks comes back (runs retention deleted may be among them).
                    report.read_from_files = true;
                    records.extend(found.records.into_values().filter(|r| !stored.contains(&r.id)));
                    let at_close = runs_at_close.unwrap_or_default();
                    report.lost_unnamed = at_close.saturating_sub(records.len() as u64);
                }
                (records, lost)
            }
            Err(_) => {
                report.read_from_files = true;
                let salvaged: BTreeSet<String> = found.records.keys().cloned().collect();
                let lost = found.named.difference(&salvaged).cloned().collect();
                (found.records.into_values().collect(), lost)
            }
        };
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let fresh_dir = self.root().join(format!("history.repairing-{stamp}"));
        let io = |what: &str, e: std::io::Error| StoreError::Io(format!("{what}: {e}"));
        let written = SledStore::open(&fresh_dir).and_then(|fresh| {
            records.iter().try_for_each(|record| fresh.save(record))?;
            fresh.flush()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&fresh_dir);
            return Err(e);
        }
        let kept = self.root().join(format!("history.damaged-{stamp}"));
        std::fs::rename(&dir, &kept).map_err(|e| io("moving the damaged store aside", e))?;
        std::fs::rename(&fresh_dir, &dir).map_err(|e| io("putting the repaired store in place", e))?;
        super::store_seal::clear_suspect(self.root(), records.len() as u64);
        lost.sort();
        report.salvaged = records.len();
        report.lost = lost;
        report.damaged_kept_at = Some(kept.display().to_string());
        Ok(report)
    }
}

/// Copies sled's directory `from` (its files and `blobs`) to `to`, replacing `to`.
pub(super) fn copy_store(from: &std::path::Path, to: &std::path::Path) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Io(format!("copying {} to {}: {e}", from.display(), to.display()));
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.join("blobs")).map_err(io)?;
    for (sub, entry, _) in super::store_files::store_files(from) {
        std::fs::copy(entry.path(), to.join(sub).join(entry.file_name())).map_err(io)?;
    }
    Ok(())
}

/// The store's records that read; those that do not, with why; ids listed without a record.
#[allow(clippy::type_complexity)]
fn read_all(store: &SledStore) -> Result<(Vec<RunRecord>, Vec<(String, String)>, Vec<String>), StoreError> {
    let mut readable = Vec::new();
    let mut unreadable = Vec::new();
    let stored = store.run_ids()?;
    for id in &stored {
        match store.get(id) {
            Ok(Some(record)) => readable.push(record),
            Ok(None) => {}
            Err(e) => unreadable.push((id.clone(), e.to_string())),
        }
    }
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let missing = store.summary_ids()?.into_iter().filter(|id| !stored.contains(id)).collect();
    Ok((readable, unreadable, missing))
}
