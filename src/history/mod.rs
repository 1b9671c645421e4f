//! Run history (SPEC §5): every plan, apply and rollback, kept in sled under
//! `data_dir` with indexes by time, runbook and status; locks so that one run
//! at a time changes a group or a topic; recovery of runs whose process died;
//! retention by age and count.

pub mod approval_record;
mod audit_event;
mod data_dir;
mod free_space;
#[cfg(test)]
pub mod memory_store;
mod off_runtime;
mod plan_evidence;
pub(crate) mod record;
mod record_body;
mod recovery;
mod retention;
mod run_locks;
mod salvage;
mod sled_store;
mod snapshot_table;
mod store;
mod store_files;
mod store_repair;
mod store_seal;
mod unfinished_snapshots;

pub use audit_event::{event as audit_event, kind as audit_kind};
pub use data_dir::{BRIEF_WAIT, DataDir, Holder, OpenStore};
pub use plan_evidence::PlanMismatch;
pub use plan_evidence::check as check_plan_file;
pub use record::{ApplyRecord, RUN_FORMAT, RunRecord, RunState, RunSummary};
pub use recovery::mark_interrupted;
pub use retention::Retention;
pub use run_locks::{Held, LockDir, RunAlive, Target, TargetLocks};
pub use sled_store::SledStore;
pub use snapshot_table::snapshot_table;
pub use store::{RunPage, RunQuery, Store, StoreError};
pub use store_repair::{CheckReport, RepairReport};
