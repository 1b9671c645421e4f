//! One step as a plan holds it: its status, its kind's typed detail, and what
//! the runbook said of its timeout and retries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runbook::spec::RetrySpec;
use crate::step::StepStatus;
use crate::time::HumanDuration;

use super::detail::StepDetail;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub id: String,
    pub status: StepStatus,
    #[serde(flatten)]
    pub detail: StepDetail,
    /// Why the step was skipped, refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Things an apply may trip over (an active group, for one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetrySpec>,
}

impl PlannedStep {
    /// `steps.<id>.output` for later templates: nothing for a step that was skipped or failed.
    pub fn output(&self) -> Option<Value> {
        match self.status {
            StepStatus::Skipped | StepStatus::Failed => None,
            _ => self.detail.template_output(),
        }
    }
}
