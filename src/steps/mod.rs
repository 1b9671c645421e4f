//! The step kinds, one folder each. A kind owns its whole life there: it
//! resolves its fields for a run (`resolve.rs`), plans, applies when it
//! mutates, finds its drift, and shows itself in a table (`view.rs`). This
//! file only dispatches on the closed set of kinds; `detail.rs` and
//! `applied_detail.rs` hold each kind's one typed output. The engine above
//! drives the kinds generically; what they share is in `step`, below them.

pub mod check;
pub mod compute_offsets;
pub mod delete_offsets;
pub mod notify;
pub mod purge_messages;
pub mod query_messages;
pub mod reset_offsets;

mod applied_detail;
mod detail;
mod earlier;
mod kind_plan;
mod planned_step;

use std::future::Future;

pub use applied_detail::AppliedDetail;
pub use detail::{StepDetail, Touches};
pub use earlier::Earlier;
pub use kind_plan::KindPlan;
pub use planned_step::PlannedStep;

use crate::provider::{Provider, ProviderError};
use crate::runbook::spec::StepKind;
use crate::step::{Drift, Fields, JournalError, Messenger, StepError, StepStatus, ViewSettings};
use crate::view_document::ViewDocument;

/// Plans one step of kind `kind`, its fields rendered by `fields`.
pub async fn plan<P: Provider>(
    kind: &StepKind,
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    match kind {
        StepKind::QueryMessages(spec) => query_messages::plan(spec, fields, provider).await,
        StepKind::ComputeOffsets(spec) => compute_offsets::plan(spec, fields, earlier, provider).await,
        StepKind::ResetOffsets(spec) => reset_offsets::plan(spec, fields, earlier, provider).await,
        StepKind::PurgeMessages(spec) => purge_messages::plan(spec, fields, provider).await,
        StepKind::DeleteOffsets(spec) => delete_offsets::plan(spec, fields, provider).await,
        StepKind::Check(spec) => check::plan(spec, fields),
        StepKind::Notify(spec) => notify::plan(spec, fields),
    }
}

/// The detail of a step of kind `kind` that did not run (skipped, refused, failed).
pub fn not_run(kind: &StepKind) -> StepDetail {
    match kind {
        StepKind::QueryMessages(_) => StepDetail::QueryMessages { output: None },
        StepKind::ComputeOffsets(_) => StepDetail::ComputeOffsets { output: None },
        StepKind::ResetOffsets(_) => StepDetail::ResetOffsets(Box::default()),
        StepKind::PurgeMessages(_) => StepDetail::PurgeMessages(Box::default()),
        StepKind::DeleteOffsets(_) => StepDetail::DeleteOffsets(Box::default()),
        StepKind::Check(_) => StepDetail::Check { message: None },
        StepKind::Notify(spec) => StepDetail::Notify { to: spec.to.clone(), message: None },
    }
}

/// What an apply gives a step besides the cluster.
pub struct ApplyContext<'a> {
    pub runbook: &'a str,
    pub run_id: &'a str,
    /// Saves what a mutating step has done so far (a reset's snapshot) before it changes anything.
    pub progress: &'a (dyn Fn(&AppliedDetail) -> Result<(), JournalError> + Sync),
    /// Delivers `notify` steps; without one they are skipped, saying so.
    pub messenger: Option<&'a dyn Messenger>,
}

/// How applying one step went.
#[derive(Debug)]
pub struct StepApplied {
    pub status: StepStatus,
    pub reason: Option<String>,
    pub detail: Option<AppliedDetail>,
    /// A failure that is recorded but does not stop the run (an undelivered notification).
    pub tolerated: bool,
}

impl StepApplied {
    /// From a mutating step's result and what it recorded.
    pub fn settled(result: Result<(), StepError>, detail: Option<AppliedDetail>) -> Self {
        let (status, reason) = match result {
            Ok(()) => (StepStatus::Applied, None),
            Err(e) if e.is_refusal() => (StepStatus::Refused, Some(e.to_string())),
            Err(e) => (StepStatus::Failed, Some(e.to_string())),
        };
        StepApplied { status, reason, detail, tolerated: false }
    }
}

