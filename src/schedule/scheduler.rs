//! Which runbook fires when: the daemon's schedule as a plain state machine.
//! It owns no clock and no tasks. The caller asks when to wake
//! ([`Scheduler::wake_at`]), passes the time it woke at to
//! [`Scheduler::tick`], starts the runs the returned events say to start, and
//! reports each run's end ([`Scheduler::finished`]). Tests drive it with
//! whatever times they like.
//!
//! Each runbook has a cursor: the last slot dealt with (fired, missed or
//! skipped). On a tick, every slot after the cursor whose fire time (slot plus
//! jitter) has come is due. The newest due slot fires if it is at most
//! [`ON_TIME`] late; older ones, and a newest one later than that (the daemon
//! was down, or the machine slept), are missed, and `missed:` decides which of
//! them still run: none (`skip`), the newest (`latest`), or the newest
//! `max_catchup` in slot order (`all`). Catch-up runs go one after another.
//! A slot due while a run of the runbook is going is skipped, or queued with
//! `overlap: queue` (at most `max_catchup` waiting). A paused runbook's due
//! slots are skipped.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Timing;
use super::jitter::jitter_delay;
use super::policies::{MissedPolicy, OverlapPolicy};

/// How late the newest due slot may fire and still count as on time.
pub const ON_TIME: Duration = Duration::from_secs(60);

/// More due slots than this in one tick (a per-second cron after a long
/// downtime) are dropped without being looked at one by one.
const MOST_DUE: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A run of the runbook was still going (`overlap: skip`, or the queue was full).
    Overlap,
    /// The runbook is paused.
    Paused,
}

impl SkipReason {
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Overlap => "overlap",
            SkipReason::Paused => "paused",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start a run for `slot`. `late` is how long after its fire time (slot
    /// plus jitter); `catchup` marks a missed slot run because of `missed:`.
    Fire {
        runbook: String,
        slot: DateTime<Utc>,
        late: Duration,
        catchup: bool,
    },
    /// A slot passed while the daemon could not fire it, and `missed:` does not run it.
    Missed {
        runbook: String,
        slot: DateTime<Utc>,
    },
    Skipped {
        runbook: String,
        slot: DateTime<Utc>,
        reason: SkipReason,
    },
}

#[derive(Debug)]
struct Entry {
    timing: Timing,
    /// The last slot dealt with.
    cursor: DateTime<Utc>,
    /// The next slot and when it fires (slot plus jitter).
    next: Option<(DateTime<Utc>, DateTime<Utc>)>,
    paused: bool,
    /// Runs of this runbook going now (scheduled or not).
    running: u32,
    /// Slots waiting for the running one to end, with their fire times and whether they catch up.
    queue: VecDeque<(DateTime<Utc>, DateTime<Utc>, bool)>,
}

impl Entry {
    fn new(name: &str, timing: Timing, cursor: DateTime<Utc>) -> Self {
        let mut entry = Entry { timing, cursor, next: None, paused: false, running: 0, queue: VecDeque::new() };
        entry.next = entry.after(name, cursor);
        entry
    }

    /// The first slot after `cursor` with its fire time.
    fn after(&self, name: &str, cursor: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let slot = self.timing.cron.next_after(cursor)?;
        let delay = if self.timing.jitter.is_zero() {
            Duration::ZERO
        } else {
            jitter_delay(name, slot, self.timing.cron.next_after(slot), self.timing.jitter)
        };
        Some((slot, slot + delay))
    }
}

#[derive(Debug, Default)]
pub struct Scheduler {
    entries: BTreeMap<String, Entry>,
}

impl Scheduler {
    pub fn new() -> Self {
        Scheduler::default()
    }

