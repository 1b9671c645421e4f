//! `check`: stop the run as refused when a condition does not hold (SPEC §3.5).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Refuse the run unless `that` renders truthy.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// A template; empty, `false`, `0` and `null` are falsy.
    pub that: String,
    /// Why the run stops, shown when `that` is falsy.
    #[serde(default)]
    pub message: Option<String>,
}
