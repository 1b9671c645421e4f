//! The end of a run: the notifications its runbook asks for on the run's
//! events (SPEC §3.5), each rendered and sent, each delivery reported.

use crate::engine::{Mode, Trigger};
use crate::history::RunRecord;
use crate::notify::{events_of, render_message, run_context, run_summary};
use crate::runbook::spec::RunbookSpec;
use crate::step::{Delivery, Messenger, Notification};

/// Sends what `spec`'s `notify` rules ask for on `record`'s events; returns each delivery.
pub async fn notify_ended(spec: &RunbookSpec, record: &RunRecord, messenger: &dyn Messenger) -> Vec<Delivery> {
    // A plan asked for through the API is a viewer's right; only runs an
    // operator may start notify, so a viewer cannot make the daemon post.
    if record.trigger == Trigger::Api && record.mode == Mode::Plan {
        return Vec::new();
    }
    let events = events_of(record);
    let mut deliveries = Vec::new();
    for rule in &spec.notify {
        let Some(event) = rule.on.iter().find(|e| events.contains(e)) else { continue };
        let message = render_message(rule.message.as_deref(), spec, &run_context(record), *event).unwrap_or_else(|e| {
            format!("{} {} (the notify message did not render: {})", record.runbook, record.status.name(), e.message)
        });
        let note = Notification {
            runbook: record.runbook.clone(),
            run_id: record.id.clone(),
            status: record.status.name().to_owned(),
            summary: run_summary(record),
            message,
            event: serde_json::to_value(event).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        };
        deliveries.push(messenger.send(&rule.to, &note).await);
    }
    deliveries
}
