//! Runbook-level `notify:` rules: which events a finished run raises, the
//! one-line summary sent with it, and the message template's context.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::engine::Mode;
use crate::history::{RunRecord, RunState};
use crate::runbook::spec::{RunEvent, RunbookSpec};
use crate::runbook::templates::{RenderError, Renderer};

/// The message when a rule gives none.
pub const DEFAULT_MESSAGE: &str = "{{runbook.name}} {{run.status}}: {{run.summary}}";

/// The events a finished run raises: one for how it ended, and `changes`
/// for a plan-only run whose plan has changes.
pub fn events_of(record: &RunRecord) -> Vec<RunEvent> {
    let mut events = Vec::new();
    match record.status {
        RunState::Succeeded => events.push(RunEvent::Success),
        RunState::Failed | RunState::Interrupted => events.push(RunEvent::Failure),
        RunState::Refused => events.push(RunEvent::Refused),
        RunState::Pending => events.push(RunEvent::Pending),
        RunState::Rejected | RunState::Expired => events.push(RunEvent::Refused),
        RunState::Running | RunState::Declined | RunState::Approved => {}
    }
    if record.mode == Mode::Plan && record.change_count() > 0 {
        events.push(RunEvent::Changes);
    }
    events
}

/// One line on how a run went: what it changed, or why it stopped.
pub fn run_summary(record: &RunRecord) -> String {
    if let Some(reason) = record.reason.as_deref().and_then(|r| r.lines().next()) {
        return reason.to_owned();
    }
    let changes = record.change_count();
    match (record.mode, record.status) {
        (Mode::Plan, _) => format!("plan with {changes} change(s)"),
        (Mode::Apply, RunState::Succeeded) if record.apply.is_none() => "nothing to change".to_owned(),
        (Mode::Apply, RunState::Succeeded) => format!("{changes} change(s) applied"),
        (_, status) => status.name().to_owned(),
    }
}

/// What `{{run.…}}` holds in a rule's message for a finished run.
pub fn run_context(record: &RunRecord) -> Value {
    json!({
        "id": record.id,
        "status": record.status.name(),
        "summary": run_summary(record),
        "trigger": record.trigger,
        "mode": record.mode.name(),
        "started_at": record.started_at.to_rfc3339(),
        "slot": record.slot.map(|s| s.to_rfc3339()),
        "changes": record.change_count(),
    })
}

/// What `{{run.…}}` holds for a scheduled slot that was missed (no run exists).
pub fn missed_context(slot: DateTime<Utc>, mode: Mode) -> Value {
    json!({
        "id": "",
        "status": "missed",
        "summary": format!("the slot of {} was missed", slot.to_rfc3339()),
        "trigger": crate::engine::Trigger::Schedule,
        "mode": mode.name(),
        "started_at": slot.to_rfc3339(),
        "slot": slot.to_rfc3339(),
        "changes": 0,
    })
}

/// Renders a rule's message (strict, unescaped) for runbook `spec` and `run`
/// (from [`run_context`] or [`missed_context`]).
pub fn render_message(
    template: Option<&str>,
    spec: &RunbookSpec,
    run: &Value,
    event: RunEvent,
) -> Result<String, RenderError> {
    let context = json!({
        "runbook": { "name": spec.name, "description": spec.description, "cluster": spec.cluster },
        "run": run,
        "event": serde_json::to_value(event).unwrap_or_default(),
    });
    Renderer::default().render("notify", "message", template.unwrap_or(DEFAULT_MESSAGE), &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::sample;

    fn spec() -> RunbookSpec {
        serde_yaml::from_str(
            "name: nightly\ncluster: local\nsteps:\n  - id: c\n    check: { that: \"true\", message: ok }\n",
        )
        .unwrap()
    }

    #[test]
    fn a_run_raises_the_event_of_how_it_ended() {
        let ok = sample("nightly", RunState::Succeeded, 1_763_686_800_000);
        assert_eq!(events_of(&ok), [RunEvent::Success]);
        assert_eq!(events_of(&sample("n", RunState::Interrupted, 1)), [RunEvent::Failure]);
        assert_eq!(events_of(&sample("n", RunState::Refused, 1)), [RunEvent::Refused]);
        assert!(events_of(&sample("n", RunState::Running, 1)).is_empty());
        assert_eq!(events_of(&sample("n", RunState::Pending, 1)), [RunEvent::Pending], "a plan waits for approval");
        assert_eq!(events_of(&sample("n", RunState::Rejected, 1)), [RunEvent::Refused]);
        assert_eq!(run_summary(&ok), "nothing to change");
    }

    #[test]
    fn messages_render_strictly_and_unescaped() {
        let mut record = sample("nightly", RunState::Failed, 1_763_686_800_000);
        record.reason = Some("step `reset`: <group> has members\nmore".into());
        let message = render_message(None, &spec(), &run_context(&record), RunEvent::Failure).unwrap();
        assert_eq!(message, "nightly failed: step `reset`: <group> has members");
        let err = render_message(Some("{{run.nope}}"), &spec(), &run_context(&record), RunEvent::Failure).unwrap_err();
        assert!(err.message.contains("run.nope"), "{}", err.message);
        let slot = DateTime::from_timestamp(1_763_686_800, 0).unwrap();
        let missed = render_message(None, &spec(), &missed_context(slot, Mode::Apply), RunEvent::Missed).unwrap();
        assert_eq!(missed, "nightly missed: the slot of 2025-11-21T01:00:00+00:00 was missed");
    }
}
