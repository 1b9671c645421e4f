//! A `schedule:` read for the scheduler: its cron parsed in its zone, its
//! policies defaulted.

use crate::schedule::{
    Crontab, DEFAULT_MAX_CATCHUP, MissedPolicy, OverlapPolicy, ScheduleMode, Timing, ZonedCron, parse_timezone,
};

use super::ScheduleSpec;

impl ScheduleSpec {
    /// The schedule as the scheduler reads it; an error names what does not parse.
    pub fn timing(&self) -> Result<Timing, String> {
        let crontab = Crontab::parse(&self.cron).map_err(|e| e.to_string())?;
        let zone = parse_timezone(self.timezone.as_deref().unwrap_or("UTC")).map_err(|e| e.to_string())?;
        Ok(Timing {
            cron: ZonedCron::new(crontab, zone),
            mode: self.mode.unwrap_or(ScheduleMode::Apply),
            missed: self.missed.unwrap_or(MissedPolicy::Latest),
            max_catchup: self.max_catchup.unwrap_or(DEFAULT_MAX_CATCHUP).max(1),
            overlap: self.overlap.unwrap_or(OverlapPolicy::Skip),
            jitter: self.jitter.as_ref().map_or(std::time::Duration::ZERO, |j| j.duration),
        })
    }
}
