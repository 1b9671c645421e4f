//! How a replica of a coordinated deployment (docs/HA.md) keeps a target
//! cluster from changes it is no longer entitled to make. The coordinator
//! implements this; a Kafka provider given one commits offsets in a
//! transaction under a transactional id per group (a newer committer's
//! `init_transactions` fences an older one) and asks it before every batch
//! of DeleteRecords, which Kafka cannot fence.

/// What a replica asks before it changes a cluster.
pub trait CommitFence: Send + Sync {
    /// The transactional id commits to `group` go under.
    fn transactional_id(&self, group: &str) -> String;

    /// Whether this process still owns the cluster, proven against the
    /// coordination cluster now: `Err` says why not. Blocks.
    fn still_owner(&self) -> Result<(), String>;
}
