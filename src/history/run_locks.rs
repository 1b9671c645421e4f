//! Locks between runs, across processes, as operating-system file locks in
//! `data_dir/locks/` (released by the kernel when a process dies, so a killed
//! run never leaves a stale lock):
//!
//! - one mutating run per (cluster, group) and per (cluster, topic): the file
//!   `<cluster>.group.<name>.lock` or `<cluster>.topic.<name>.lock`, holding
//!   the holder's run id;
//! - `run.<id>.lock`, held while run `<id>` runs: a `running` record whose
//!   lock nobody holds belongs to a process that died.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::percent_encoding::percent_encode;

/// What a mutating run changes, and so must have to itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Group(String),
    Topic(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Group(name) => write!(f, "group {name:?}"),
            Target::Topic(name) => write!(f, "topic {name:?}"),
        }
    }
}

/// Someone else holds a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub cluster: String,
    pub target: Target,
    /// The run holding it (empty if it had not written its id yet).
    pub holder: String,
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let holder = if self.holder.is_empty() { "another run".to_owned() } else { format!("run {}", self.holder) };
        write!(
            f,
            "{} on cluster {} is being changed by {holder}; nothing was changed (see `ebb show {}`, and try again when it \
             has finished)",
            self.target, self.cluster, self.holder
        )
    }
}

#[derive(Debug, Clone)]
pub struct LockDir {
    dir: PathBuf,
}

/// Locks held by one run; released on drop.
#[derive(Debug)]
pub struct TargetLocks {
    _files: Vec<File>,
}

/// Held while a run runs; on drop the lock is released and its file removed.
#[derive(Debug)]
pub struct RunAlive {
    file: Option<File>,
    path: PathBuf,
}

impl Drop for RunAlive {
    fn drop(&mut self) {
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

impl LockDir {
    pub fn new(dir: PathBuf) -> Self {
        LockDir { dir }
    }

    fn open(&self, name: &str) -> std::io::Result<File> {
        std::fs::create_dir_all(&self.dir)?;
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(self.dir.join(name))
    }

    /// Takes every target for run `run_id`, or none: the first one held
    /// elsewhere is returned with its holder.
    pub fn acquire(
        &self,
        cluster: &str,
        targets: &[Target],
        run_id: &str,
    ) -> Result<Result<TargetLocks, Held>, std::io::Error> {
        let mut sorted = targets.to_vec();
        sorted.sort();
        sorted.dedup();
        let mut files = Vec::with_capacity(sorted.len());
        for target in sorted {
            let (kind, name) = match &target {
                Target::Group(name) => ("group", name),
                Target::Topic(name) => ("topic", name),
            };
            let mut file = self.open(&format!("{}.{kind}.{}.lock", file_safe(cluster), file_safe(name)))?;
            match file.try_lock() {
                Ok(()) => {
                    file.set_len(0)?;
                    file.rewind()?;
                    file.write_all(run_id.as_bytes())?;
                    file.flush()?;
                    files.push(file);
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    file.read_to_string(&mut holder)?;
                    return Ok(Err(Held { cluster: cluster.to_owned(), target, holder: holder.trim().to_owned() }));
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(Ok(TargetLocks { _files: files }))
    }

    /// Marks run `run_id` as alive until the returned guard drops.
    pub fn hold_run(&self, run_id: &str) -> std::io::Result<RunAlive> {
        let file = self.open(&run_file(run_id))?;
        file.lock()?;
        Ok(RunAlive { file: Some(file), path: self.dir.join(run_file(run_id)) })
    }

    /// Whether the process running `run_id` still holds its lock.
    pub fn is_alive(&self, run_id: &str) -> bool {
        let path = self.dir.join(run_file(run_id));
        let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else { return false };
        match file.try_lock() {
            Ok(()) => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                false
            }
            Err(_) => true,
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

fn run_file(run_id: &str) -> String {
    format!("run.{}.lock", file_safe(run_id))
}

/// A name as a file name: letters, digits, `-` and `_` as they are, every
/// other byte as `%XX`, so different names never share a file.
fn file_safe(name: &str) -> String {
    percent_encode(name, b"-_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ebb-locks-{}", crate::engine::new_run_id(0)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn names_map_to_distinct_safe_files() {
        assert_eq!(file_safe("billing-v2_x"), "billing-v2_x");
        assert_eq!(file_safe("a.b/c"), "a%2Eb%2Fc");
        assert_ne!(file_safe("a.b"), file_safe("a%2Eb"));
    }

    #[test]
    fn a_held_target_is_refused_with_its_holder_and_freed_on_drop() {
        let locks = LockDir::new(scratch());
        let first = locks.acquire("local", &[Target::Group("billing".into())], "RUN-A").unwrap().unwrap();
        let targets = [Target::Topic("orders".into()), Target::Group("billing".into())];
        let held = locks.acquire("local", &targets, "RUN-B").unwrap().unwrap_err();
        assert_eq!(
            held,
            Held { cluster: "local".into(), target: Target::Group("billing".into()), holder: "RUN-A".into() }
        );
        assert!(
            held.to_string().contains("group \"billing\" on cluster local is being changed by run RUN-A"),
            "{held}"
        );
        // Another cluster's group of the same name is another target.
        assert!(locks.acquire("other", &targets, "RUN-C").unwrap().is_ok());
        drop(first);
        assert!(locks.acquire("local", &targets, "RUN-B").unwrap().is_ok());
    }

    #[test]
    fn a_run_is_alive_while_its_guard_lives() {
        let locks = LockDir::new(scratch());
        let alive = locks.hold_run("RUN-A").unwrap();
        assert!(locks.is_alive("RUN-A"));
        assert!(!locks.is_alive("RUN-B"));
        drop(alive);
        assert!(!locks.is_alive("RUN-A"));
    }
}
