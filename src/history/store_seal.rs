//! A damaged store must reach `ebb history repair` as it was: sled takes a
//! flipped byte for a torn write when it opens the store and rewrites the
//! log after it, losing every run recorded later. So ebb notes the store's
//! files (names, sizes, modification times) each time it closes the store
//! cleanly, and before an open finds them changed since — a crash, a full
//! disk, damage from outside — copies them aside first. The copy is what
//! repair reads when the open then fails; a clean close removes it. The note
//! also counts the runs stored: sled takes a damaged last write for a torn
//! one and drops it without a word, and a count that fell while the files
//! were changed from outside is how that loss is seen.

use std::path::Path;

use super::store_files::store_files;
use super::store_repair::copy_store;

/// Where the files are copied before an open of a store not closed cleanly.
pub const PRE_OPEN_COPY: &str = "history.pre-open";
/// The note of the files as the last clean close left them.
const SEAL: &str = "history.sealed";
/// Left when an open found fewer runs than the last clean close: until
/// `repair` removes it, no close seals the store or drops the copy.
const SUSPECT: &str = "history.suspect";

/// Notes the store's files as they are now, after a clean close that left
/// `runs` runs; not while the store is suspect.
pub fn seal(root: &Path, runs: u64) {
    if root.join(SUSPECT).exists() {
        return;
    }
    let Some(files) = fingerprint(&root.join("history")) else { return };
    if std::fs::write(root.join(SEAL), format!("runs {runs}\n{files}")).is_ok() {
        let _ = std::fs::remove_dir_all(root.join(PRE_OPEN_COPY));
    }
}

/// The store's files changed since the last clean close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsealed {
    /// They were copied aside first.
    pub copied: bool,
    /// Runs stored at the last clean close, if one was noted.
    pub runs_at_close: Option<u64>,
}

/// Copies the store aside when its files are not as the last clean close
/// left them; `None` when they are (or there is no store yet).
pub fn guard(root: &Path) -> Option<Unsealed> {
    let unsealed = inspect(root)?;
    let copy = root.join(PRE_OPEN_COPY);
    // A suspect store's copy is the evidence: kept as it was.
    if root.join(SUSPECT).exists() {
        return Some(Unsealed { copied: copy.exists(), ..unsealed });
    }
    // Never fill the disk with the copy: it needs the store's size and the margin besides.
    let size = dir_size(&root.join("history"));
    let free = fs2::available_space(root).unwrap_or(0);
    if free < size.saturating_add(super::free_space::MARGIN) {
        tracing::warn!("too little free space to keep a copy of the history store before opening it");
        return Some(Unsealed { copied: false, ..unsealed });
    }
    let copied = copy_store(&root.join("history"), &copy).is_ok();
    if !copied {
        let _ = std::fs::remove_dir_all(&copy);
    }
    Some(Unsealed { copied, ..unsealed })
}

fn dir_size(dir: &Path) -> u64 {
    store_files(dir).map(|(_, _, meta)| meta.len()).sum()
}

/// Marks the store suspect: it held `runs_at_close` runs when last closed
/// cleanly, and fewer now.
pub fn suspect(root: &Path, runs_at_close: u64) {
    let _ = std::fs::write(root.join(SUSPECT), format!("runs {runs_at_close}\n"));
}

/// Clears the mark (after a repair), sealing what is there now.
pub fn clear_suspect(root: &Path, runs: u64) {
    let _ = std::fs::remove_file(root.join(SUSPECT));
    seal(root, runs);
}

/// Lowers the run count noted at the last clean close by one, before a run
/// is deleted (retention), so that a crash after the deletion is not taken
/// for a loss.
pub fn one_fewer(root: &Path) {
    let Ok(sealed) = std::fs::read_to_string(root.join(SEAL)) else { return };
    let Some((runs, files)) = sealed.split_once('\n') else { return };
    let Some(runs) = runs.strip_prefix("runs ").and_then(|n| n.parse::<u64>().ok()) else { return };
    let _ = std::fs::write(root.join(SEAL), format!("runs {}\n{files}", runs.saturating_sub(1)));
}

/// Whether the store's files changed since the last clean close (or it is
/// suspect), copying nothing.
pub fn inspect(root: &Path) -> Option<Unsealed> {
    if let Ok(text) = std::fs::read_to_string(root.join(SUSPECT)) {
        let runs_at_close = text.trim().strip_prefix("runs ").and_then(|n| n.parse().ok());
        return Some(Unsealed { copied: false, runs_at_close });
    }
    let now = fingerprint(&root.join("history"))?;
    let sealed = std::fs::read_to_string(root.join(SEAL)).ok();
    let (runs_at_close, files) = match sealed.as_deref().and_then(|s| s.split_once('\n')) {
        Some((runs, files)) => (runs.strip_prefix("runs ").and_then(|n| n.parse().ok()), Some(files)),
        None => (None, None),
    };
    (files != Some(now.as_str())).then_some(Unsealed { copied: false, runs_at_close })
}

/// Each file's name, size and modification time; `None` when there is no store yet.
fn fingerprint(dir: &Path) -> Option<String> {
    let mut lines = Vec::new();
    for (sub, entry, meta) in store_files(dir) {
        let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
        lines.push(format!("{sub}/{} {} {modified}", entry.file_name().to_string_lossy(), meta.len()));
    }
    if lines.is_empty() {
        return None;
    }
    lines.sort();
    Some(lines.join("\n"))
}
