//! `compute_offsets`: a group's target offset on each partition in scope, by
//! one of the strategies of SPEC §3.2. Read-only: it runs at plan time, and a
//! `reset_offsets` commits what it computed.

mod compute;
pub mod offsets_file;
mod resolve;
pub mod view;

pub use compute::{ComputeError, ComputeOffsets, ComputeOutput, PartitionTarget, Targeting};
pub use resolve::{resolve, resolve_parts};

use crate::provider::Provider;
use crate::runbook::spec::ComputeOffsetsSpec;
use crate::step::{Fields, StepError, StepStatus};

use super::{Earlier, KindPlan, StepDetail};

/// Computes the targets: they are the step's plan.
pub async fn plan<P: Provider>(
    spec: &ComputeOffsetsSpec,
    fields: &Fields<'_>,
    earlier: &Earlier<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    let output = resolve(fields, earlier, spec)?.run(provider).await?;
    let warnings = output.warnings.clone();
    Ok(KindPlan { warnings, ..KindPlan::new(StepStatus::Ok, StepDetail::ComputeOffsets { output: Some(output) }) })
}

impl From<ComputeError> for StepError {
    fn from(e: ComputeError) -> Self {
        match e {
            ComputeError::Provider(e) => StepError::Provider(e),
            own => StepError::Kind(Box::new(own)),
        }
    }
}
