//! The two-person rule (`approval:`): a plan that would be applied is recorded
//! *pending* instead, and each approval or rejection is decided here — who
//! may, and whether the plan is still open — and recorded on the pending run.
//! The apply that follows an approval is a run of its own, through the usual
//! drift checks; the caller starts it.

use chrono::{DateTime, Utc};

use crate::config::Role;
use crate::engine::{Plan, RunInfo};
use crate::history::approval_record::{ApprovalRecord, Decision};
use crate::history::{RunRecord, RunState, Store, StoreError};
use crate::runbook::spec::{ApprovalSpec, ApproverRole};
use crate::time::HumanDuration;

use super::execute::Unapplied;

/// A pending plan is open this long by default.
pub const DEFAULT_EXPIRY: &str = "24h";

/// Records `plan` of run `run` as pending, waiting for `approval`.
pub fn record_pending(store: &dyn Store, run: &RunInfo, plan: &Plan, approval: &ApprovalSpec) -> Unapplied {
    let expires = approval.expires.clone().unwrap_or_else(|| HumanDuration::parse(DEFAULT_EXPIRY).expect("24h"));
    let mut record = RunRecord::start(run, plan);
    let required = approval.required.max(1);
    record.approval = Some(ApprovalRecord {
        required,
        role: role_of(approval).to_owned(),
        planned_by: run.actor.clone().unwrap_or_else(|| run.trigger.name().to_owned()),
        expires_at: run.started_at + chrono::Duration::from_std(expires.duration).unwrap_or(chrono::Duration::MAX),
        approvals: Vec::new(),
        rejected: None,
        applied_in: None,
    });
    // Still open, so not finished: it is once decided or expired.
    record.status = RunState::Pending;
    record.reason = Some(format!(
        "waiting for approval by {required} token holder(s) with role {} other than the planner, until {}: nothing \
         was changed",
        role_of(approval),
        expires.text
    ));
    let unsaved = store.save(&record).err();
    Unapplied { record, unsaved }
}

fn role_of(approval: &ApprovalSpec) -> &'static str {
    match approval.role {
        Some(ApproverRole::Admin) => "admin",
        Some(ApproverRole::Operator) | None => "operator",
    }
}

/// Who decides, and with what token.
pub struct Approver<'a> {
    pub name: &'a str,
    pub role: Role,
}

