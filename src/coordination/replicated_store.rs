//! The store a replica of a coordinated deployment records runs in: every
//! save goes first to the runs topic, in a transaction of the run's
//! cluster's owner (which fails once a newer owner has fenced this replica,
//! so a replica that lost a cluster cannot record, nor then change, anything
//! of it), and then to the replica's own store, which answers every read.
//! The tail brings the other replicas' records into the same store. Without
//! coordination it is the local store alone.

use super::{Coordination, off_worker};
use crate::history::{RunPage, RunQuery, RunRecord, Store, StoreError};

pub struct ReplicatedStore<'a> {
    pub local: &'a dyn Store,
    pub coordination: Option<&'a Coordination>,
}

impl Store for ReplicatedStore<'_> {
    fn save(&self, record: &RunRecord) -> Result<(), StoreError> {
        if let Some(coordination) = self.coordination {
            off_worker(|| coordination.publish_run(record))?;
        }
        self.local.save(record)
    }

    fn get(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.local.get(id)
    }

    fn remove(&self, id: &str) -> Result<bool, StoreError> {
        if let (Some(coordination), Some(record)) = (self.coordination, self.local.get(id)?) {
            off_worker(|| coordination.publish_removal(&record))?;
        }
        self.local.remove(id)
    }

    fn page(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        self.local.page(query)
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.local.ids_with_prefix(prefix, limit)
    }

    fn runbook_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.local.runbook_counts()
    }
}
