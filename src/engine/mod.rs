//! The run engine, in the layers of SPEC §1: a validated spec is **compiled**
//! (params typed and defaulted, the file fingerprinted), a compiled runbook is
//! **planned** (read-only steps run, mutating steps reduced to exact
//! per-partition changes), and a plan is **applied** (drift checked, gates and
//! guards passed, changes made, read back and verified). `ebb run` applies the
//! very plan it printed; `ebb apply` applies one saved earlier.

pub mod apply;
mod compile;
mod context;
pub mod drift;
mod gate;
mod guards;
mod name_check;
pub mod plan;
mod planner;
pub mod purge_apply;
mod resolve;
mod run_id;
mod step_control;
mod step_error;
mod trigger;

pub use apply::{
    Applied, AppliedStep, Journal, PartitionResult, ResetApplied, RunStatus, SnapshotEntry, apply, no_journal,
};
pub use compile::{CompileError, CompiledRunbook, compile, compile_checked, sha256_hex};
pub use context::{Mode, RunInfo};
pub use drift::Drift;
pub use gate::plan_warning as gate_plan_warning;
pub use name_check::bad_names;
pub use plan::{Plan, PlanStatus, PlannedStep, ResetChange, ResetPlan, StepDetail, StepStatus, Unchanged};
pub use planner::plan;
pub use purge_apply::{PurgeApplied, PurgeOutcome, PurgeResult};
pub use run_id::{new_run_id, time_prefix};
pub use step_error::StepError;
pub use trigger::Trigger;
