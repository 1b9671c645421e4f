//! The files of sled's directory: its own and those in `blobs`, which is
//! everything a copy, a fingerprint or a salvage of the store has to read.

use std::fs::{DirEntry, Metadata};
use std::path::Path;

/// Each regular file of sled's directory `dir` (links are not followed),
/// with the folder it is in (`""` or `"blobs"`) and its metadata.
pub fn store_files(dir: &Path) -> impl Iterator<Item = (&'static str, DirEntry, Metadata)> + '_ {
    ["", "blobs"].into_iter().flat_map(move |sub| {
        std::fs::read_dir(dir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.metadata().ok().map(|meta| (entry, meta)))
            .filter(|(_, meta)| meta.is_file())
            .map(move |(entry, meta)| (sub, entry, meta))
    })
}
