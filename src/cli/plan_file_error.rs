//! Why a plan file could not be read or written. A file that reads as a plan
//! but differs from the one history keeps is `history::PlanMismatch`.

use std::path::PathBuf;

use crate::engine::plan::PLAN_FORMAT;

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read plan {}: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} is not a plan: {source}", .path.display())]
    NotJson { path: PathBuf, source: serde_json::Error },
    /// `found` is the file's `format` as JSON (`null` when it has none).
    #[error("{} is not an {PLAN_FORMAT} plan (format: {found})", .path.display())]
    WrongFormat { path: PathBuf, found: String },
    #[error("{} is not a valid plan: {source}", .path.display())]
    Invalid { path: PathBuf, source: serde_json::Error },
    #[error("cannot write the plan to {}: {source}", .path.display())]
    Write { path: PathBuf, source: std::io::Error },
}
