//! What planning one step gives the engine, before it is recorded.

use crate::step::StepStatus;

use super::detail::StepDetail;

#[derive(Debug)]
pub struct KindPlan {
    pub status: StepStatus,
    pub detail: StepDetail,
    /// Why it was skipped or refused.
    pub reason: Option<String>,
    pub warnings: Vec<String>,
}

impl KindPlan {
    pub fn new(status: StepStatus, detail: StepDetail) -> Self {
        KindPlan { status, detail, reason: None, warnings: Vec::new() }
    }

    /// A step that ran or planned unless `refusal` says why not.
    pub fn unless_refused(planned: StepStatus, detail: StepDetail, refusal: Option<String>) -> Self {
        let status = if refusal.is_some() { StepStatus::Refused } else { planned };
        KindPlan { reason: refusal, ..KindPlan::new(status, detail) }
    }
}
