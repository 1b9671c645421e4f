//! Rendering a step's fields for one run: templates against the run's context,
//! then read as their types. A value that renders to something of the wrong
//! type is an error naming the step and field. Each kind reads its own spec
//! with these (`steps/<kind>/resolve.rs`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::kafka_names;
use crate::runbook::spec::values::{Leaf, is_template};
use crate::runbook::spec::{Partition, Templated};
use crate::runbook::templates::Renderer;

use super::confined_files::FileAccess;
use super::error::StepError;
use super::progress::ProgressSink;

/// Renders the fields of one step.
pub struct Fields<'a> {
    pub renderer: &'a Renderer,
    pub context: &'a Value,
    pub step: &'a str,
    /// The run's start: relative times and durations count back from it.
    pub now: DateTime<Utc>,
    /// Where `from_file` and `download` may read and write.
    pub files: &'a FileAccess,
    /// Where reads report how far they got.
    pub progress: Option<&'a ProgressSink>,
}

impl Fields<'_> {
    /// Text, rendered when it holds a template.
    pub fn text(&self, field: &str, text: &str) -> Result<String, StepError> {
        if is_template(text) {
            Ok(self.renderer.render(self.step, field, text, self.context)?)
        } else {
            Ok(text.to_owned())
        }
    }

    /// A topic (`is_topic`) or group name, rendered, then checked against
    /// Kafka's rules before any request can carry it.
    pub fn name(&self, field: &str, text: &str, is_topic: bool) -> Result<String, StepError> {
        let name = self.text(field, text)?;
        kafka_names::check(is_topic, &name).map_err(|e| self.invalid(field, e))?;
        Ok(name)
    }

    /// A typed leaf, rendered and read when it is a template.
    pub fn leaf<T: Leaf + Clone>(&self, field: &str, value: &Templated<T>) -> Result<T, StepError> {
        value
            .resolve(|text| self.renderer.render(self.step, field, text, self.context))?
            .map_err(|reason| self.invalid(field, reason))
    }

    /// An optional typed leaf.
    pub fn optional<T: Leaf + Clone>(&self, field: &str, value: Option<&Templated<T>>) -> Result<Option<T>, StepError> {
        value.map(|v| self.leaf(field, v)).transpose()
    }

    /// A list of partitions, each rendered.
    pub fn partitions(&self, partitions: Option<&[Templated<Partition>]>) -> Result<Option<Vec<i32>>, StepError> {
        partitions.map(|list| list.iter().map(|p| self.leaf("partitions", p).map(|p| p.0)).collect()).transpose()
    }

    /// A list of topics, each rendered and checked.
    pub fn topics(&self, topics: Option<&[String]>) -> Result<Option<Vec<String>>, StepError> {
        topics.map(|list| list.iter().map(|t| self.name("topics", t, true)).collect()).transpose()
    }

    /// A list of group names, each rendered and checked.
    pub fn groups(&self, field: &str, groups: &[String]) -> Result<Vec<String>, StepError> {
        groups.iter().map(|g| self.name(field, g, false)).collect()
    }

    /// This step's `field` holds something unusable.
    pub fn invalid(&self, field: &str, reason: impl std::fmt::Display) -> StepError {
        StepError::field(self.step, field, reason)
    }

    /// This step cannot run as written.
    pub fn unresolved(&self, reason: impl std::fmt::Display) -> StepError {
        StepError::unresolved(self.step, reason)
    }
}
