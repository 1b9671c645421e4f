//! Drift before an apply (SPEC §4): the runbook file changed since the plan,
//! and whatever each planned step's kind finds moved on the cluster.

use crate::provider::{Provider, ProviderError};
use crate::step::Drift;
use crate::steps;

use super::plan::Plan;

/// Compares the plan with the cluster and the runbook file as they are now.
pub async fn find<P: Provider>(
    plan: &Plan,
    provider: &P,
    sha256_now: Option<&str>,
) -> Result<Vec<Drift>, ProviderError> {
    let mut drift = Vec::new();
    if sha256_now != Some(plan.runbook_sha256.as_str()) {
        drift.push(Drift::RunbookChanged {
            path: plan.runbook_path.clone(),
            planned_sha256: plan.runbook_sha256.clone(),
            now_sha256: sha256_now.map(str::to_owned),
        });
    }
    for step in &plan.steps {
        drift.extend(steps::drift(step, provider).await?);
    }
    Ok(drift)
}