/// Applies one planned step. A step whose plan is not `planned` is recorded as it was planned.
pub async fn apply<P: Provider>(step: &PlannedStep, provider: &P, context: &ApplyContext<'_>) -> StepApplied {
    let as_planned =
        || StepApplied { status: step.status, reason: step.reason.clone(), detail: None, tolerated: false };
    if step.status != StepStatus::Planned {
        return as_planned();
    }
    match &step.detail {
        StepDetail::ResetOffsets(reset) => {
            let work = reset_offsets::apply(reset, provider, context.progress);
            let (result, done) = within_timeout(step, work).await;
            StepApplied::settled(result, done.map(AppliedDetail::Reset))
        }
        StepDetail::PurgeMessages(purge) => {
            let (result, done) = within_timeout(step, purge_messages::apply(purge, provider)).await;
            StepApplied::settled(result, done.map(AppliedDetail::Purge))
        }
        StepDetail::DeleteOffsets(deletion) => {
            let work = delete_offsets::apply(deletion, provider, context.progress);
            let (result, done) = within_timeout(step, work).await;
            StepApplied::settled(result, done.map(AppliedDetail::DeleteOffsets))
        }
        StepDetail::Notify { to, message } => notify::apply(&step.id, to, message.as_deref(), context).await,
        StepDetail::QueryMessages { .. } | StepDetail::ComputeOffsets { .. } | StepDetail::Check { .. } => as_planned(),
    }
}

/// A mutating step under its `timeout`, run once: its record is lost if it times out.
async fn within_timeout<T>(
    step: &PlannedStep,
    work: impl Future<Output = (Result<(), StepError>, Option<T>)>,
) -> (Result<(), StepError>, Option<T>) {
    match &step.timeout {
        Some(limit) => tokio::time::timeout(limit.duration, work)
            .await
            .unwrap_or_else(|_| (Err(StepError::Timeout(limit.text.clone())), None)),
        None => work.await,
    }
}

/// What changed on the cluster since `step` was planned.
pub async fn drift<P: Provider>(step: &PlannedStep, provider: &P) -> Result<Vec<Drift>, ProviderError> {
    match (&step.detail, step.status) {
        (StepDetail::ResetOffsets(reset), StepStatus::Planned) => reset_offsets::drift::find(reset, provider).await,
        (StepDetail::DeleteOffsets(deletion), StepStatus::Planned) => {
            delete_offsets::drift::find(deletion, provider).await
        }
        _ => Ok(Vec::new()),
    }
}

/// A planned step for people: its line, its table, why it stopped, its warnings.
pub fn view(step: &PlannedStep, settings: &ViewSettings, out: &mut ViewDocument) {
    use std::fmt::Write;
    let _ = write!(out, "step {} ({}): {}", step.id, step.detail.kind(), step.status.name());
    match &step.detail {
        StepDetail::QueryMessages { output: Some(output) } => out.push_str(&query_messages::view::headline(output)),
        StepDetail::ComputeOffsets { output: Some(output) } => out.push_str(&compute_offsets::view::headline(output)),
        StepDetail::Notify { to, message: Some(message) } => out.push_str(&notify::headline(to, message)),
        _ => {}
    }
    out.push('\n');
    if let Some(reason) = &step.reason {
        let _ = writeln!(out, "  {reason}");
    }
    match &step.detail {
        StepDetail::ResetOffsets(reset) if !reset.group.is_empty() => reset_offsets::view::plan(out, &step.id, reset),
        StepDetail::PurgeMessages(purge) if !purge.topic.is_empty() => purge_messages::view::plan(out, &step.id, purge),
        StepDetail::DeleteOffsets(deletion) if !deletion.group.is_empty() => {
            delete_offsets::view::plan(out, &step.id, deletion)
        }
        StepDetail::QueryMessages { output: Some(output) } => query_messages::view::plan(out, output, settings),
        _ => {}
    }
    for warning in &step.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
}

/// What an applied step did, for people.
pub fn view_applied(detail: &AppliedDetail, out: &mut ViewDocument) {
    match detail {
        AppliedDetail::Reset(reset) => reset_offsets::view::applied(out, reset),
        AppliedDetail::Purge(purge) => purge_messages::view::applied(out, purge),
        AppliedDetail::DeleteOffsets(deleted) => delete_offsets::view::applied(out, deleted),
    }
}
