//! Notifications: the `notify` step, and runbook-level rules that fire on run
//! events (SPEC §3.5). Targets are named in `ebb.yaml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Post a message to a notification target in the middle of a run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyStepSpec {
    /// A target under `notify:` in ebb.yaml.
    pub to: String,
    /// A template.
    pub message: String,
}

/// Post to a target when a run ends a certain way.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyRule {
    /// Run events that fire this rule.
    pub on: Vec<RunEvent>,
    /// A target under `notify:` in ebb.yaml.
    pub to: String,
    /// A template; default `{{runbook.name}} {{run.status}}: {{run.summary}}`.
    #[serde(default)]
    pub message: Option<String>,
}

/// What happened to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunEvent {
    /// The run succeeded.
    Success,
    /// The run failed.
    Failure,
    /// A gate, guard or check refused the run.
    Refused,
    /// A scheduled slot was missed.
    Missed,
    /// A plan has changes to apply.
    Changes,
    /// A plan waits for approval (`approval:`).
    Pending,
}
