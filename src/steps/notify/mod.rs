//! `notify`: send a message to a named target mid-run (SPEC §3.5). Planned
//! with its message rendered; delivered at apply through the run's
//! messenger. A message that cannot be delivered is recorded and does not
//! stop the run.

use crate::runbook::spec::NotifyStepSpec;
use crate::step::{Fields, Notification, StepError, StepStatus};

use super::{ApplyContext, KindPlan, StepApplied, StepDetail};

pub fn plan(spec: &NotifyStepSpec, fields: &Fields<'_>) -> Result<KindPlan, StepError> {
    let message = fields.text("message", &spec.message)?;
    Ok(KindPlan::new(StepStatus::Planned, StepDetail::Notify { to: spec.to.clone(), message: Some(message) }))
}

/// Sends the message: `applied` when delivered, `failed` (with why) when not,
/// `skipped` when this run has no way to send.
pub async fn apply(id: &str, to: &str, message: Option<&str>, context: &ApplyContext<'_>) -> StepApplied {
    let (status, reason) = match context.messenger {
        None => (StepStatus::Skipped, "this run has no notifier to deliver with".to_owned()),
        Some(messenger) => {
            let note = Notification {
                runbook: context.runbook.to_owned(),
                run_id: context.run_id.to_owned(),
                status: "running".to_owned(),
                summary: format!("step {id}"),
                message: message.unwrap_or_default().to_owned(),
                event: "step".to_owned(),
            };
            let delivery = messenger.send(to, &note).await;
            if delivery.delivered {
                (StepStatus::Applied, format!("delivered to {to} (attempt {})", delivery.attempts))
            } else {
                let why = delivery.error.unwrap_or_default();
                (StepStatus::Failed, format!("not delivered to {to} after {} attempt(s): {why}", delivery.attempts))
            }
        }
    };
    StepApplied { status, reason: Some(reason), detail: None, tolerated: true }
}

/// What follows the step's status on its line.
pub fn headline(to: &str, message: &str) -> String {
    format!(", to {to}: {message}")
}
