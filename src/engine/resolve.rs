//! Rendering a step's fields for one run: templates against the run's context,
//! then read as their types. A value that renders to something of the wrong
//! type is an error naming the step and field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::provider::{TopicPartition, kafka_names};
use crate::runbook::spec::values::{Leaf, is_template};
use crate::runbook::spec::{
    Before, ComputeOffsetsSpec, Order as OrderSpec, Partition, ProtectGroups, ProtectKeyword, PurgeMessagesSpec,
    QueryMessagesSpec, ResetOffsetsSpec, Strategy, Templated,
};
use crate::runbook::templates::Renderer;
use crate::steps::compute_offsets::{ComputeOffsets, Targeting};
use crate::steps::confined_files::FileAccess;
use crate::steps::offsets_file::parse_offsets_file;
use crate::steps::progress::ProgressSink;
use crate::steps::protection::Protection;
use crate::steps::purge_messages::{PurgeMessages, PurgePoint};
use crate::steps::query_messages::{Download, Filter, Needle, Order, Position, QueryMessages, QueryOutput};

/// Outputs of the `query_messages` steps so far; `None` for one that was skipped.
pub type Queries = std::collections::HashMap<String, Option<QueryOutput>>;

/// Messages a query keeps when it names no `limit`.
const DEFAULT_LIMIT: usize = 100;

use super::plan::Guards;
use super::step_error::StepError;