    /// Schedules `runbook`, or updates its timing. A new runbook starts from
    /// `resume_from` (the cursor a previous daemon saved), or from `now`; a
    /// runbook already here keeps its cursor, pause and runs.
    pub fn set(&mut self, runbook: &str, timing: Timing, resume_from: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        match self.entries.get_mut(runbook) {
            Some(entry) => {
                let same = entry.timing.same_slots(&timing);
                entry.timing = timing;
                if !same {
                    // New slots count from now: a changed cron does not make up for old ones.
                    entry.cursor = entry.cursor.max(now);
                }
                entry.next = entry.after(runbook, entry.cursor);
            }
            None => {
                let cursor = resume_from.map_or(now, |from| from.min(now));
                self.entries.insert(runbook.to_owned(), Entry::new(runbook, timing, cursor));
            }
        }
    }

    pub fn remove(&mut self, runbook: &str) {
        self.entries.remove(runbook);
    }

    pub fn contains(&self, runbook: &str) -> bool {
        self.entries.contains_key(runbook)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Pauses or resumes; false when the runbook has no schedule.
    pub fn set_paused(&mut self, runbook: &str, paused: bool) -> bool {
        let Some(entry) = self.entries.get_mut(runbook) else { return false };
        entry.paused = paused;
        true
    }

    pub fn is_paused(&self, runbook: &str) -> bool {
        self.entries.get(runbook).is_some_and(|e| e.paused)
    }

    /// When the next `n` slots of `runbook` fire (jitter included).
    pub fn next_fires(&self, runbook: &str, n: usize) -> Vec<DateTime<Utc>> {
        let Some(entry) = self.entries.get(runbook) else { return Vec::new() };
        let mut fires = Vec::with_capacity(n);
        let mut next = entry.next;
        while let Some((slot, fire_at)) = next {
            if fires.len() == n {
                break;
            }
            fires.push(fire_at);
            next = entry.after(runbook, slot);
        }
        fires
    }

    /// The cursor of each runbook, for the caller to keep across restarts.
    pub fn cursors(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> {
        self.entries.iter().map(|(name, e)| (name.as_str(), e.cursor))
    }

    /// The earliest time any runbook has a slot to fire.
    pub fn wake_at(&self) -> Option<DateTime<Utc>> {
        self.entries.values().filter_map(|e| e.next.map(|(_, fire_at)| fire_at)).min()
    }

    /// Deals with every slot due at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut events = Vec::new();
        for (name, entry) in &mut self.entries {
            let mut due = Vec::new();
            while let Some((slot, fire_at)) = entry.next.filter(|(_, fire_at)| *fire_at <= now) {
                due.push((slot, fire_at));
                entry.cursor = slot;
                entry.next = entry.after(name, slot);
                if due.len() == MOST_DUE {
                    tracing::warn!(runbook = %name, "more than {MOST_DUE} slots due at once; the rest are dropped");
                    entry.cursor = now;
                    entry.next = entry.after(name, now);
                    break;
                }
            }
            if !due.is_empty() {
                deal_with(name, entry, due, now, &mut events);
            }
        }
        events
    }

    /// A run of `runbook` started outside the schedule (API or CLI through the daemon).
    pub fn started(&mut self, runbook: &str) {
        if let Some(entry) = self.entries.get_mut(runbook) {
            entry.running += 1;
        }
    }

    /// A run of `runbook` ended; returns the queued slot that fires now, if any.
    pub fn finished(&mut self, runbook: &str, now: DateTime<Utc>) -> Vec<Event> {
        let Some(entry) = self.entries.get_mut(runbook) else { return Vec::new() };
        entry.running = entry.running.saturating_sub(1);
        if entry.running > 0 {
            return Vec::new();
        }
        if entry.paused {
            return entry
                .queue
                .drain(..)
                .map(|(slot, _, _)| Event::Skipped { runbook: runbook.to_owned(), slot, reason: SkipReason::Paused })
                .collect();
        }
        match entry.queue.pop_front() {
            Some((slot, fire_at, catchup)) => {
                entry.running += 1;
                vec![Event::Fire { runbook: runbook.to_owned(), slot, late: late(now, fire_at), catchup }]
            }
            None => Vec::new(),
        }
    }
}

fn late(now: DateTime<Utc>, fire_at: DateTime<Utc>) -> Duration {
    (now - fire_at).to_std().unwrap_or(Duration::ZERO)
}

/// Sorts the due slots of one runbook (oldest first) into fires, misses and skips.
fn deal_with(
    name: &str,
    entry: &mut Entry,
    mut due: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    now: DateTime<Utc>,
    events: &mut Vec<Event>,
) {
    let newest_on_time = due.last().is_some_and(|(_, fire_at)| late(now, *fire_at) <= ON_TIME);
    let on_time = if newest_on_time { due.pop() } else { None };
    let keep = match entry.timing.missed {
        MissedPolicy::Skip => 0,
        MissedPolicy::Latest if on_time.is_some() => 0,
        MissedPolicy::Latest => 1,
        MissedPolicy::All => entry.timing.max_catchup as usize,
    };
    let catchup = due.split_off(due.len().saturating_sub(keep));
    for (slot, _) in due {
        events.push(Event::Missed { runbook: name.to_owned(), slot });
    }
    let fires =
        catchup.into_iter().map(|(slot, at)| (slot, at, true)).chain(on_time.map(|(slot, at)| (slot, at, false)));
    for (slot, fire_at, catchup) in fires {
        if entry.paused {
            events.push(Event::Skipped { runbook: name.to_owned(), slot, reason: SkipReason::Paused });
        } else if entry.running == 0 {
            entry.running += 1;
            events.push(Event::Fire { runbook: name.to_owned(), slot, late: late(now, fire_at), catchup });
        } else if (catchup || entry.timing.overlap == OverlapPolicy::Queue)
            && entry.queue.len() < entry.timing.max_catchup as usize
        {
            entry.queue.push_back((slot, fire_at, catchup));
        } else {
            events.push(Event::Skipped { runbook: name.to_owned(), slot, reason: SkipReason::Overlap });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::spec::ScheduleSpec;
    use crate::time::HumanDuration;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn timing(cron: &str, edit: impl FnOnce(&mut ScheduleSpec)) -> Timing {
        let mut spec = ScheduleSpec {
            cron: cron.to_owned(),
            timezone: None,
            mode: None,
            missed: None,
            max_catchup: None,
            overlap: None,
            jitter: None,
        };
        edit(&mut spec);
        spec.timing().unwrap()
    }

    fn fired(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Fire { slot, .. } => Some(slot.format("%H:%M").to_string()),
                _ => None,
            })
            .collect()
    }

    fn count(events: &[Event], missed: bool) -> usize {
        events
            .iter()
            .filter(|e| if missed { matches!(e, Event::Missed { .. }) } else { matches!(e, Event::Skipped { .. }) })
            .count()
    }

    #[test]
    fn fires_each_slot_once_when_its_time_comes() {
        let mut s = Scheduler::new();
        s.set("a", timing("*/15 * * * *", |_| {}), None, at("2026-11-21T03:07:00Z"));
        assert_eq!(s.wake_at(), Some(at("2026-11-21T03:15:00Z")));
        assert!(s.tick(at("2026-11-21T03:14:59Z")).is_empty());
        let events = s.tick(at("2026-11-21T03:15:00.200Z"));
        assert_eq!(
            events,
            [Event::Fire {
                runbook: "a".into(),
                slot: at("2026-11-21T03:15:00Z"),
                late: Duration::from_millis(200),
                catchup: false
            }]
        );
        assert!(s.tick(at("2026-11-21T03:15:01Z")).is_empty(), "a slot fires once");
        assert!(s.finished("a", at("2026-11-21T03:16:00Z")).is_empty());
        assert_eq!(s.wake_at(), Some(at("2026-11-21T03:30:00Z")));
    }

    /// A daemon down from 03:07 to 04:20 (four slots of `*/15` passed).
    fn after_downtime(edit: impl FnOnce(&mut ScheduleSpec)) -> Vec<Event> {
        let mut s = Scheduler::new();
        s.set("a", timing("*/15 * * * *", edit), Some(at("2026-11-21T03:07:00Z")), at("2026-11-21T04:20:00Z"));
        let mut events = s.tick(at("2026-11-21T04:20:00Z"));
        // Catch-up runs go one after another.
        for minute in 21..40 {
            let now = at(&format!("2026-11-21T04:{minute}:00Z"));
            events.extend(s.finished("a", now));
        }
        events
    }

    #[test]
    fn missed_slots_follow_the_policy() {
        let skip = after_downtime(|s| s.missed = Some(MissedPolicy::Skip));
        assert_eq!((fired(&skip), count(&skip, true)), (vec![], 5));
        let latest = after_downtime(|_| {});
        assert_eq!((fired(&latest), count(&latest, true)), (vec!["04:15".to_owned()], 4));
        let all = after_downtime(|s| s.missed = Some(MissedPolicy::All));
        assert_eq!(fired(&all), ["03:15", "03:30", "03:45", "04:00", "04:15"]);
        assert_eq!(count(&all, true), 0);
        let capped = after_downtime(|s| {
            s.missed = Some(MissedPolicy::All);
            s.max_catchup = Some(2);
        });
        assert_eq!((fired(&capped), count(&capped, true)), (vec!["04:00".to_owned(), "04:15".to_owned()], 3));
        assert!(capped.iter().all(|e| !matches!(e, Event::Fire { catchup: false, .. })), "all of them catch up");
    }

    #[test]
    fn an_on_time_slot_after_downtime_fires_and_older_ones_are_missed() {
        let mut s = Scheduler::new();
        s.set("a", timing("*/15 * * * *", |_| {}), Some(at("2026-11-21T03:07:00Z")), at("2026-11-21T04:15:30Z"));
        let events = s.tick(at("2026-11-21T04:15:30Z"));
        assert_eq!(fired(&events), ["04:15"]);
        assert_eq!(count(&events, true), 4);
        assert!(matches!(events.last(), Some(Event::Fire { catchup: false, .. })));
    }

    #[test]
    fn overlap_skips_or_queues() {
        let mut skip = Scheduler::new();
        skip.set("a", timing("* * * * *", |_| {}), None, at("2026-11-21T03:00:30Z"));
        assert_eq!(fired(&skip.tick(at("2026-11-21T03:01:00Z"))), ["03:01"]);
        let events = skip.tick(at("2026-11-21T03:02:00Z"));
        assert_eq!(
            events,
            [Event::Skipped { runbook: "a".into(), slot: at("2026-11-21T03:02:00Z"), reason: SkipReason::Overlap }]
        );
        assert!(skip.finished("a", at("2026-11-21T03:02:30Z")).is_empty(), "a skipped slot is gone");

        let mut queue = Scheduler::new();
        queue.set(
            "a",
            timing("* * * * *", |s| s.overlap = Some(OverlapPolicy::Queue)),
            None,
            at("2026-11-21T03:00:30Z"),
        );
        assert_eq!(fired(&queue.tick(at("2026-11-21T03:01:00Z"))), ["03:01"]);
        assert!(queue.tick(at("2026-11-21T03:02:00Z")).is_empty(), "queued, not fired");
        let events = queue.finished("a", at("2026-11-21T03:02:30Z"));
        assert_eq!(
            events,
            [Event::Fire {
                runbook: "a".into(),
                slot: at("2026-11-21T03:02:00Z"),
                late: Duration::from_secs(30),
                catchup: false
            }]
        );
    }

    #[test]
    fn a_run_started_elsewhere_counts_as_overlap() {
        let mut s = Scheduler::new();
        s.set("a", timing("* * * * *", |_| {}), None, at("2026-11-21T03:00:30Z"));
        s.started("a");
        assert_eq!(count(&s.tick(at("2026-11-21T03:01:00Z")), false), 1);
        s.finished("a", at("2026-11-21T03:01:10Z"));
        assert_eq!(fired(&s.tick(at("2026-11-21T03:02:00Z"))), ["03:02"]);
    }

    #[test]
    fn paused_slots_are_skipped_and_resume_picks_up_the_next() {
        let mut s = Scheduler::new();
        s.set("a", timing("* * * * *", |_| {}), None, at("2026-11-21T03:00:30Z"));
        assert!(s.set_paused("a", true));
        assert!(!s.set_paused("nope", true));
        let events = s.tick(at("2026-11-21T03:01:00Z"));
        assert_eq!(
            events,
            [Event::Skipped { runbook: "a".into(), slot: at("2026-11-21T03:01:00Z"), reason: SkipReason::Paused }]
        );
        s.set_paused("a", false);
        assert_eq!(fired(&s.tick(at("2026-11-21T03:02:00Z"))), ["03:02"]);
    }

    #[test]
    fn jitter_delays_the_fire_the_same_way_every_time() {
        let jittered = || timing("*/15 * * * *", |s| s.jitter = Some(HumanDuration::parse("5m").unwrap()));
        let mut first = Scheduler::new();
        first.set("nightly", jittered(), None, at("2026-11-21T03:07:00Z"));
        let fire_at = first.wake_at().unwrap();
        assert!(fire_at >= at("2026-11-21T03:15:00Z") && fire_at < at("2026-11-21T03:20:00Z"), "{fire_at}");
        assert!(first.tick(fire_at - chrono::Duration::milliseconds(1)).is_empty());
        assert_eq!(fired(&first.tick(fire_at)), ["03:15"]);

        // A restarted daemon resuming before the slot waits exactly as long.
        let mut restarted = Scheduler::new();
        restarted.set("nightly", jittered(), Some(at("2026-11-21T03:10:00Z")), at("2026-11-21T03:12:00Z"));
        assert_eq!(restarted.wake_at(), Some(fire_at));
        // Another runbook on the same cron gets its own delay.
        let mut other = Scheduler::new();
        other.set("hourly-report", jittered(), None, at("2026-11-21T03:07:00Z"));
        assert_ne!(other.wake_at(), Some(fire_at));
    }

    #[test]
    fn a_reload_keeps_the_cursor_unless_the_slots_change() {
        let mut s = Scheduler::new();
        s.set("a", timing("*/15 * * * *", |_| {}), None, at("2026-11-21T03:07:00Z"));
        s.set(
            "a",
            timing("*/15 * * * *", |s| s.overlap = Some(OverlapPolicy::Queue)),
            None,
            at("2026-11-21T03:10:00Z"),
        );
        assert_eq!(s.wake_at(), Some(at("2026-11-21T03:15:00Z")));
        s.set("a", timing("0 * * * *", |_| {}), None, at("2026-11-21T03:20:00Z"));
        assert_eq!(s.wake_at(), Some(at("2026-11-21T04:00:00Z")));
        assert_eq!(s.next_fires("a", 2), [at("2026-11-21T04:00:00Z"), at("2026-11-21T05:00:00Z")]);
        s.remove("a");
        assert_eq!(s.wake_at(), None);
    }

    #[test]
    fn a_dst_gap_fires_once_through_the_scheduler() {
        let mut s = Scheduler::new();
        s.set(
            "a",
            timing("*/15 * * * *", |s| s.timezone = Some("Europe/Berlin".into())),
            None,
            at("2026-03-29T00:50:00Z"),
        );
        let mut fires = Vec::new();
        let mut now = at("2026-03-29T00:50:00Z");
        while now < at("2026-03-29T01:40:00Z") {
            now = s.wake_at().unwrap();
            fires.extend(fired(&s.tick(now)));
            s.finished("a", now);
        }
        // UTC: 01:00 is the change (03:00 CEST, standing in for 02:00–02:45 as well).
        assert_eq!(fires, ["01:00", "01:15", "01:30", "01:45"]);
    }
}
