//! What templates see while a run goes (SPEC §2): `params`, `steps.<id>.output`
//! and `.status`, `run`, `runbook` and `now`. Times are pinned to the run's
//! start, so `-2h` means the same instant in every step of a run.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::compile::CompiledRunbook;
use super::trigger::Trigger;
use crate::step::confined_files::FileAccess;
use crate::step::progress::ProgressSink;
use crate::step::{Messenger, StepStatus};

/// Whether a run only plans or also applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Plan,
    Apply,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        }
    }
}

/// Who started a run, and when.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub id: String,
    pub trigger: Trigger,
    pub mode: Mode,
    pub started_at: DateTime<Utc>,
    /// The schedule slot a `schedule` run is for.
    pub slot: Option<DateTime<Utc>>,
    /// The run a `rollback` run undoes.
    pub rollback_of: Option<String>,
    /// Where long reads report how far they got, if anyone shows it.
    pub progress: Option<ProgressSink>,
    /// Who asked for the run through the daemon's API (a token's name).
    pub actor: Option<String>,
    /// Delivers `notify` steps; without one they are skipped, saying so.
    pub notifier: Option<Arc<dyn Messenger>>,
    /// Where the runbook's `from_file` and `download` may read and write.
    pub files: FileAccess,
}

impl RunInfo {
    /// A run started now from the command line.
    pub fn cli(mode: Mode) -> Self {
        RunInfo::now(Trigger::Cli, mode)
    }

    /// A run started now by `trigger`.
    pub fn now(trigger: Trigger, mode: Mode) -> Self {
        let started_at = Utc::now();
        RunInfo {
            id: super::new_run_id(started_at.timestamp_millis()),
            trigger,
            mode,
            started_at,
            slot: None,
            rollback_of: None,
            progress: None,
            actor: None,
            notifier: None,
            // Nothing is reachable until the caller says where (from ebb.yaml).
            files: FileAccess { may_write: true, ..FileAccess::default() },
        }
    }

    /// A run started now to roll back run `of`.
    pub fn rollback(mode: Mode, of: &str) -> Self {
        RunInfo { rollback_of: Some(of.to_owned()), ..RunInfo::now(Trigger::Rollback, mode) }
    }

    pub fn with_notifier(mut self, notifier: Arc<dyn Messenger>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Confines the run's files to `files`; whether it may write stays as it was.
    pub fn with_files(mut self, files: FileAccess) -> Self {
        self.files = FileAccess { may_write: self.files.may_write, ..files };
        self
    }

    pub fn with_progress(mut self, progress: Option<ProgressSink>) -> Self {
        self.progress = progress;
        self
    }
}

/// The template context of one run, growing as steps finish.
pub struct TemplateContext {
    value: Value,
}

impl TemplateContext {
    pub fn new(runbook: &CompiledRunbook, run: &RunInfo) -> Self {
        let started_at = run.started_at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let value = json!({
            "params": runbook.params,
            "steps": {},
            "run": {
                "id": run.id,
                "trigger": run.trigger,
                "mode": run.mode.name(),
                "started_at": started_at,
                "status": "running",
                "summary": "",
            },
            "runbook": {
                "name": runbook.spec.name,
                "description": runbook.spec.description,
                "cluster": runbook.spec.cluster,
                "sha256": runbook.sha256,
            },
            "now": started_at,
        });
        TemplateContext { value }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Makes a finished step visible to later templates.
    pub fn record(&mut self, id: &str, status: StepStatus, output: Option<Value>) {
        let steps = self.value["steps"].as_object_mut().expect("steps is a map");
        let mut step = Map::new();
        step.insert("status".to_owned(), serde_json::to_value(status).expect("a status is JSON"));
        step.insert("output".to_owned(), output.unwrap_or(Value::Null));
        steps.insert(id.to_owned(), Value::Object(step));
    }
}
