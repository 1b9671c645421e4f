//! `reset_offsets`: commit a group's offsets to computed targets (SPEC §3.3).
//! Planning reduces it to exact per-partition changes checked by its guards;
//! apply passes the group-state gate, saves a snapshot, checks the guards again,
//! commits and reads back. A rollback is a reset back to the snapshot.

mod apply;
pub mod drift;
pub mod gate;
mod guards;
mod reset_plan;
mod resolve;
pub mod rollback;
pub mod view;

pub use apply::{Outcome, PartitionResult, ResetApplied, SnapshotEntry, apply};
pub use reset_plan::{Guards, ResetChange, ResetPlan, Unchanged};

use crate::provider::Provider;
use crate::runbook::spec::ResetOffsetsSpec;
use crate::step::{Fields, StepError, StepStatus};

use super::{Earlier, KindPlan, StepDetail};
use guards::Movement;

/// Plans a reset: its targets (from an earlier compute, or computed inline),
/// split into changes and unchanged partitions, checked by its guards, with a
/// warning when the group has live members.
pub async fn plan<P: Provider>(
    spec: &ResetOffsetsSpec,
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    let targets = match &spec.offsets {
        Some(source) => match earlier.computed(source) {
            Some(Some(output)) => output.clone(),
            Some(None) => {
                return Ok(KindPlan {
                    reason: Some(format!("its offsets step `{source}` was skipped")),
                    ..KindPlan::new(StepStatus::Skipped, StepDetail::ResetOffsets(Box::default()))
                });
            }
            None => {
                return Err(fields.unresolved(format!("`offsets` names no earlier compute_offsets step `{source}`")));
            }
        },
        None => resolve::inline_compute(fields, earlier, spec)?.run(provider).await?,
    };
    let mut reset = ResetPlan::new(&targets.group, &targets.partitions, targets.total_skip, targets.total_rewind);
    reset.guards = resolve::guards(fields, spec)?;
    reset.wait_for_inactive = spec.wait_for_inactive.clone();
    let movement = Movement::of(reset.changes.iter().map(|c| (c.planned.current, c.planned.target)));
    let refusal = guards::check(&reset.guards, &reset.group, movement).err().map(|e| e.to_string());
    // An earlier compute step warned in its own plan; an inline one warns here.
    let mut warnings = if spec.offsets.is_none() { targets.warnings.clone() } else { Vec::new() };
    if !reset.changes.is_empty() {
        let described = provider.describe_group(&reset.group).await?;
        reset.group_state = Some(described.state.to_string());
        if refusal.is_none() {
            warnings.extend(gate::plan_warning(&described, reset.wait_for_inactive.as_ref()));
        }
    }
    let detail = StepDetail::ResetOffsets(Box::new(reset));
    Ok(KindPlan { warnings, ..KindPlan::unless_refused(StepStatus::Planned, detail, refusal) })
}
