//! A `purge_messages` step resolved for one run: `before` as one point, times
//! pinned to the run's start, the protecting groups named.

use std::collections::BTreeMap;

use crate::runbook::spec::values::Leaf;
use crate::runbook::spec::{Before, Partition, ProtectGroups, ProtectKeyword, PurgeMessagesSpec};
use crate::step::{Fields, StepError};

use super::protection::Protection;
use super::purge_plan::{PurgeMessages, PurgePoint};

/// A `purge_messages` step, resolved: `before` as one point, times pinned to the run's start.
pub fn resolve(fields: &Fields<'_>, spec: &PurgeMessagesSpec) -> Result<PurgeMessages, StepError> {
    let before = match &spec.before {
        Before::Offset(n) => PurgePoint::Offset(fields.leaf("before.offset", n)?),
        Before::Offsets(given) => {
            let mut offsets = BTreeMap::new();
            for (partition, offset) in &given.0 {
                let partition = Partition::from_text(partition).map_err(|e| fields.invalid("before.offsets", e))?.0;
                offsets.insert(partition, fields.leaf(&format!("before.offsets.{partition}"), offset)?);
            }
            PurgePoint::Offsets(offsets)
        }
        Before::Datetime(t) => {
            PurgePoint::Time(fields.leaf("before.datetime", t)?.resolve(fields.now).timestamp_millis())
        }
        Before::OlderThan(d) => {
            let d = fields.leaf("before.older_than", d)?;
            let back = chrono::Duration::from_std(d.duration).unwrap_or(chrono::Duration::MAX);
            PurgePoint::Time((fields.now - back).timestamp_millis())
        }
        Before::CommittedBy(groups) => PurgePoint::CommittedBy(fields.groups("before.committed_by", groups)?),
        Before::HighWatermark(_) => PurgePoint::HighWatermark,
    };
    let protection = match &spec.protect_groups {
        None | Some(ProtectGroups::Keyword(ProtectKeyword::All)) => Protection::All,
        Some(ProtectGroups::Keyword(ProtectKeyword::None)) => Protection::None,
        Some(ProtectGroups::Groups(groups)) => Protection::Groups(fields.groups("protect_groups", groups)?),
    };
    Ok(PurgeMessages {
        topic: fields.name("topic", &spec.topic, true)?,
        partitions: fields.partitions(spec.partitions.as_deref())?,
        before,
        protection,
        allow_unconsumed: fields.optional("allow_unconsumed", spec.allow_unconsumed.as_ref())?.unwrap_or(false),
        max_delete: fields.optional("max_delete", spec.max_delete.as_ref())?.map(|c| c.0),
        max_delete_percent: match fields.optional("max_delete_percent", spec.max_delete_percent.as_ref())? {
            Some(c) if c.0 > 100 => {
                return Err(fields.invalid("max_delete_percent", format!("{} is not a percentage (0 to 100)", c.0)));
            }
            other => other.map(|c| c.0),
        },
        strict_time: fields.optional("strict_time", spec.strict_time.as_ref())?.unwrap_or(false),
    })
}
