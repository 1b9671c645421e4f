//! A runbook built from a command line (`ebb reset`, `ebb query`, `ebb
//! purge`): the line as typed and the runbook text it stands for. Plans and
//! history keep both, so a one-off reads back as a runbook (`ebb show`) and
//! its apply is checked against the very runbook it planned.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLine {
    /// The command as typed, from `ebb` on, each word quoted as a shell needs.
    pub line: String,
    /// The equivalent runbook, as YAML.
    pub runbook: String,
}
