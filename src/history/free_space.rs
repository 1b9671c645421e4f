//! The free-space margin under the history store. sled left a store it could
//! not reopen after a write failed on a full disk (an empty snapshot file,
//! see unfinished_snapshots.rs), so ebb writes nothing to it while less than
//! [`MARGIN`] is free: a run is refused before it changes anything, and the
//! store is never written to the last byte.

use std::path::Path;

use super::store::StoreError;

/// The least free space under the store for a write to go ahead.
pub const MARGIN: u64 = 32 * 1024 * 1024;

/// Refuses when the filesystem holding `dir` has less than [`MARGIN`] free.
pub fn ensure(dir: &Path) -> Result<(), StoreError> {
    // A filesystem that cannot say is not refused: the write will tell.
    let Ok(free) = fs2::available_space(dir) else { return Ok(()) };
    if free >= MARGIN {
        return Ok(());
    }
    Err(StoreError::DiskFull { dir: dir.display().to_string(), free: mebibytes(free), needed: mebibytes(MARGIN) })
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
