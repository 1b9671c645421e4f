//! What may have changed between making a plan and applying it (SPEC §4): the
//! runbook file, a group's committed offsets on any partition in the plan, a
//! group that became active. `--force` overrides drift, never the gates.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "drift", rename_all = "snake_case")]
pub enum Drift {
    /// The file's SHA-256 differs, or (`now` null) the file is gone.
    RunbookChanged {
        path: String,
        planned_sha256: String,
        now_sha256: Option<String>,
    },
    OffsetMoved {
        group: String,
        topic: String,
        partition: i32,
        planned: Option<i64>,
        now: Option<i64>,
    },
    /// The group was inactive when planned and has live members now (the gate
    /// refuses this whatever `--force` says).
    GroupActive {
        group: String,
        activity: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |o: &Option<i64>| o.map_or_else(|| "none".to_owned(), |o| o.to_string());
        match self {
            Drift::RunbookChanged { path, now_sha256: None, .. } => write!(f, "runbook file {path} is gone"),
            Drift::RunbookChanged { path, .. } => write!(f, "runbook file {path} changed since the plan was made"),
            Drift::OffsetMoved { group, topic, partition, planned, now } => write!(
                f,
                "group {group:?} committed offset on {topic}:{partition} moved from {} to {} since the plan was made",
                show(planned),
                show(now)
            ),
            Drift::GroupActive { activity, .. } => {
                write!(f, "{activity} now (the change will be refused while it has members, --force or not)")
            }
        }
    }
}
