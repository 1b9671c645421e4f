//! Planning: the steps in order, each rendered against what the steps before
//! it produced, under its `when`, `timeout` and `retries`. What each kind
//! does is its own (`steps/<kind>/`); this loop only drives them. Nothing is
//! written to the cluster.

use crate::provider::Provider;
use crate::runbook::spec::StepSpec;
use crate::runbook::templates::{Renderer, is_truthy};
use crate::step::{Fields, StepError, StepStatus};
use crate::steps::{self, Earlier, KindPlan, PlannedStep};

use super::compile::CompiledRunbook;
use super::context::{RunInfo, TemplateContext};
use super::plan::{PLAN_FORMAT, Plan, PlanStatus};
use super::step_control::controlled;

/// Plans a compiled runbook on a cluster.
pub async fn plan<P: Provider>(runbook: &CompiledRunbook, provider: &P, run: &RunInfo) -> Plan {
    let renderer = Renderer::default();
    let mut context = TemplateContext::new(runbook, run);
    let mut planned: Vec<PlannedStep> = Vec::with_capacity(runbook.spec.steps.len());
    let mut status = PlanStatus::Planned;
    for spec in &runbook.spec.steps {
        let fields = Fields {
            renderer: &renderer,
            context: context.value(),
            step: &spec.id,
            now: run.started_at,
            files: &run.files,
            progress: run.progress.as_ref(),
        };
        let earlier = Earlier::new(&planned);
        let outcome = match should_run(&fields, spec) {
            Ok(false) => Ok(KindPlan {
                reason: Some("`when` rendered false".to_owned()),
                ..KindPlan::new(StepStatus::Skipped, steps::not_run(&spec.kind))
            }),
            Ok(true) => {
                let (fields, earlier) = (&fields, &earlier);
                controlled(spec.timeout.as_ref(), spec.retries.as_ref(), move || {
                    steps::plan(&spec.kind, fields, earlier, provider)
                })
                .await
            }
            Err(e) => Err(e),
        };
        let step = outcome.unwrap_or_else(|e| KindPlan {
            reason: Some(e.to_string()),
            ..KindPlan::new(
                if e.is_refusal() { StepStatus::Refused } else { StepStatus::Failed },
                steps::not_run(&spec.kind),
            )
        });
        let step = PlannedStep {
            id: spec.id.clone(),
            status: step.status,
            detail: step.detail,
            reason: step.reason,
            warnings: step.warnings,
            timeout: spec.timeout.clone(),
            retries: spec.retries.clone(),
        };
        context.record(&spec.id, step.status, step.output());
        let stop = match step.status {
            StepStatus::Refused => Some(PlanStatus::Refused),
            StepStatus::Failed => Some(PlanStatus::Failed),
            _ => None,
        };
        planned.push(step);
        if let Some(stop) = stop {
            status = stop;
            break;
        }
    }
    Plan {
        format: PLAN_FORMAT.to_owned(),
        run_id: run.id.clone(),
        runbook: runbook.spec.name.clone(),
        runbook_sha256: runbook.sha256.clone(),
        runbook_path: runbook.path.display().to_string(),
        cluster: runbook.spec.cluster.clone(),
        params: runbook.params.clone(),
        created_at: run.started_at,
        status,
        steps: planned,
        rollback_of: None,
        command_line: runbook.command_line.clone(),
        notes: Vec::new(),
        approval: runbook.spec.approval.clone(),
    }
}

fn should_run(fields: &Fields<'_>, spec: &StepSpec) -> Result<bool, StepError> {
    match &spec.when {
        Some(when) => Ok(is_truthy(&fields.text("when", when)?)),
        None => Ok(true),
    }
}
