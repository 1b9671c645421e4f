//! What keeps two runs from changing one group or topic at once, and tells a
//! live run from a dead one. On one machine it is lock files in the data dir
//! (`history::LockDir`); a cluster-wide coordinator can take its place behind
//! this trait.

use crate::history::{Held, LockDir, Target};

/// A lock held until it is dropped.
pub type Guard = Box<dyn Send>;

pub trait RunLocks: Send + Sync {
    /// Takes every target for run `run_id`, or none: the first one held
    /// elsewhere comes back with its holder.
    fn acquire(&self, cluster: &str, targets: &[Target], run_id: &str) -> std::io::Result<Result<Guard, Held>>;

    /// Marks run `run_id` as alive until the guard drops.
    fn hold_run(&self, run_id: &str) -> std::io::Result<Guard>;

    /// Where the locks are, for messages.
    fn describe(&self) -> String;
}

impl RunLocks for LockDir {
    fn acquire(&self, cluster: &str, targets: &[Target], run_id: &str) -> std::io::Result<Result<Guard, Held>> {
        Ok(LockDir::acquire(self, cluster, targets, run_id)?.map(|held| Box::new(held) as Guard))
    }

    fn hold_run(&self, run_id: &str) -> std::io::Result<Guard> {
        Ok(Box::new(LockDir::hold_run(self, run_id)?))
    }

    fn describe(&self) -> String {
        format!("run locks in {}", self.path().display())
    }
}
