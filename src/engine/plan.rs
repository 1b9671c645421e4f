//! The plan: what a dry run found and what an apply will do, exactly. Saved
//! with `ebb plan --out` as JSON (`ebb.plan/v1`, SPEC §4: fields may be added,
//! never renamed) and applied later with `ebb apply`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::CommandLine;
use crate::step::StepStatus;
use crate::steps::PlannedStep;

pub const PLAN_FORMAT: &str = "ebb.plan/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `ebb.plan/v1`.
    pub format: String,
    /// The run that made this plan.
    pub run_id: String,
    pub runbook: String,
    pub runbook_sha256: String,
    /// The runbook file, so `ebb apply` can tell whether it changed since.
    pub runbook_path: String,
    pub cluster: String,
    pub params: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub status: PlanStatus,
    /// The steps reached, in order; a refused or failed step is the last.
    pub steps: Vec<PlannedStep>,
    /// A rollback plan: the run it undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<String>,
    /// A plan of a runbook built from a command line: the line and the runbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_line: Option<CommandLine>,
    /// What the plan cannot do, said once for the whole plan (a rollback's purges).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The runbook's two-person rule when planned: applied only once approved
    /// through the daemon (a rollback keeps the rule of the run it undoes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<crate::runbook::spec::ApprovalSpec>,
}

/// How planning ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Every step ran or was planned: this plan can be applied.
    Planned,
    /// A guard or check refused (exit 3).
    Refused,
    /// A step failed (exit 1).
    Failed,
}

impl Plan {
    /// Partitions a successful apply would change, over every step.
    pub fn change_count(&self) -> usize {
        self.steps.iter().filter(|s| s.status == StepStatus::Planned).map(|s| s.detail.change_count()).sum()
    }

    pub fn has_changes(&self) -> bool {
        self.change_count() > 0
    }

    /// The plan's last line for people, as `ebb plan` and the console end it.
    pub fn outcome_line(&self) -> String {
        match self.status {
            PlanStatus::Planned if self.has_changes() => {
                format!("Plan: {} partition(s) to change.", self.change_count())
            }
            PlanStatus::Planned => "No changes.".to_owned(),
            PlanStatus::Refused => "Refused: nothing will change.".to_owned(),
            PlanStatus::Failed => "Failed: nothing will change.".to_owned(),
        }
    }
}

/// A reset plan for tests elsewhere (plan files, history).
#[cfg(test)]
pub(crate) fn sample() -> Plan {
    use crate::steps::StepDetail;
    use crate::steps::compute_offsets::{ComputeOutput, PartitionTarget};
    use crate::steps::reset_offsets::ResetPlan;
    use serde_json::json;
    let targets = vec![
        PartitionTarget {
            topic: "orders".into(),
            partition: 0,
            current: Some(120),
            target: 131,
            log_start: 0,
            log_end: 200,
            lag_before: Some(80),
            lag_after: 69,
            note: None,
        },
        PartitionTarget {
            topic: "orders".into(),
            partition: 1,
            current: Some(7),
            target: 7,
            log_start: 0,
            log_end: 9,
            lag_before: Some(2),
            lag_after: 2,
            note: None,
        },
    ];
    let mut reset = ResetPlan::new("billing", &targets, 11, 0);
    reset.guards.max_skip = Some(10000);
    Plan {
        format: PLAN_FORMAT.into(),
        run_id: "01M7YSJ8V609ZPPZCZ7N9GGHS0".into(),
        runbook: "skip-poison-orders".into(),
        runbook_sha256: "ab".repeat(32),
        runbook_path: "runbooks/skip-poison-orders.yaml".into(),
        cluster: "local".into(),
        params: json!({ "topic": "orders" }).as_object().unwrap().clone(),
        created_at: "2026-11-21T03:00:00Z".parse().unwrap(),
        status: PlanStatus::Planned,
        steps: vec![
            PlannedStep {
                id: "targets".into(),
                status: StepStatus::Ok,
                detail: StepDetail::ComputeOffsets {
                    output: Some(ComputeOutput {
                        warnings: vec![],
                        group: "billing".into(),
                        partitions: vec![],
                        total_skip: 0,
                        total_rewind: 0,
                    }),
                },
                reason: None,
                warnings: vec![],
                timeout: None,
                retries: None,
            },
            PlannedStep {
                id: "reset".into(),
                status: StepStatus::Planned,
                detail: StepDetail::ResetOffsets(Box::new(reset)),
                reason: None,
                warnings: vec![],
                timeout: None,
                retries: None,
            },
        ],
        rollback_of: None,
        command_line: None,
        notes: vec![],
        approval: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_json_has_the_fields_of_the_contract() {
        let value = serde_json::to_value(sample()).unwrap();
        for key in ["format", "runbook", "runbook_sha256", "cluster", "params", "created_at", "steps"] {
            assert!(value.get(key).is_some(), "missing {key}");
        }
        assert_eq!(value["format"], "ebb.plan/v1");
        assert_eq!(value["created_at"], "2026-11-21T03:00:00Z");
        assert_eq!(
            value["steps"][0],
            json!({"id": "targets", "kind": "compute_offsets", "status": "ok",
                "output": {"group": "billing", "partitions": [], "total_skip": 0, "total_rewind": 0}})
        );
        let reset = &value["steps"][1];
        assert_eq!((&reset["kind"], &reset["status"]), (&json!("reset_offsets"), &json!("planned")));
        let change = &reset["changes"][0];
        for (key, expected) in [
            ("group", json!("billing")),
            ("topic", json!("orders")),
            ("partition", json!(0)),
            ("current", json!(120)),
            ("target", json!(131)),
            ("log_start", json!(0)),
            ("log_end", json!(200)),
            ("note", json!(null)),
        ] {
            assert_eq!(change[key], expected, "{key}");
        }
        assert_eq!(reset["changes"].as_array().unwrap().len(), 1, "the unchanged partition is not a change");
        assert_eq!(reset["unchanged"][0]["partition"], 1);
    }

    #[test]
    fn a_plan_reads_back_as_it_was_written() {
        let plan = sample();
        let text = serde_json::to_string_pretty(&plan).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&text).unwrap(), plan);
        assert_eq!(plan.change_count(), 1);
        assert_eq!(plan.steps[1].detail.kind(), "reset_offsets");
    }
}
