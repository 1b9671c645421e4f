//! A runbook's `schedule:` made ready for the scheduler: the cron in its zone,
//! and the policies with their defaults filled in (`ScheduleSpec::timing`).

use std::time::Duration;

use super::ZonedCron;
use super::policies::{MissedPolicy, OverlapPolicy, ScheduleMode};

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
    /// Whether `other` fires at the same slots (so a reload keeps the cursor).
    pub fn same_slots(&self, other: &Timing) -> bool {
        self.cron.expression() == other.cron.expression() && self.cron.zone() == other.cron.zone()
    }
}
