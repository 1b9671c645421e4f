//! The one run service the command line and the daemon both call: a plan
//! recorded, an apply under its locks and journal, recorded as it goes, a
//! rollback planned from a run's record, and the notifications at a run's
//! end. Its seams are traits: the store (`history::Store`), the locks
//! ([`RunLocks`]) and the journal (`engine::Journal`), so a cluster-wide
//! coordinator can take the place of the local ones.

mod approvals;
mod execute;
mod locks;
#[cfg(test)]
mod memory_tests;
mod recorded_apply;
mod rollback_plan;
mod run_end;
mod runbook_now;

pub use approvals::{
    Approver, Decided, DecisionRefused, applied_in, approve, expire_overdue, record_pending, reject, withdraw_approval,
};
pub use execute::{Decline, Unapplied, finish_run, goes_on_to_apply, record_declined, record_unapplied};
pub use locks::{Guard, RunLocks};
pub use recorded_apply::{RecordedApply, apply_recorded, targets};
pub use rollback_plan::{RollbackError, plan_rollback};
pub use run_end::notify_ended;
pub use runbook_now::runbook_sha256_now;
