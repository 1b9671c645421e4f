//! A `query_messages` step resolved for one run: its position turned into one
//! of the four kinds, a window's times pinned to the run's start, its filters
//! compiled.

use std::collections::BTreeMap;

use crate::runbook::spec::{Order as OrderSpec, QueryMessagesSpec, Templated};
use crate::step::{Fields, StepError};

use super::query::{Download, Filter, Needle, Order, Position, QueryMessages};
use crate::record_filter::Expression;

/// Messages a query keeps when it names no `limit`.
const DEFAULT_LIMIT: usize = 100;

/// A `query_messages` step, resolved: its position turned into one of the
/// four kinds, a window's times pinned to the run's start.
pub fn resolve(fields: &Fields<'_>, spec: &QueryMessagesSpec) -> Result<QueryMessages, StepError> {
    let time = |field: &str, value: &Templated<crate::time::TimeSpec>| {
        fields.leaf(field, value).map(|t| t.resolve(fields.now).timestamp_millis())
    };
    let position = if spec.from.is_some() || spec.to.is_some() {
        Position::Window {
            from: spec.from.as_ref().map(|f| time("from", f)).transpose()?,
            to: Some(spec.to.as_ref().map_or(Ok(fields.now.timestamp_millis()), |t| time("to", t))?),
        }
    } else if let (Some(partition), Some(offset)) = (&spec.partition, &spec.offset) {
        Position::Exact { partition: fields.leaf("partition", partition)?.0, offset: fields.leaf("offset", offset)? }
    } else if spec.from_offset.is_some() || spec.to_offset.is_some() {
        Position::Offsets {
            from: spec.from_offset.as_ref().map(|o| fields.leaf("from_offset", o)).transpose()?,
            to: spec.to_offset.as_ref().map(|o| fields.leaf("to_offset", o)).transpose()?,
        }
    } else if let Some(last) = &spec.last {
        Position::Last(fields.leaf("last", last)?.0)
    } else {
        return Err(fields.unresolved("a query needs a position"));
    };
    let case_insensitive =
        spec.case_insensitive.as_ref().map(|c| fields.leaf("case_insensitive", c)).transpose()?.unwrap_or(false);
    let value_regex = match &spec.value_regex {
        Some(text) => {
            let text = fields.text("value_regex", text)?;
            Some(regex::RegexBuilder::new(&text).case_insensitive(case_insensitive).build().map_err(|e| {
                // The regex crate's message repeats the whole pattern; its last line says why.
                let why = e.to_string().lines().last().unwrap_or_default().to_owned();
                fields.invalid("value_regex", format!("invalid regex {}: {why}", crate::shown::quoted(&text)))
            })?)
        }
        None => None,
    };
    let mut headers = BTreeMap::new();
    for (name, value) in &spec.headers {
        headers.insert(name.clone(), fields.text(&format!("headers.{name}"), value)?);
    }
    Ok(QueryMessages {
        topic: fields.name("topic", &spec.topic, true)?,
        partitions: fields.partitions(spec.partitions.as_deref())?,
        position,
        filter: Filter {
            contains: match &spec.contains {
                Some(text) => {
                    let text = fields.text("contains", text)?;
                    Some(Needle::new(&text, case_insensitive).map_err(|e| fields.invalid("contains", e))?)
                }
                None => None,
            },
            contains_in: spec.contains_in.unwrap_or_default(),
            // Never rendered as a template: a param's text could change what the
            // expression says. The expression reads params as `params.NAME`.
            expression: match &spec.where_ {
                Some(text) => Some(
                    Expression::compile(text)
                        .map_err(|e| fields.invalid("where", e))?
                        .with_params(&fields.context["params"]),
                ),
                None => None,
            },
            key: spec.key.as_ref().map(|k| fields.text("key", k)).transpose()?,
            value_regex,
            headers,
            case_insensitive,
        },
        limit: spec
            .limit
            .as_ref()
            .map(|l| fields.leaf("limit", l))
            .transpose()?
            .map_or(DEFAULT_LIMIT, |c| usize::try_from(c.0).unwrap_or(usize::MAX)),
        order: match spec.order {
            Some(OrderSpec::Desc) => Order::Desc,
            _ => Order::Asc,
        },
        download: match &spec.download {
            Some(named) if fields.files.may_write => Download::To {
                named: fields.text("download", named)?,
                overwrite: spec.overwrite,
                files: fields.files.clone(),
            },
            Some(_) => Download::Skipped,
            None => Download::None,
        },
        progress: fields.progress.cloned().map(|sink| (fields.step.to_owned(), sink)),
    })
}
