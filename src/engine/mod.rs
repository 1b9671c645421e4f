//! The run engine, in the layers of SPEC §1: a validated spec is **compiled**
//! (params typed and defaulted, the file fingerprinted), a compiled runbook is
//! **planned** (read-only steps run, mutating steps reduced to exact
//! per-partition changes), and a plan is **applied** (drift checked, each
//! step applied through its kind, the run journaled). The engine drives the
//! step kinds (`steps`) generically and knows nothing of history, the daemon
//! or the command line: the journal and the messenger come in from the caller.

pub mod apply;
mod command_line;
mod compile;
mod context;
mod drift;
#[cfg(test)]
mod memory_tests;
mod name_check;
pub mod plan;
mod planner;
mod run_id;
mod step_control;
mod trigger;

pub use apply::{Applied, AppliedStep, Journal, RunStatus, apply, no_journal};
pub use command_line::CommandLine;
pub use compile::{CompileError, CompiledRunbook, compile, compile_checked, sha256_hex};
pub use context::{Mode, RunInfo};
pub use name_check::bad_names;
pub use plan::{Plan, PlanStatus};
pub use planner::plan;
pub use run_id::{new_run_id, time_prefix};
pub use trigger::Trigger;
