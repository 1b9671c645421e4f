//! A runbook's `schedule:` made ready for the scheduler: the cron in its zone,
//! and the policies with their defaults filled in.

use std::time::Duration;

use super::{Crontab, ZonedCron, parse_timezone};
use crate::runbook::spec::{MissedPolicy, OverlapPolicy, ScheduleMode, ScheduleSpec};

/// `max_catchup` when the runbook does not say.
pub const DEFAULT_MAX_CATCHUP: u32 = 10;

#[derive(Debug, Clone)]
pub struct Timing {
    pub cron: ZonedCron,
    pub mode: ScheduleMode,
    pub missed: MissedPolicy,
    pub max_catchup: u32,
    pub overlap: OverlapPolicy,
    pub jitter: Duration,
}

impl Timing {
    pub fn from_spec(spec: &ScheduleSpec) -> Result<Self, String> {
        let crontab = Crontab::parse(&spec.cron).map_err(|e| e.to_string())?;
        let zone = parse_timezone(spec.timezone.as_deref().unwrap_or("UTC")).map_err(|e| e.to_string())?;
        Ok(Timing {
            cron: ZonedCron::new(crontab, zone),
            mode: spec.mode.unwrap_or(ScheduleMode::Apply),
            missed: spec.missed.unwrap_or(MissedPolicy::Latest),
            max_catchup: spec.max_catchup.unwrap_or(DEFAULT_MAX_CATCHUP).max(1),
            overlap: spec.overlap.unwrap_or(OverlapPolicy::Skip),
            jitter: spec.jitter.as_ref().map_or(Duration::ZERO, |j| j.duration),
        })
    }

    /// Whether `other` fires at the same slots (so a reload keeps the cursor).
    pub fn same_slots(&self, other: &Timing) -> bool {
        self.cron.expression() == other.cron.expression() && self.cron.zone() == other.cron.zone()
    }
}
