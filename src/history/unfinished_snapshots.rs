//! sled writes a snapshot of its page table to `snap.<lsn>.generating` and
//! renames it when complete. When the disk fills in between, the file stays
//! (often empty), and sled's next open reads it and fails ("Read corrupted
//! data"), so every run and rollback snapshot seemed lost. Such a file is
//! never a finished snapshot: removed before the store opens (by the process
//! holding `history.lock`), sled opens from its last complete snapshot and
//! its log.

use std::path::Path;

/// Removes unfinished snapshot files in sled's directory `dir`; returns how many.
pub fn remove(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") && std::fs::remove_file(entry.path()).is_ok() {
            tracing::warn!(file = %entry.path().display(), "removed an unfinished snapshot of the history store (left by a full disk or a crash)");
            removed += 1;
        }
    }
    removed
}
