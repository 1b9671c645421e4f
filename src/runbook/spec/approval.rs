//! `approval:`: the two-person rule. A runbook that says it has its applies
//! (from the API, the CLI through the daemon, or its schedule) recorded as
//! *pending* plans, applied only once enough other token holders approve.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::HumanDuration;

/// Who must approve a plan of this runbook before it is applied.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSpec {
    /// How many distinct token holders, other than the one who planned, must approve.
    #[schemars(range(min = 1))]
    pub required: u32,
    /// The least role an approver's token has: `operator` (default) or `admin`.
    #[serde(default)]
    pub role: Option<ApproverRole>,
    /// How long a pending plan can be approved; default `24h`.
    #[serde(default)]
    pub expires: Option<HumanDuration>,
}

/// Roles that may approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApproverRole {
    /// Operators and admins.
    Operator,
    /// Admins only.
    Admin,
}
