//! `query_messages`: read one topic's records in a window of time or offsets,
//! filter, count and keep them (SPEC §3.1). Read-only: it runs at plan time.

mod query;
mod resolve;
pub mod view;

pub use query::{
    Download, Downloaded, Filter, MOST_RUNS, Needle, Order, PartitionMatches, Position, QueryError, QueryMessages,
    QueryOutput,
};
pub use resolve::resolve;

use crate::provider::Provider;
use crate::runbook::spec::QueryMessagesSpec;
use crate::step::{Fields, StepError, StepStatus};

use super::{KindPlan, StepDetail};

/// Runs the query: its output is the step's plan.
pub async fn plan<P: Provider>(
    spec: &QueryMessagesSpec,
    fields: &Fields<'_>,
    provider: &P,
) -> Result<KindPlan, StepError> {
    let query = resolve(fields, spec)?;
    let output = query.run(provider).await?;
    let mut warnings = Vec::new();
    if matches!(query.download, Download::Skipped) {
        warnings.push("download skipped: a viewer's plan through the API writes no file; a run started by an operator writes it (applying a saved plan does not: it reads no messages)".to_owned());
    }
    if let Some(fallback) = provider.scan_fallback() {
        warnings.push(fallback);
    }
    warnings.extend(output.read_notes.iter().cloned());
    if output.where_errors > 0 {
        warnings.push(format!(
            "where: {} record(s) could not be evaluated and count as no match (first: {})",
            output.where_errors,
            output.first_where_error.as_deref().unwrap_or("-")
        ));
    }
    Ok(KindPlan { warnings, ..KindPlan::new(StepStatus::Ok, StepDetail::QueryMessages { output: Some(output) }) })
}

impl From<QueryError> for StepError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Provider(e) => StepError::Provider(e),
            own => StepError::Kind(Box::new(own)),
        }
    }
}
