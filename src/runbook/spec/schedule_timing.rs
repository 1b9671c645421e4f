//! A `schedule:` read for the scheduler: its cron parsed in its zone, its
//! policies defaulted.

use crate::schedule::{
    CronError, Crontab, DEFAULT_MAX_CATCHUP, MissedPolicy, OverlapPolicy, ScheduleMode, TimezoneError, Timing,
    ZonedCron, parse_timezone,
};

use super::ScheduleSpec;

/// What in a `schedule:` does not parse.
#[derive(Debug, thiserror::Error)]
pub enum TimingError {
    /// `cron` is not a cron expression ebb reads.
    #[error(transparent)]
    Cron(#[from] CronError),
    /// `timezone` is not an IANA zone name.
    #[error(transparent)]
    Timezone(#[from] TimezoneError),
}

impl ScheduleSpec {
    /// The schedule as the scheduler reads it; an error names what does not parse.
    pub fn timing(&self) -> Result<Timing, TimingError> {
        let crontab = Crontab::parse(&self.cron)?;
        let zone = parse_timezone(self.timezone.as_deref().unwrap_or("UTC"))?;
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
