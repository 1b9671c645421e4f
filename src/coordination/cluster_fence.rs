//! The fence a replica's Kafka clients of one target cluster ask before
//! they change it: commits under the deployment's transactional id for the
//! group, and ownership of the cluster proven by a transaction of its
//! partition's owner, which fails once a newer owner has claimed it.

use std::sync::Arc;

use super::Coordination;
use crate::provider::CommitFence;

pub struct ClusterFence {
    pub coordination: Arc<Coordination>,
    pub cluster: String,
}

impl CommitFence for ClusterFence {
    fn transactional_id(&self, group: &str) -> String {
        self.coordination.names.commit_transactional_id(&self.cluster, group)
    }

    fn still_owner(&self) -> Result<(), String> {
        self.coordination.prove(&self.cluster)
    }
}
