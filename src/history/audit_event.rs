//! A run's state change as a CloudEvents 1.0 event (structured JSON), for
//! the audit stream: who, which runbook and cluster, the groups and topics it
//! touches, and per partition what was before and after. Its `id` is the run
//! and the state, so a sink that gets an event twice (delivery is at least
//! once) can tell.

use serde_json::{Value, json};

use crate::engine::Mode;
use crate::steps::AppliedDetail;

use super::{RunRecord, RunState};

/// `type` of an event, from the run's state: `dev.ebb.run.<what>`.
pub fn kind(record: &RunRecord) -> Option<&'static str> {
    Some(match (record.status, record.mode) {
        (RunState::Running, _) => return None,
        (RunState::Succeeded, Mode::Plan) => "planned",
        (RunState::Succeeded, Mode::Apply) if record.rollback_of.is_some() => "rolled_back",
        (RunState::Succeeded, Mode::Apply) => "applied",
        (RunState::Failed, _) => "failed",
        (RunState::Refused, _) => "refused",
        (RunState::Interrupted, _) => "interrupted",
        (RunState::Declined, _) => "declined",
        (RunState::Pending, _) => "pending",
        (RunState::Approved, _) => "approved",
        (RunState::Rejected, _) => "rejected",
        (RunState::Expired, _) => "expired",
    })
}

/// The event of `record`'s current state; `None` while it runs.
pub fn event(record: &RunRecord) -> Option<Value> {
    let kind = kind(record)?;
    let time = record.finished_at.unwrap_or(record.started_at);
    let summary = record.summary();
    Some(json!({
        "specversion": "1.0",
        "id": format!("{}/{kind}", record.id),
        "source": format!("ebb/{}", record.cluster),
        "type": format!("dev.ebb.run.{kind}"),
        "subject": record.id,
        "time": time,
        "datacontenttype": "application/json",
        "data": {
            "run_id": record.id,
            "runbook": record.runbook,
            "cluster": record.cluster,
            "actor": record.actor,
            "trigger": record.trigger.name(),
            "mode": record.mode.name(),
            "status": record.status.name(),
            "reason": record.reason,
            "rollback_of": record.rollback_of,
            "plan_id": record.plan_id,
            "approval": record.approval,
            "targets": { "groups": summary.groups, "topics": summary.topics },
            "changes": changes(record),
        }
    }))
}

/// Per partition, before and after: what the apply did, or, for a run that
/// applied nothing, what its plan would change.
fn changes(record: &RunRecord) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(apply) = &record.apply {
        for step in &apply.steps {
            match &step.detail {
                Some(AppliedDetail::Reset(reset)) => out.extend(reset.results.iter().map(|r| {
                    json!({ "step": step.id, "kind": "offset", "group": reset.group, "topic": r.topic,
                            "partition": r.partition, "before": r.before, "after": r.after,
                            "outcome": r.outcome })
                })),
                Some(AppliedDetail::Purge(purge)) => out.extend(purge.results.iter().map(|r| {
                    json!({ "step": step.id, "kind": "log_start", "topic": purge.topic, "partition": r.partition,
                            "before": r.log_start_before, "after": r.log_start_after, "outcome": r.outcome })
                })),
                Some(AppliedDetail::DeleteOffsets(deleted)) => out.extend(deleted.results.iter().map(|r| {
                    json!({ "step": step.id, "kind": "offset", "group": deleted.group, "topic": r.topic,
                            "partition": r.partition, "before": r.before, "after": null, "outcome": r.outcome })
                })),
                None => {}
            }
        }
        return out;
    }
    for step in record.plan.iter().flat_map(|p| &p.steps) {
        match &step.detail {
            crate::steps::StepDetail::ResetOffsets(reset) => out.extend(reset.changes.iter().map(|c| {
                json!({ "step": step.id, "kind": "offset", "group": reset.group, "topic": c.planned.topic,
                        "partition": c.planned.partition, "before": c.planned.current,
                        "after": c.planned.target, "outcome": "planned" })
            })),
            crate::steps::StepDetail::PurgeMessages(purge) => out.extend(purge.changes.iter().map(|c| {
                json!({ "step": step.id, "kind": "log_start", "topic": purge.topic, "partition": c.partition,
                        "before": c.log_start, "after": c.new_log_start, "outcome": "planned" })
            })),
            crate::steps::StepDetail::DeleteOffsets(deletion) => out.extend(deletion.deletions.iter().map(|d| {
                json!({ "step": step.id, "kind": "offset", "group": deletion.group, "topic": d.topic,
                        "partition": d.partition, "before": d.offset, "after": null, "outcome": "planned" })
            })),
            _ => {}
        }
    }
    out
}
