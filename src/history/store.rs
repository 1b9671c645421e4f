//! Where run records live, behind a trait: sled on disk by default
//! (`SledStore`), opened for a moment per operation by CLI commands
//! (`DataDir`), held open by a long-running process.

use chrono::{DateTime, Utc};

use super::record::{RunRecord, RunState, RunSummary};
use crate::engine::Trigger;

/// Which runs `list` returns, newest first unless `oldest_first`.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub runbook: Option<String>,
    pub status: Option<RunState>,
    /// Runs started at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Runs started before this instant.
    pub before: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
    pub oldest_first: bool,
    /// Runs whose steps read or changed this group.
    pub group: Option<String>,
    /// Runs whose steps read or changed this topic.
    pub topic: Option<String>,
    pub trigger: Option<Trigger>,
    /// Only runs whose id sorts before this one: the next page after a
    /// page that ended there ([`RunPage::resume_after`]). Pages go from the
    /// newest to older runs; with `oldest_first` a page says nothing of where it stopped.
    pub older_than: Option<String>,
    /// Look at no more than this many runs, matching or not, so that a
    /// filter few runs pass answers in bounded time; the page says where it stopped.
    pub scan_most: Option<usize>,
}

/// One page of runs, and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// The id of the last run looked at, when more may follow: pass it as
    /// `older_than` for the next page.
    pub resume_after: Option<String>,
}

impl RunQuery {
    /// Whether `summary` passes the group, topic and trigger filters (the
    /// indexes narrow by runbook, status and time; these are checked run by run).
    pub fn names_match(&self, summary: &RunSummary) -> bool {
        self.group.as_ref().is_none_or(|g| summary.groups.contains(g))
            && self.topic.as_ref().is_none_or(|t| summary.topics.contains(t))
            && self.trigger.is_none_or(|t| summary.trigger == t)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the history store at {dir} is in use by {holder}{advice}")]
    Busy { dir: String, holder: String, advice: String },
    #[error("cannot open the history store at {dir}: {reason}")]
    Open { dir: String, reason: String },
    /// sled's own lock on its files is taken (by this process's last handle,
    /// still closing, when `history.lock` is ours).
    #[error("the history store at {0} is locked by sled")]
    SledLocked(String),
    #[error("the history store failed: {0}")]
    Io(String),
    #[error("run {id} is stored in a format this ebb does not read ({format}); it was written by a newer ebb")]
    NewerFormat { id: String, format: String },
    #[error("the history store is damaged: {0}")]
    Corrupt(String),
    /// Too little disk left to record a run safely: nothing is written.
    #[error(
        "the disk holding the history store at {dir} has {free} free; ebb records nothing below {needed}, so that a full disk cannot damage the store. Free some space"
    )]
    DiskFull { dir: String, free: String, needed: String },
    #[error("no run {0} in history")]
    NotFound(String),
    #[error("{prefix} matches {count} runs in history; give more of the id")]
    Ambiguous { prefix: String, count: usize },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e.to_string())
    }
}

pub trait Store: Send + Sync {
    /// Inserts a run, or replaces the stored one with the same id; durable when it returns.
    fn save(&self, record: &RunRecord) -> Result<(), StoreError>;

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError>;

    /// Removes a run; `false` when there was none.
    fn remove(&self, id: &str) -> Result<bool, StoreError>;

    fn list(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError> {
        Ok(self.page(query)?.runs)
    }

    /// The runs `query` selects, at most `limit` and looking at no more than
    /// `scan_most`, without reading the rest.
    fn page(&self, query: &RunQuery) -> Result<RunPage, StoreError>;

    /// Ids of stored runs that start with `prefix`, at most `limit`.
    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError>;

    /// Every runbook with runs stored, and how many.
    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, StoreError>;

    /// The run with this id, or the only one whose id starts with it.
    fn find(&self, id_or_prefix: &str) -> Result<RunRecord, StoreError> {
        if let Some(record) = self.get(id_or_prefix)? {
            return Ok(record);
        }
        let ids = if id_or_prefix.is_empty() { Vec::new() } else { self.ids_with_prefix(id_or_prefix, 2)? };
        match ids.as_slice() {
            [id] => self.get(id)?.ok_or_else(|| StoreError::NotFound(id_or_prefix.to_owned())),
            [] => Err(StoreError::NotFound(id_or_prefix.to_owned())),
            _ => Err(StoreError::Ambiguous {
                prefix: id_or_prefix.to_owned(),
                count: self.ids_with_prefix(id_or_prefix, usize::MAX)?.len(),
            }),
        }
    }
}
