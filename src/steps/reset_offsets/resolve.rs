//! A `reset_offsets` step's own fields resolved for one run: the compute of an
//! inline reset, and its guards.

use crate::runbook::spec::{Count, ResetOffsetsSpec, Templated};
use crate::step::{Fields, StepError};
use crate::steps::Earlier;
use crate::steps::compute_offsets::{self, ComputeOffsets};

use super::reset_plan::Guards;

/// The implicit compute step of an inline `reset_offsets`.
pub fn inline_compute(
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    spec: &ResetOffsetsSpec,
) -> Result<ComputeOffsets, StepError> {
    let (Some(group), Some(strategy)) = (&spec.group, &spec.strategy) else {
        return Err(fields.unresolved("reset_offsets needs `offsets`, or `group` and `strategy`"));
    };
    compute_offsets::resolve_parts(fields, earlier, group, spec.topics.as_deref(), spec.partitions.as_deref(), strategy)
}

/// The guards of a `reset_offsets` step.
pub fn guards(fields: &Fields<'_>, spec: &ResetOffsetsSpec) -> Result<Guards, StepError> {
    let count =
        |field: &str, value: Option<&Templated<Count>>| Ok::<_, StepError>(fields.optional(field, value)?.map(|c| c.0));
    Ok(Guards {
        max_skip: count("max_skip", spec.max_skip.as_ref())?,
        max_rewind: count("max_rewind", spec.max_rewind.as_ref())?,
        max_partitions: count("max_partitions", spec.max_partitions.as_ref())?,
    })
}