/// Why an approval or rejection is refused.
#[derive(Debug, thiserror::Error)]
pub enum DecisionRefused {
    #[error("run {run} is not waiting for approval (it is {status})")]
    NotPending { run: String, status: &'static str },
    #[error("run {run} expired at {at} without enough approvals; plan and run the runbook again")]
    Expired { run: String, at: String },
    #[error("the token {name:?} planned run {run}; a plan needs approval by someone else")]
    OwnPlan { run: String, name: String },
    #[error("approving run {run} needs a token with role {needs}")]
    RoleTooLow { run: String, needs: String },
    #[error("the token {name:?} has already approved run {run}")]
    AlreadyApproved { run: String, name: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DecisionRefused {
    /// Whether the caller is not allowed (rather than the run not open).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, DecisionRefused::OwnPlan { .. } | DecisionRefused::RoleTooLow { .. })
    }
}

/// What a decision did to the pending run.
#[derive(Debug, PartialEq, Eq)]
pub enum Decided {
    /// Approved, and more approvals are still needed.
    Waiting,
    /// Approved by enough token holders: the plan is to be applied now.
    Approved,
    /// Rejected: it will never be applied.
    Rejected,
}

/// Checks that `by` may decide on `record` now; an expired run is marked so and saved.
fn open_for(
    record: &mut RunRecord,
    by: &Approver<'_>,
    now: DateTime<Utc>,
    store: &dyn Store,
) -> Result<(), DecisionRefused> {
    let run = record.id.clone();
    let Some(approval) = record.approval.clone().filter(|_| record.status == RunState::Pending) else {
        return Err(DecisionRefused::NotPending { run, status: record.status.name() });
    };
    if expire_if_overdue(record, now, store)? {
        return Err(DecisionRefused::Expired { run, at: approval.expires_at.to_rfc3339() });
    }
    let needs = if approval.role == "admin" { Role::Admin } else { Role::Operator };
    if by.role < needs {
        return Err(DecisionRefused::RoleTooLow { run, needs: approval.role });
    }
    if by.name == approval.planned_by {
        return Err(DecisionRefused::OwnPlan { run, name: by.name.to_owned() });
    }
    Ok(())
}

/// Records `by`'s approval of pending run `record`.
pub fn approve(
    record: &mut RunRecord,
    by: &Approver<'_>,
    now: DateTime<Utc>,
    store: &dyn Store,
) -> Result<Decided, DecisionRefused> {
    open_for(record, by, now, store)?;
    let approval = record.approval.as_mut().expect("checked pending");
    if approval.approvals.iter().any(|d| d.by == by.name) {
        return Err(DecisionRefused::AlreadyApproved { run: record.id.clone(), name: by.name.to_owned() });
    }
    approval.approvals.push(Decision { by: by.name.to_owned(), at: now, reason: None });
    let decided = if approval.is_approved() {
        record.status = RunState::Approved;
        record.finished_at = Some(now);
        record.reason = None;
        Decided::Approved
    } else {
        Decided::Waiting
    };
    store.save(record)?;
    Ok(decided)
}

/// Records `by`'s rejection of pending run `record`.
pub fn reject(
    record: &mut RunRecord,
    by: &Approver<'_>,
    reason: Option<String>,
    now: DateTime<Utc>,
    store: &dyn Store,
) -> Result<Decided, DecisionRefused> {
    open_for(record, by, now, store)?;
    let approval = record.approval.as_mut().expect("checked pending");
    approval.rejected = Some(Decision { by: by.name.to_owned(), at: now, reason: reason.clone() });
    record.status = RunState::Rejected;
    record.finished_at = Some(now);
    record.reason = Some(match reason {
        Some(why) => format!("rejected by {}: {why}; nothing was changed", by.name),
        None => format!("rejected by {}; nothing was changed", by.name),
    });
    store.save(record)?;
    Ok(Decided::Rejected)
}

/// Takes back `by`'s approval when its apply could not even start (the
/// cluster unreachable, the daemon stopping): the plan is pending again, to
/// be approved once more, rather than approved with nothing applied.
pub fn withdraw_approval(record: &mut RunRecord, by: &str, store: &dyn Store) -> Result<(), StoreError> {
    if let Some(approval) = record.approval.as_mut() {
        approval.approvals.retain(|d| d.by != by);
    }
    record.status = RunState::Pending;
    record.finished_at = None;
    store.save(record)
}

/// Marks every pending run whose time to be approved has passed as expired;
/// how many it marked.
pub fn expire_overdue(
    store: &dyn Store,
    now: DateTime<Utc>,
    mine: &dyn Fn(&RunRecord) -> bool,
) -> Result<usize, StoreError> {
    let pending = crate::history::RunQuery { status: Some(RunState::Pending), ..Default::default() };
    let mut expired = 0;
    for summary in store.list(&pending)? {
        let Some(mut record) = store.get(&summary.id)?.filter(|r| mine(r)) else { continue };
        expired += usize::from(expire_if_overdue(&mut record, now, store)?);
    }
    Ok(expired)
}

/// Marks pending run `record` expired, and saves it, if its time to be
/// approved passed before `now`; whether it did.
fn expire_if_overdue(record: &mut RunRecord, now: DateTime<Utc>, store: &dyn Store) -> Result<bool, StoreError> {
    let Some(at) = record.approval.as_ref().filter(|_| record.status == RunState::Pending).map(|a| a.expires_at) else {
        return Ok(false);
    };
    if now <= at {
        return Ok(false);
    }
    record.status = RunState::Expired;
    record.finished_at = Some(now);
    record.reason = Some(format!("not approved by {}: nothing was changed", at.to_rfc3339()));
    store.save(record)?;
    Ok(true)
}

/// Notes on the approved run which run applied it.
pub fn applied_in(record: &mut RunRecord, run_id: &str, store: &dyn Store) -> Result<(), StoreError> {
    if let Some(approval) = record.approval.as_mut() {
        approval.applied_in = Some(run_id.to_owned());
    }
    store.save(record)
}