/// Renders the fields of one step.
pub struct Fields<'a> {
    pub renderer: &'a Renderer,
    pub context: &'a Value,
    pub step: &'a str,
    /// The run's start: relative times and durations count back from it.
    pub now: DateTime<Utc>,
    /// Where `from_file` and `download` may read and write.
    pub files: &'a FileAccess,
    /// Outputs of earlier `query_messages` steps, for `after_messages` and `at_messages`.
    pub queries: &'a Queries,
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
        kafka_names::check(is_topic, &name)
            .map_err(|e| StepError::Invalid(format!("step `{}`, field `{field}`: {e}", self.step)))?;
        Ok(name)
    }

    /// A typed leaf, rendered and read when it is a template.
    pub fn leaf<T: Leaf + Clone>(&self, field: &str, value: &Templated<T>) -> Result<T, StepError> {
        value
            .resolve(|text| self.renderer.render(self.step, field, text, self.context))?
            .map_err(|reason| StepError::Invalid(format!("step `{}`, field `{field}`: {reason}", self.step)))
    }

    fn partitions(&self, partitions: Option<&[Templated<Partition>]>) -> Result<Option<Vec<i32>>, StepError> {
        partitions.map(|list| list.iter().map(|p| self.leaf("partitions", p).map(|p| p.0)).collect()).transpose()
    }

    fn topics(&self, topics: Option<&[String]>) -> Result<Option<Vec<String>>, StepError> {
        topics.map(|list| list.iter().map(|t| self.name("topics", t, true)).collect()).transpose()
    }

    /// A `compute_offsets` step, resolved.
    pub fn compute_offsets(&self, spec: &ComputeOffsetsSpec) -> Result<ComputeOffsets, StepError> {
        self.compute(&spec.group, spec.topics.as_deref(), spec.partitions.as_deref(), &spec.strategy)
    }

    /// The implicit compute step of an inline `reset_offsets`.
    pub fn inline_reset(&self, spec: &ResetOffsetsSpec) -> Result<ComputeOffsets, StepError> {
        let (Some(group), Some(strategy)) = (&spec.group, &spec.strategy) else {
            return Err(StepError::Invalid(format!(
                "step `{}`: reset_offsets needs `offsets`, or `group` and `strategy`",
                self.step
            )));
        };
        self.compute(group, spec.topics.as_deref(), spec.partitions.as_deref(), strategy)
    }

    fn compute(
        &self,
        group: &str,
        topics: Option<&[String]>,
        partitions: Option<&[Templated<Partition>]>,
        strategy: &Strategy,
    ) -> Result<ComputeOffsets, StepError> {
        let group = self.name("group", group, false)?;
        let targeting = match strategy {
            Strategy::ToEarliest(_) => Targeting::Earliest,
            Strategy::ToLatest(_) => Targeting::Latest,
            Strategy::ToCurrent(_) => Targeting::Current,
            Strategy::ToOffset(n) => Targeting::Offset(self.leaf("strategy.to_offset", n)?),
            Strategy::ShiftBy(n) => Targeting::Shift(self.leaf("strategy.shift_by", n)?),
            Strategy::ToDatetime(t) => {
                Targeting::Time(self.leaf("strategy.to_datetime", t)?.resolve(self.now).timestamp_millis())
            }
            Strategy::ByDuration(d) => {
                let d = self.leaf("strategy.by_duration", d)?;
                let back = chrono::Duration::from_std(d.duration).unwrap_or(chrono::Duration::MAX);
                Targeting::Time((self.now - back).timestamp_millis())
            }
            Strategy::Offsets(given) => {
                let mut offsets = BTreeMap::new();
                for (topic, partitions) in given {
                    let topic = self.name("strategy.offsets", topic, true)?;
                    for (partition, offset) in &partitions.0 {
                        let partition = Partition::from_text(partition).map_err(StepError::Invalid)?.0;
                        let field = format!("strategy.offsets.{topic}.{partition}");
                        offsets.insert(TopicPartition::new(topic.clone(), partition), self.leaf(&field, offset)?);
                    }
                }
                Targeting::Given(offsets)
            }
            Strategy::FromFile(path) => {
                let named = self.text("strategy.from_file", path)?;
                let text = self.files.read(&named, crate::bounded_read::DATA_FILE_LIMIT).map_err(|e| {
                    StepError::Invalid(format!("step `{}`, field `strategy.from_file`: {e}", self.step))
                })?;
                let offsets = parse_offsets_file(&text, &group).map_err(|e| {
                    StepError::Invalid(format!("step `{}`: {}: {e}", self.step, crate::shown::quoted(&named)))
                })?;
                Targeting::Given(offsets)
            }
            Strategy::FromGroup(other) => Targeting::FromGroup(self.name("strategy.from_group", other, false)?),
            Strategy::AfterMessages(query) => Targeting::AfterMatches(self.matches(query, |(_, last)| last)?),
            Strategy::AtMessages(query) => Targeting::AtMatches(self.matches(query, |(first, _)| first)?),
        };
        Ok(ComputeOffsets { group, topics: self.topics(topics)?, partitions: self.partitions(partitions)?, targeting })
    }

    /// First or last match per partition of an earlier query step.
    fn matches(
        &self,
        query: &str,
        pick: impl Fn((i64, i64)) -> i64,
    ) -> Result<BTreeMap<TopicPartition, i64>, StepError> {
        match self.queries.get(query) {
            Some(Some(output)) => Ok(output.matches().into_iter().map(|(tp, m)| (tp, pick(m))).collect()),
            Some(None) => Ok(BTreeMap::new()),
            None => Err(StepError::Invalid(format!(
                "step `{}`: `{query}` is not an earlier query_messages step",
                self.step
            ))),
        }
    }

    /// A `query_messages` step, resolved: its position turned into one of the
    /// four kinds, a window's times pinned to the run's start.
    pub fn query_messages(&self, spec: &QueryMessagesSpec) -> Result<QueryMessages, StepError> {
        let time = |field: &str, value: &Templated<crate::time::TimeSpec>| {
            self.leaf(field, value).map(|t| t.resolve(self.now).timestamp_millis())
        };
        let position = if spec.from.is_some() || spec.to.is_some() {
            Position::Window {
                from: spec.from.as_ref().map(|f| time("from", f)).transpose()?,
                to: Some(spec.to.as_ref().map_or(Ok(self.now.timestamp_millis()), |t| time("to", t))?),
            }
        } else if let (Some(partition), Some(offset)) = (&spec.partition, &spec.offset) {
            Position::Exact { partition: self.leaf("partition", partition)?.0, offset: self.leaf("offset", offset)? }
        } else if spec.from_offset.is_some() || spec.to_offset.is_some() {
            Position::Offsets {
                from: spec.from_offset.as_ref().map(|o| self.leaf("from_offset", o)).transpose()?,
                to: spec.to_offset.as_ref().map(|o| self.leaf("to_offset", o)).transpose()?,
            }
        } else if let Some(last) = &spec.last {
            Position::Last(self.leaf("last", last)?.0)
        } else {
            return Err(StepError::Invalid(format!("step `{}`: a query needs a position", self.step)));
        };
        let case_insensitive =
            spec.case_insensitive.as_ref().map(|c| self.leaf("case_insensitive", c)).transpose()?.unwrap_or(false);
        let value_regex = match &spec.value_regex {
            Some(text) => {
                let text = self.text("value_regex", text)?;
                Some(regex::RegexBuilder::new(&text).case_insensitive(case_insensitive).build().map_err(|e| {
                    // The regex crate's message repeats the whole pattern; its last line says why.
                    let why = e.to_string().lines().last().unwrap_or_default().to_owned();
                    StepError::Invalid(format!(
                        "step `{}`, field `value_regex`: invalid regex {}: {why}",
                        self.step,
                        crate::shown::quoted(&text)
                    ))
                })?)
            }
            None => None,
        };
        let mut headers = BTreeMap::new();
        for (name, value) in &spec.headers {
            headers.insert(name.clone(), self.text(&format!("headers.{name}"), value)?);
        }
        Ok(QueryMessages {
            topic: self.name("topic", &spec.topic, true)?,
            partitions: self.partitions(spec.partitions.as_deref())?,
            position,
            filter: Filter {
                contains: match &spec.contains {
                    Some(text) => {
                        let text = self.text("contains", text)?;
                        Some(
                            Needle::new(&text, case_insensitive).map_err(|e| {
                                StepError::Invalid(format!("step `{}`, field `contains`: {e}", self.step))
                            })?,
                        )
                    }
                    None => None,
                },
                key: spec.key.as_ref().map(|k| self.text("key", k)).transpose()?,
                value_regex,
                headers,
                case_insensitive,
            },
            limit: spec
                .limit
                .as_ref()
                .map(|l| self.leaf("limit", l))
                .transpose()?
                .map_or(DEFAULT_LIMIT, |c| usize::try_from(c.0).unwrap_or(usize::MAX)),
            order: match spec.order {
                Some(OrderSpec::Desc) => Order::Desc,
                _ => Order::Asc,
            },
            download: match &spec.download {
                Some(named) if self.files.may_write => Download::To {
                    named: self.text("download", named)?,
                    overwrite: spec.overwrite,
                    files: self.files.clone(),
                },
                Some(_) => Download::Skipped,
                None => Download::None,
            },
            progress: self.progress.cloned().map(|sink| (self.step.to_owned(), sink)),
        })
    }

    /// A `purge_messages` step, resolved: `before` as one point, times pinned to the run's start.
    pub fn purge_messages(&self, spec: &PurgeMessagesSpec) -> Result<PurgeMessages, StepError> {
        let before = match &spec.before {
            Before::Offset(n) => PurgePoint::Offset(self.leaf("before.offset", n)?),
            Before::Offsets(given) => {
                let mut offsets = BTreeMap::new();
                for (partition, offset) in &given.0 {
                    let partition = Partition::from_text(partition)
                        .map_err(|e| StepError::Invalid(format!("step `{}`, field `before.offsets`: {e}", self.step)))?
                        .0;
                    offsets.insert(partition, self.leaf(&format!("before.offsets.{partition}"), offset)?);
                }
                PurgePoint::Offsets(offsets)
            }
            Before::Datetime(t) => {
                PurgePoint::Time(self.leaf("before.datetime", t)?.resolve(self.now).timestamp_millis())
            }
            Before::OlderThan(d) => {
                let d = self.leaf("before.older_than", d)?;
                let back = chrono::Duration::from_std(d.duration).unwrap_or(chrono::Duration::MAX);
                PurgePoint::Time((self.now - back).timestamp_millis())
            }
            Before::CommittedBy(groups) => PurgePoint::CommittedBy(
                groups.iter().map(|g| self.name("before.committed_by", g, false)).collect::<Result<_, _>>()?,
            ),
            Before::HighWatermark(_) => PurgePoint::HighWatermark,
        };
        let protection = match &spec.protect_groups {
            None | Some(ProtectGroups::Keyword(ProtectKeyword::All)) => Protection::All,
            Some(ProtectGroups::Keyword(ProtectKeyword::None)) => Protection::None,
            Some(ProtectGroups::Groups(groups)) => Protection::Groups(
                groups.iter().map(|g| self.name("protect_groups", g, false)).collect::<Result<_, _>>()?,
            ),
        };
        Ok(PurgeMessages {
            topic: self.name("topic", &spec.topic, true)?,
            partitions: self.partitions(spec.partitions.as_deref())?,
            before,
            protection,
            allow_unconsumed: spec
                .allow_unconsumed
                .as_ref()
                .map(|a| self.leaf("allow_unconsumed", a))
                .transpose()?
                .unwrap_or(false),
            max_delete: spec.max_delete.as_ref().map(|m| self.leaf("max_delete", m).map(|c| c.0)).transpose()?,
        })
    }

    /// The guards of a `reset_offsets` step.
    pub fn guards(&self, spec: &ResetOffsetsSpec) -> Result<Guards, StepError> {
        let count = |field: &str, value: Option<&Templated<crate::runbook::spec::Count>>| {
            value.map(|v| self.leaf(field, v).map(|c| c.0)).transpose()
        };
        Ok(Guards {
            max_skip: count("max_skip", spec.max_skip.as_ref())?,
            max_rewind: count("max_rewind", spec.max_rewind.as_ref())?,
            max_partitions: count("max_partitions", spec.max_partitions.as_ref())?,
        })
    }
}
