//! The run locks a daemon takes: its data dir's lock files, and in a
//! coordinated deployment (docs/HA.md) also lock records on the state topic,
//! written in a transaction of the cluster's owner. So every replica (and
//! `ebb cluster-status`) sees what a run holds, a replica that no longer owns
//! the cluster cannot take them, and a new owner lets go of the locks of the
//! runs it takes over.

use std::sync::Arc;

use crate::coordination::{Coordination, off_worker};
use crate::history::{Held, LockDir, RunState, Store, Target};
use crate::runs::{Guard, RunLocks};

pub struct DeploymentLocks<'a> {
    pub local: &'a LockDir,
    pub coordination: Option<&'a Arc<Coordination>>,
    /// Where a lock's holder is looked up: a lock of a run no longer running is free.
    pub store: &'a dyn Store,
}

/// Lets go of the deployment's locks when the run is done with them.
struct Release {
    coordination: Arc<Coordination>,
    cluster: String,
    targets: Vec<Target>,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Err(why) = off_worker(|| self.coordination.release_locks(&self.cluster, &self.targets)) {
            // The cluster's next owner lets go of them as it takes the run over.
            tracing::warn!(cluster = %self.cluster, why, "the deployment's run locks are left for the next owner");
        }
    }
}

impl RunLocks for DeploymentLocks<'_> {
    fn acquire(&self, cluster: &str, targets: &[Target], run_id: &str) -> std::io::Result<Result<Guard, Held>> {
        let local = match RunLocks::acquire(self.local, cluster, targets, run_id)? {
            Ok(local) => local,
            Err(held) => return Ok(Err(held)),
        };
        let Some(coordination) = self.coordination else { return Ok(Ok(local)) };
        let running = |id: &str| self.store.get(id).ok().flatten().is_some_and(|r| r.status == RunState::Running);
        match off_worker(|| coordination.take_locks(cluster, targets, run_id, &running)) {
            Ok(Ok(())) => {
                let release = Release {
                    coordination: coordination.clone(),
                    cluster: cluster.to_owned(),
                    targets: targets.to_vec(),
                };
                Ok(Ok(Box::new((release, local))))
            }
            Ok(Err(held)) => Ok(Err(held)),
            Err(why) => Err(std::io::Error::other(why)),
        }
    }

    fn hold_run(&self, run_id: &str) -> std::io::Result<Guard> {
        RunLocks::hold_run(self.local, run_id)
    }

    fn describe(&self) -> String {
        match self.coordination {
            Some(c) => format!("{} and the deployment's state topic {}", self.local.describe(), c.names.state_topic()),
            None => self.local.describe(),
        }
    }
}
