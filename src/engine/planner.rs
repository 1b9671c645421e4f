//! Planning: the steps in order, each rendered against what the steps before it
//! produced. Read-only steps run; a `reset_offsets` becomes its exact
//! per-partition changes, checked against its guards; `check` refuses the run
//! when its condition is false. Nothing is written to the cluster.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::provider::Provider;
use crate::runbook::spec::{CheckSpec, NotifyStepSpec, PurgeMessagesSpec, ResetOffsetsSpec, StepKind, StepSpec};
use crate::runbook::templates::{Renderer, is_truthy};
use crate::steps::compute_offsets::ComputeOutput;
use crate::steps::query_messages::{Download, QueryOutput};

use super::compile::CompiledRunbook;
use super::context::{RunInfo, TemplateContext};
use super::gate;
use super::guards::{self, Movement};
use super::plan::{PLAN_FORMAT, Plan, PlanStatus, PlannedStep, ResetPlan, StepDetail, StepStatus};
use super::resolve::{Fields, Queries};
use super::step_control::controlled;
use super::step_error::StepError;

/// Outputs of `compute_offsets` steps so far; `None` for one that was skipped.
type Computed = HashMap<String, Option<ComputeOutput>>;

/// One step's plan, before it is recorded.
struct StepPlan {
    status: StepStatus,
    detail: StepDetail,
    reason: Option<String>,
    warnings: Vec<String>,
    /// What later templates see as `steps.<id>.output`.
    output: Option<Value>,
    computed: Option<ComputeOutput>,
    queried: Option<QueryOutput>,
}

impl StepPlan {
    fn new(status: StepStatus, detail: StepDetail) -> Self {
        StepPlan { status, detail, reason: None, warnings: Vec::new(), output: None, computed: None, queried: None }
    }
}

/// Plans a compiled runbook on a cluster.
pub async fn plan<P: Provider>(runbook: &CompiledRunbook, provider: &P, run: &RunInfo) -> Plan {
    let renderer = Renderer::default();
    let mut context = TemplateContext::new(runbook, run);
    let mut computed = Computed::new();
    let mut queries = Queries::new();
    let mut steps = Vec::with_capacity(runbook.spec.steps.len());
    let mut status = PlanStatus::Planned;
    for spec in &runbook.spec.steps {
        let fields = Fields {
            renderer: &renderer,
            context: context.value(),
            step: &spec.id,
            now: run.started_at,
            files: &run.files,
            queries: &queries,
            progress: run.progress.as_ref(),
        };
        let outcome = match should_run(&fields, spec) {
            Ok(false) => Ok(StepPlan {
                reason: Some("`when` rendered false".to_owned()),
                ..StepPlan::new(StepStatus::Skipped, empty_detail(&spec.kind))
            }),
            Ok(true) => {
                let (fields, computed) = (&fields, &computed);
                controlled(spec.timeout.as_ref(), spec.retries.as_ref(), move || {
                    plan_step(fields, spec, provider, computed)
                })
                .await
            }
            Err(e) => Err(e),
        };
        let step = match outcome {
            Ok(step) => step,
            Err(e) => StepPlan {
                reason: Some(e.to_string()),
                ..StepPlan::new(
                    if e.is_refusal() { StepStatus::Refused } else { StepStatus::Failed },
                    empty_detail(&spec.kind),
                )
            },
        };
        match spec.kind {
            StepKind::ComputeOffsets(_) => {
                computed.insert(spec.id.clone(), step.computed.clone());
            }
            StepKind::QueryMessages(_) => {
                queries.insert(spec.id.clone(), step.queried.clone());
            }
            _ => {}
        }
        context.record(&spec.id, step.status, step.output.clone());
        let stop = match step.status {
            StepStatus::Refused => Some(PlanStatus::Refused),
            StepStatus::Failed => Some(PlanStatus::Failed),
            _ => None,
        };
        steps.push(PlannedStep {
            id: spec.id.clone(),
            status: step.status,
            detail: step.detail,
            reason: step.reason,
            warnings: step.warnings,
            timeout: spec.timeout.clone(),
            retries: spec.retries.clone(),
        });
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
        steps,
        rollback_of: None,
        notes: Vec::new(),
    }
}

fn should_run(fields: &Fields<'_>, spec: &StepSpec) -> Result<bool, StepError> {
    match &spec.when {
        Some(when) => Ok(is_truthy(&fields.text("when", when)?)),
        None => Ok(true),
    }
}

fn empty_detail(kind: &StepKind) -> StepDetail {
    match kind {
        StepKind::QueryMessages(_) => StepDetail::QueryMessages { output: None },
        StepKind::ComputeOffsets(_) => StepDetail::ComputeOffsets { output: None },
        StepKind::ResetOffsets(_) => StepDetail::ResetOffsets(Box::default()),
        StepKind::PurgeMessages(_) => StepDetail::PurgeMessages(Box::default()),
        StepKind::Check(_) => StepDetail::Check { message: None },
        StepKind::Notify(n) => StepDetail::Notify { to: n.to.clone(), message: None },
    }
}

