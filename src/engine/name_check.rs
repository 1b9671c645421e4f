//! Topic and group names a run's params make, checked before the run starts:
//! every name field whose template needs only the params (and the run's own
//! facts) is rendered and held to Kafka's rules, so that the API answers a bad
//! param with a 400 instead of starting a run that would fail at its step.
//! Fields that need an earlier step's output are checked when the step renders
//! them (`resolve::Fields::name`), and the provider checks every request again.

use crate::kafka_names;
use crate::runbook::spec::{Before, ProtectGroups, StepKind, Strategy};
use crate::runbook::templates::Renderer;

use super::compile::CompiledRunbook;
use super::context::{RunInfo, TemplateContext};

/// One problem per bad name, naming its step and field.
pub fn bad_names(runbook: &CompiledRunbook, run: &RunInfo) -> Vec<String> {
    let renderer = Renderer::default();
    let context = TemplateContext::new(runbook, run);
    let mut problems = Vec::new();
    for step in &runbook.spec.steps {
        for (field, text, is_topic) in name_fields(&step.kind) {
            // A template that needs a step's output cannot be rendered yet; its step checks it.
            let Ok(name) = renderer.render(&step.id, field, text, context.value()) else { continue };
            if let Err(e) = kafka_names::check(is_topic, &name) {
                problems.push(format!("step `{}`, field `{field}`: {e}", step.id));
            }
        }
    }
    problems
}

/// Every topic or group name a step's spec holds: (field, text, is a topic).
fn name_fields(kind: &StepKind) -> Vec<(&'static str, &str, bool)> {
    let mut fields = Vec::new();
    match kind {
        StepKind::QueryMessages(q) => fields.push(("topic", q.topic.as_str(), true)),
        StepKind::ComputeOffsets(c) => {
            fields.push(("group", c.group.as_str(), false));
            fields.extend(c.topics.iter().flatten().map(|t| ("topics", t.as_str(), true)));
            fields.extend(from_group(&c.strategy));
        }
        StepKind::ResetOffsets(r) => {
            fields.extend(r.group.iter().map(|g| ("group", g.as_str(), false)));
            fields.extend(r.topics.iter().flatten().map(|t| ("topics", t.as_str(), true)));
            fields.extend(r.strategy.as_ref().and_then(from_group));
        }
        StepKind::PurgeMessages(p) => {
            fields.push(("topic", p.topic.as_str(), true));
            if let Before::CommittedBy(groups) = &p.before {
                fields.extend(groups.iter().map(|g| ("before.committed_by", g.as_str(), false)));
            }
            if let Some(ProtectGroups::Groups(groups)) = &p.protect_groups {
                fields.extend(groups.iter().map(|g| ("protect_groups", g.as_str(), false)));
            }
        }
        StepKind::DeleteOffsets(d) => {
            fields.push(("group", d.group.as_str(), false));
            fields.extend(d.topics.iter().map(|t| ("topics", t.as_str(), true)));
        }
        StepKind::Check(_) | StepKind::Notify(_) => {}
    }
    fields
}

fn from_group(strategy: &Strategy) -> Option<(&'static str, &str, bool)> {
    match strategy {
        Strategy::FromGroup(group) => Some(("strategy.from_group", group.as_str(), false)),
        _ => None,
    }
}
