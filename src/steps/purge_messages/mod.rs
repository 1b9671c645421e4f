//! `purge_messages`: delete a topic's records below a point (SPEC §3.4), never
//! past what a protecting group has consumed. Planning gives each partition's
//! new log start; apply checks the protection again, sends DeleteRecords and
//! reads the log starts back. Irreversible: a rollback can only say so.

mod apply;
mod guard;
pub mod protection;
mod purge_plan;
mod resolve;
pub mod rollback;
pub mod time_order;
pub mod view;

pub use apply::{PurgeApplied, PurgeOutcome, PurgeResult, apply};
pub use purge_plan::{PurgeChange, PurgeError, PurgeMessages, PurgePlan, PurgePoint};
pub use resolve::resolve;

use crate::provider::Provider;
use crate::runbook::spec::PurgeMessagesSpec;
use crate::step::{Fields, StepError, StepStatus};

use super::{KindPlan, StepDetail};

/// Plans a purge: each partition's new log start, the `max_delete` guard, and
/// a warning naming every group that would lose records it has not consumed.
pub async fn plan<P: Provider>(
    spec: &PurgeMessagesSpec,
    fields: &Fields<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    let purge = resolve(fields, spec)?.plan(provider).await?;
    let mut warnings: Vec<String> = purge
        .unconsumed()
        .into_iter()
        .map(|(group, partitions)| {
            let list: Vec<String> = partitions.iter().map(|p| format!("{}:{p}", purge.topic)).collect();
            format!("allow_unconsumed: deletes records group {group:?} has not consumed on {}", list.join(", "))
        })
        .collect();
    let out_of_order = guard::time_order_problems(&purge);
    let refusal = guard::check_delete(purge.max_delete, &purge.topic, purge.total_deleted)
        .and_then(|()| {
            guard::check_percent(purge.max_delete_percent, &purge.topic, purge.changes.iter().map(guard::Share::of))
        })
        .and_then(|()| guard::check_time_order(purge.strict_time, &purge.topic, &out_of_order))
        .err()
        .map(|e| e.to_string());
    if !purge.strict_time {
        warnings.extend(out_of_order);
    }
    let detail = StepDetail::PurgeMessages(Box::new(purge));
    Ok(KindPlan { warnings, ..KindPlan::unless_refused(StepStatus::Planned, detail, refusal) })
}

impl From<PurgeError> for StepError {
    fn from(e: PurgeError) -> Self {
        match e {
            PurgeError::Provider(e) => StepError::Provider(e),
            own => StepError::Kind(Box::new(own)),
        }
    }
}