async fn plan_step<P: Provider>(
    fields: &Fields<'_>,
    spec: &StepSpec,
    provider: &P,
    computed: &Computed,
) -> Result<StepPlan, StepError> {
    match &spec.kind {
        StepKind::ComputeOffsets(compute) => {
            let output = fields.compute_offsets(compute)?.run(provider).await?;
            let value = serde_json::to_value(&output).expect("outputs are JSON");
            Ok(StepPlan {
                output: Some(value.clone()),
                computed: Some(output),
                ..StepPlan::new(StepStatus::Ok, StepDetail::ComputeOffsets { output: Some(value) })
            })
        }
        StepKind::ResetOffsets(reset) => plan_reset(fields, reset, provider, computed).await,
        StepKind::Check(check) => plan_check(fields, check),
        StepKind::Notify(notify) => plan_notify(fields, notify),
        StepKind::QueryMessages(query) => {
            let query = fields.query_messages(query)?;
            let output = query.run(provider).await?;
            let value = serde_json::to_value(&output).expect("outputs are JSON");
            let mut warnings = Vec::new();
            if matches!(query.download, Download::Skipped) {
                warnings.push("download skipped: a viewer's plan through the API writes no file; a run started by an operator writes it (applying a saved plan does not: it reads no messages)".to_owned());
            }
            Ok(StepPlan {
                output: Some(value.clone()),
                queried: Some(output),
                warnings,
                ..StepPlan::new(StepStatus::Ok, StepDetail::QueryMessages { output: Some(value) })
            })
        }
        StepKind::PurgeMessages(purge) => plan_purge(fields, purge, provider).await,
    }
}

/// A purge: each partition's new log start, the `max_delete` guard, and a
/// warning naming every group that would lose records it has not consumed.
async fn plan_purge<P: Provider>(
    fields: &Fields<'_>,
    spec: &PurgeMessagesSpec,
    provider: &P,
) -> Result<StepPlan, StepError> {
    let purge = fields.purge_messages(spec)?.plan(provider).await?;
    let warnings = purge
        .unconsumed()
        .into_iter()
        .map(|(group, partitions)| {
            let list: Vec<String> = partitions.iter().map(|p| format!("{}:{p}", purge.topic)).collect();
            format!("allow_unconsumed: deletes records group {group:?} has not consumed on {}", list.join(", "))
        })
        .collect();
    let refusal = guards::check_delete(purge.max_delete, &purge.topic, purge.total_deleted).err();
    Ok(StepPlan {
        status: if refusal.is_some() { StepStatus::Refused } else { StepStatus::Planned },
        reason: refusal.map(|e| e.to_string()),
        warnings,
        output: Some(purge.output()),
        ..StepPlan::new(StepStatus::Planned, StepDetail::PurgeMessages(Box::new(purge)))
    })
}

async fn plan_reset<P: Provider>(
    fields: &Fields<'_>,
    spec: &ResetOffsetsSpec,
    provider: &P,
    computed: &Computed,
) -> Result<StepPlan, StepError> {
    let targets = match &spec.offsets {
        Some(source) => match computed.get(source) {
            Some(Some(output)) => output.clone(),
            Some(None) => {
                return Ok(StepPlan {
                    reason: Some(format!("its offsets step `{source}` was skipped")),
                    ..StepPlan::new(StepStatus::Skipped, StepDetail::ResetOffsets(Box::default()))
                });
            }
            None => {
                return Err(StepError::Invalid(format!(
                    "step `{}`: `offsets` names no earlier compute_offsets step `{source}`",
                    fields.step
                )));
            }
        },
        None => fields.inline_reset(spec)?.run(provider).await?,
    };
    let mut reset = ResetPlan::new(&targets.group, &targets.partitions, targets.total_skip, targets.total_rewind);
    reset.guards = fields.guards(spec)?;
    reset.wait_for_inactive = spec.wait_for_inactive.clone();
    let output = json!({
        "group": reset.group,
        "changes": reset.changes.len(),
        "unchanged": reset.unchanged.len(),
        "total_skip": reset.total_skip,
        "total_rewind": reset.total_rewind,
    });
    let movement = Movement::of(reset.changes.iter().map(|c| (c.planned.current, c.planned.target)));
    let refusal = guards::check(&reset.guards, &reset.group, movement).err();
    let mut warnings = Vec::new();
    if !reset.changes.is_empty() {
        let described = provider.describe_group(&reset.group).await?;
        reset.group_state = Some(described.state.to_string());
        if refusal.is_none() {
            warnings.extend(gate::plan_warning(&described, reset.wait_for_inactive.as_ref()));
        }
    }
    let status = if refusal.is_some() { StepStatus::Refused } else { StepStatus::Planned };
    Ok(StepPlan {
        reason: refusal.map(|e| e.to_string()),
        warnings,
        output: Some(output),
        ..StepPlan::new(status, StepDetail::ResetOffsets(Box::new(reset)))
    })
}

fn plan_check(fields: &Fields<'_>, check: &CheckSpec) -> Result<StepPlan, StepError> {
    if is_truthy(&fields.text("that", &check.that)?) {
        return Ok(StepPlan::new(StepStatus::Ok, StepDetail::Check { message: None }));
    }
    let message = match &check.message {
        Some(message) => fields.text("message", message)?,
        None => format!("check failed: {}", check.that),
    };
    Ok(StepPlan {
        reason: Some(message.clone()),
        ..StepPlan::new(StepStatus::Refused, StepDetail::Check { message: Some(message) })
    })
}

fn plan_notify(fields: &Fields<'_>, notify: &NotifyStepSpec) -> Result<StepPlan, StepError> {
    let message = fields.text("message", &notify.message)?;
    Ok(StepPlan::new(StepStatus::Planned, StepDetail::Notify { to: notify.to.clone(), message: Some(message) }))
}
