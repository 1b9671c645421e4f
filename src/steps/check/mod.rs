//! `check`: refuse the run when a condition renders false (SPEC §3.6).

use crate::runbook::spec::CheckSpec;
use crate::runbook::templates::is_truthy;
use crate::step::{Fields, StepError, StepStatus};

use super::{KindPlan, StepDetail};

pub fn plan(spec: &CheckSpec, fields: &Fields<'_>) -> Result<KindPlan, StepError> {
    if is_truthy(&fields.text("that", &spec.that)?) {
        return Ok(KindPlan::new(StepStatus::Ok, StepDetail::Check { message: None }));
    }
    let message = match &spec.message {
        Some(message) => fields.text("message", message)?,
        None => format!("check failed: {}", spec.that),
    };
    Ok(KindPlan::unless_refused(StepStatus::Ok, StepDetail::Check { message: Some(message.clone()) }, Some(message)))
}
