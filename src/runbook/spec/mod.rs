//! The spec layer: exactly what a runbook file says, as Rust types. Each type's
//! `///` comments become the descriptions in `schemas/runbook.schema.json`, which
//! is generated from these types. Nothing here is resolved yet: templates are
//! still text and params have no values.

#![warn(missing_docs)]

mod approval;
mod check;
mod compute_offsets;
mod delete_offsets;
mod notify;
pub mod one_key;
mod purge_messages;
mod query_messages;
mod reset_offsets;
mod schedule_timing;
pub mod values;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::schedule::{MissedPolicy, OverlapPolicy, ScheduleMode};
pub use approval::{ApprovalSpec, ApproverRole};
pub use check::CheckSpec;
pub use compute_offsets::{ComputeOffsetsSpec, Strategy};
pub use delete_offsets::DeleteOffsetsSpec;
pub use notify::{NotifyRule, NotifyStepSpec, RunEvent};
pub use purge_messages::{Before, ProtectGroups, ProtectKeyword, PurgeMessagesSpec};
pub use query_messages::{ContainsIn, Order, QueryMessagesSpec};
pub use reset_offsets::ResetOffsetsSpec;
pub use schedule_timing::TimingError;
pub use values::{Count, Flag, Partition, PartitionOffsets, Templated};

use crate::time::HumanDuration;

/// An ebb runbook: named, ordered steps against one cluster, run on demand or on a schedule.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ebb runbook")]
pub struct RunbookSpec {
    /// Unique across the runbooks directory: lowercase letters, digits and `-`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub name: String,
    /// What the runbook is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The cluster in ebb.yaml to run against.
    pub cluster: String,
    /// Inputs, typed; `--set name=value` (or the API's `params`) overrides defaults.
    #[serde(default)]
    pub params: BTreeMap<String, ParamSpec>,
    /// When the daemon runs this runbook; absent means on demand only.
    #[serde(default)]
    pub schedule: Option<ScheduleSpec>,
    /// The steps, run in order.
    #[schemars(length(min = 1))]
    pub steps: Vec<StepSpec>,
    /// Notifications on run events.
    #[serde(default)]
    pub notify: Vec<NotifyRule>,
    /// The two-person rule: applies wait as pending plans until this many
    /// other token holders approve them through the daemon.
    #[serde(default)]
    pub approval: Option<ApprovalSpec>,
}

/// One input of a runbook.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// The value's type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// The value when none is given; must have the param's type.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// A value must be given for every run; a required param has no default.
    #[serde(default)]
    pub required: bool,
    /// What the param means.
    #[serde(default)]
    pub description: Option<String>,
}

/// Param types. `duration` and `time` render in templates as written, so
/// `from: "-{{params.window}}"` works; `list` is a list of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Text.
    String,
    /// A whole number.
    Int,
    /// `true` or `false`.
    Bool,
    /// A duration such as `90s`, `2h`, `7d`, `PT2H`.
    Duration,
    /// A point in time: RFC 3339, epoch milliseconds, `now` or `-2h`.
    Time,
    /// A list of text; on the command line, comma-separated.
    List,
}

/// A cron schedule for the daemon.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Standard crontab: 5 fields (or 6 with leading seconds), or `@hourly`, `@daily`,
    /// `@weekly`, `@monthly`, `@yearly`. Day-of-week 0–7 (0 and 7 are Sunday).
    pub cron: String,
    /// IANA time zone the cron is read in; default `UTC`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// `apply` runs the runbook; `plan` makes a dry-run plan (for reports). Default `apply`.
    #[serde(default)]
    pub mode: Option<ScheduleMode>,
    /// Slots missed while the daemon was down: `skip`, `latest` (default) or `all`.
    #[serde(default)]
    pub missed: Option<MissedPolicy>,
    /// With `missed: all`, run at most this many missed slots (default 10).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_catchup: Option<u32>,
    /// A slot that comes while a run of this runbook is still going: `skip` (default) or `queue`.
    #[serde(default)]
    pub overlap: Option<OverlapPolicy>,
    /// Delay each run by up to this much, the same for a given runbook and slot.
    #[serde(default)]
    pub jitter: Option<HumanDuration>,
}

/// One step: an `id`, optional controls, and exactly one step kind.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[schemars(transform = one_key::exactly_one_key)]
pub struct StepSpec {
    /// Unique in the runbook; later steps and templates refer to it (`steps.<id>.output`).
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_-]*$"))]
    pub id: String,
    /// A template; the step runs only when it renders truthy, and is `skipped` otherwise.
    #[serde(default)]
    pub when: Option<String>,
    /// Upper bound for the whole step.
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// Retry retryable errors (time-outs, leader changes, throttling); a refusal is never retried.
    #[serde(default)]
    pub retries: Option<RetrySpec>,
    /// What the step does.
    #[serde(flatten)]
    pub kind: StepKind,
}

/// Step kinds: a closed set.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Find messages (read-only).
    QueryMessages(QueryMessagesSpec),
    /// Compute target offsets for a group (read-only).
    ComputeOffsets(ComputeOffsetsSpec),
    /// Commit offsets for a group (mutating).
    ResetOffsets(ResetOffsetsSpec),
    /// Delete old records (mutating, irreversible).
    PurgeMessages(PurgeMessagesSpec),
    /// Delete a group's committed offsets on topics (mutating; rollback re-commits them).
    DeleteOffsets(DeleteOffsetsSpec),
    /// Refuse the run unless a condition holds.
    Check(CheckSpec),
    /// Post a message to a notification target.
    Notify(NotifyStepSpec),
}

impl StepKind {
    /// The YAML key of this kind.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::QueryMessages(_) => "query_messages",
            StepKind::ComputeOffsets(_) => "compute_offsets",
            StepKind::ResetOffsets(_) => "reset_offsets",
            StepKind::PurgeMessages(_) => "purge_messages",
            StepKind::DeleteOffsets(_) => "delete_offsets",
            StepKind::Check(_) => "check",
            StepKind::Notify(_) => "notify",
        }
    }
}

/// Every step kind's YAML key, in the order the docs list them.
pub const STEP_KINDS: [&str; 7] =
    ["query_messages", "compute_offsets", "reset_offsets", "purge_messages", "delete_offsets", "check", "notify"];

/// Retries of retryable errors.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, the first included.
    #[schemars(range(min = 1))]
    pub attempts: u32,
    /// Wait before the first retry, doubling after each; default 1s.
    #[serde(default)]
    pub backoff: Option<HumanDuration>,
}
