//! What a schedule does at each slot, and with slots it missed or that come
//! while a run still goes. Runbooks name these in `schedule:`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a scheduled run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleMode {
    /// Run and apply.
    Apply,
    /// Plan only.
    Plan,
}

/// Missed slots after downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissedPolicy {
    /// Run none of them.
    Skip,
    /// Run the latest one.
    Latest,
    /// Run each, up to `max_catchup`.
    All,
}

/// A slot that arrives while a run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// Drop the new slot (counted as skipped).
    Skip,
    /// Run it when the current run ends.
    Queue,
}
