//! The steps planned before this one, for the kinds that build on them: a
//! reset on a compute's targets, a compute on a query's matches.

use super::compute_offsets::ComputeOutput;
use super::detail::StepDetail;
use super::planned_step::PlannedStep;
use super::query_messages::QueryOutput;

#[derive(Clone, Copy)]
pub struct Earlier<'a> {
    steps: &'a [PlannedStep],
}

impl<'a> Earlier<'a> {
    pub fn new(steps: &'a [PlannedStep]) -> Self {
        Earlier { steps }
    }

    /// An earlier `compute_offsets` step's output: `Some(None)` when it was skipped, `None` when there is none.
    pub fn computed(&self, id: &str) -> Option<Option<&'a ComputeOutput>> {
        self.steps.iter().find(|s| s.id == id).and_then(|s| match &s.detail {
            StepDetail::ComputeOffsets { output } => Some(output.as_ref()),
            _ => None,
        })
    }

    /// An earlier `query_messages` step's output: `Some(None)` when it was skipped, `None` when there is none.
    pub fn queried(&self, id: &str) -> Option<Option<&'a QueryOutput>> {
        self.steps.iter().find(|s| s.id == id).and_then(|s| match &s.detail {
            StepDetail::QueryMessages { output } => Some(output.as_ref()),
            _ => None,
        })
    }
}
