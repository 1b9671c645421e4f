//! What history keeps of a plan under the two-person rule: who planned it,
//! what it needs, who approved or rejected it and when, and the run that
//! applied it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// Distinct approvers needed, other than the planner.
    pub required: u32,
    /// The least role an approver's token has (`operator` or `admin`).
    pub role: String,
    /// Who planned it: a token's name, or `schedule`.
    pub planned_by: String,
    /// After this, it can no longer be approved.
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub approvals: Vec<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Decision>,
    /// The run that applied it once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_in: Option<String>,
}

/// One approval or rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The token's name.
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ApprovalRecord {
    pub fn is_approved(&self) -> bool {
        self.approvals.len() >= self.required as usize
    }
}
