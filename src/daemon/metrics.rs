//! The daemon's counters and histograms, written as Prometheus text at
//! `/metrics`. Labels are runbook names, step ids, statuses and notification
//! target names; never a param, a message or anything from ebb.yaml's secrets.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the histogram buckets; steps take milliseconds
/// to minutes, and a fire is a few milliseconds late when all is well.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.total += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (count, bound) in self.counts.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.total);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.total);
    }
}

#[derive(Default)]
struct Inner {
    runs: BTreeMap<(String, String, String), u64>,
    steps: BTreeMap<(String, String, String), Histogram>,
    fires: BTreeMap<String, u64>,
    missed: BTreeMap<String, u64>,
    skipped: BTreeMap<(String, String), u64>,
    lateness: Histogram,
    notifications: BTreeMap<(String, String), u64>,
    /// Per runbook: when it last succeeded (Unix seconds), and how its last run ended.
    last_success: BTreeMap<String, f64>,
    last_status: BTreeMap<String, String>,
    offsets_moved: BTreeMap<String, u64>,
    records_deleted: BTreeMap<String, u64>,
    durations: BTreeMap<String, Histogram>,
    /// The audit stream: events delivered and dropped, and the outbox's backlog.
    audit_delivered: u64,
    audit_dropped: u64,
}

/// What one finished run did, for the per-runbook series.
pub struct RunEnd<'a> {
    pub runbook: &'a str,
    pub trigger: &'a str,
    pub status: &'a str,
    /// When it ended, in Unix seconds.
    pub finished: f64,
    pub took: Duration,
    /// Partitions whose committed offset it moved, and records it deleted.
    pub offsets_moved: u64,
    pub records_deleted: u64,
    /// Whether it is the runbook doing its job: an apply, or a scheduled
    /// run (a scheduled plan is a report's job). A plan asked for by hand is
    /// counted in `ebb_runs_total` only, so it cannot hide a failing job.
    pub does_the_job: bool,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Gauges read at the moment `/metrics` is asked for.
pub struct Gauges {
    pub runbooks: usize,
    pub invalid_runbooks: usize,
    pub scheduled: usize,
    pub paused: usize,
    pub runs_in_progress: usize,
    /// Each scheduled runbook's next fire, in Unix seconds (none while paused).
    pub next_fires: Vec<(String, f64)>,
    /// Audit events in the outbox, waiting for some sink.
    pub audit_backlog: usize,
    /// In a coordinated deployment (docs/HA.md).
    pub coordination: Option<CoordinationGauges>,
}

/// A replica's part in its deployment.
pub struct CoordinationGauges {
    pub owned_partitions: usize,
    pub claims: u64,
    pub losses: u64,
    pub fenced: u64,
    pub refused: u64,
    /// Records of the coordination topics not yet read.
    pub lag: i64,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn run_ended(&self, end: &RunEnd<'_>) {
        self.with(|m| {
            *m.runs.entry((end.runbook.into(), end.trigger.into(), end.status.into())).or_default() += 1;
            if !end.does_the_job {
                return;
            }
            if end.status == "succeeded" {
                m.last_success.insert(end.runbook.into(), end.finished);
            }
            m.last_status.insert(end.runbook.into(), end.status.into());
            *m.offsets_moved.entry(end.runbook.into()).or_default() += end.offsets_moved;
            *m.records_deleted.entry(end.runbook.into()).or_default() += end.records_deleted;
            m.durations.entry(end.runbook.into()).or_default().observe(end.took.as_secs_f64());
        });
    }

    /// A run that ended before this daemon started: how it ended, and when
    /// the runbook last succeeded (from history), so the gauges hold across restarts.
    pub fn remember(&self, runbook: &str, last_status: Option<&str>, last_success: Option<f64>) {
        self.with(|m| {
            if let Some(status) = last_status {
                m.last_status.entry(runbook.into()).or_insert_with(|| status.into());
            }
            if let Some(at) = last_success {
                m.last_success.entry(runbook.into()).or_insert(at);
            }
        });
    }

    pub fn step_took(&self, runbook: &str, step: &str, kind: &str, took: Duration) {
        self.with(|m| {
            m.steps.entry((runbook.into(), step.into(), kind.into())).or_default().observe(took.as_secs_f64());
        });
    }

    pub fn fired(&self, runbook: &str, late: Duration) {
        self.with(|m| {
            *m.fires.entry(runbook.into()).or_default() += 1;
            m.lateness.observe(late.as_secs_f64());
        });
    }

    pub fn missed(&self, runbook: &str) {
        self.with(|m| *m.missed.entry(runbook.into()).or_default() += 1);
    }

    pub fn skipped(&self, runbook: &str, reason: &str) {
        self.with(|m| *m.skipped.entry((runbook.into(), reason.into())).or_default() += 1);
    }

    pub fn audit(&self, delivered: u64, dropped: u64) {
        self.with(|m| {
            m.audit_delivered += delivered;
            m.audit_dropped += dropped;
        });
    }

    pub fn notified(&self, target: &str, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.with(|m| *m.notifications.entry((target.into(), outcome.into())).or_default() += 1);
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let help = |out: &mut String, name: &str, kind: &str, text: &str| {
            let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} {kind}");
        };
        help(&mut out, "ebb_runbooks", "gauge", "Runbooks loaded (with a good version).");
        let _ = writeln!(out, "ebb_runbooks {}", gauges.runbooks);
        help(&mut out, "ebb_runbooks_invalid", "gauge", "Runbook files whose current version does not validate.");
        let _ = writeln!(out, "ebb_runbooks_invalid {}", gauges.invalid_runbooks);
        help(&mut out, "ebb_runbooks_scheduled", "gauge", "Runbooks with a schedule.");
        let _ = writeln!(out, "ebb_runbooks_scheduled {}", gauges.scheduled);
        help(&mut out, "ebb_runbooks_paused", "gauge", "Scheduled runbooks paused through the API.");
        let _ = writeln!(out, "ebb_runbooks_paused {}", gauges.paused);
        help(&mut out, "ebb_runs_in_progress", "gauge", "Runs going now.");
        let _ = writeln!(out, "ebb_runs_in_progress {}", gauges.runs_in_progress);

        help(
            &mut out,
            "ebb_runbook_last_success_timestamp_seconds",
            "gauge",
            "When each runbook last succeeded (Unix time), from history at start and each run since.",
        );
        for (runbook, at) in &m.last_success {
            let _ =
                writeln!(out, "ebb_runbook_last_success_timestamp_seconds{{{}}} {at}", labels(&[("runbook", runbook)]));
        }
        help(&mut out, "ebb_runbook_last_run_status", "gauge", "1 for how each runbook's last run ended.");
        for (runbook, status) in &m.last_status {
            sample(&mut out, "ebb_runbook_last_run_status", &[("runbook", runbook), ("status", status)], 1);
        }
        help(
            &mut out,
            "ebb_runbook_next_fire_timestamp_seconds",
            "gauge",
            "Each scheduled runbook's next fire (Unix time).",
        );
        for (runbook, at) in &gauges.next_fires {
            let _ =
                writeln!(out, "ebb_runbook_next_fire_timestamp_seconds{{{}}} {at}", labels(&[("runbook", runbook)]));
        }
        help(
            &mut out,
            "ebb_offsets_moved_total",
            "counter",
            "Partitions whose committed offset a run moved, by runbook.",
        );
        for (runbook, n) in &m.offsets_moved {
            sample(&mut out, "ebb_offsets_moved_total", &[("runbook", runbook)], *n);
        }
        help(&mut out, "ebb_records_deleted_total", "counter", "Records purges deleted, by runbook.");
        for (runbook, n) in &m.records_deleted {
            sample(&mut out, "ebb_records_deleted_total", &[("runbook", runbook)], *n);
        }
        help(&mut out, "ebb_run_duration_seconds", "histogram", "How long runs took, by runbook.");
        for (runbook, h) in &m.durations {
            h.write(&mut out, "ebb_run_duration_seconds", &labels(&[("runbook", runbook)]));
        }

        help(&mut out, "ebb_runs_total", "counter", "Runs ended, by runbook, trigger and status.");
        for ((runbook, trigger, status), n) in &m.runs {
            sample(&mut out, "ebb_runs_total", &[("runbook", runbook), ("trigger", trigger), ("status", status)], *n);
        }
        help(
            &mut out,
            "ebb_step_duration_seconds",
            "histogram",
            "How long steps took (plan and apply), by runbook and step.",
        );
        for ((runbook, step, kind), h) in &m.steps {
            let labels = labels(&[("runbook", runbook), ("step", step), ("kind", kind)]);
            h.write(&mut out, "ebb_step_duration_seconds", &labels);
        }
        help(&mut out, "ebb_schedule_fires_total", "counter", "Scheduled slots fired, by runbook.");
        for (runbook, n) in &m.fires {
            sample(&mut out, "ebb_schedule_fires_total", &[("runbook", runbook)], *n);
        }
        help(
            &mut out,
            "ebb_schedule_missed_total",
            "counter",
            "Scheduled slots missed (daemon down or late) and not run, by runbook.",
        );
        for (runbook, n) in &m.missed {
            sample(&mut out, "ebb_schedule_missed_total", &[("runbook", runbook)], *n);
        }
        help(
            &mut out,
            "ebb_schedule_skipped_total",
            "counter",
            "Scheduled slots skipped, by runbook and reason (overlap, paused).",
        );
        for ((runbook, reason), n) in &m.skipped {
            sample(&mut out, "ebb_schedule_skipped_total", &[("runbook", runbook), ("reason", reason)], *n);
        }
        help(
            &mut out,
            "ebb_schedule_lateness_seconds",
            "histogram",
            "How long after its fire time (slot plus jitter) a slot fired.",
        );
        m.lateness.write(&mut out, "ebb_schedule_lateness_seconds", "");
        help(
            &mut out,
            "ebb_notifications_total",
            "counter",
            "Notifications, by target and outcome (delivered, failed).",
        );
        for ((target, outcome), n) in &m.notifications {
            sample(&mut out, "ebb_notifications_total", &[("target", target), ("outcome", outcome)], *n);
        }
        help(&mut out, "ebb_audit_events_delivered_total", "counter", "Audit events delivered, summed over sinks.");
        let _ = writeln!(out, "ebb_audit_events_delivered_total {}", m.audit_delivered);
        help(
            &mut out,
            "ebb_audit_events_dropped_total",
            "counter",
            "Audit events dropped undelivered (outbox over max_events).",
        );
        let _ = writeln!(out, "ebb_audit_events_dropped_total {}", m.audit_dropped);
        help(&mut out, "ebb_audit_backlog", "gauge", "Audit events waiting for some sink.");
        let _ = writeln!(out, "ebb_audit_backlog {}", gauges.audit_backlog);
        if let Some(c) = &gauges.coordination {
            let series: [(&str, &str, &str, String); 6] = [
                (
                    "ebb_coordination_owned_partitions",
                    "gauge",
                    "Partitions of the deployment this replica owns.",
                    c.owned_partitions.to_string(),
                ),
                (
                    "ebb_coordination_claims_total",
                    "counter",
                    "Partitions this replica claimed (each fences the owner before).",
                    c.claims.to_string(),
                ),
                (
                    "ebb_coordination_losses_total",
                    "counter",
                    "Partitions this replica stopped owning.",
                    c.losses.to_string(),
                ),
                (
                    "ebb_coordination_fenced_total",
                    "counter",
                    "Writes refused because a newer owner had fenced this replica.",
                    c.fenced.to_string(),
                ),
                (
                    "ebb_coordination_refused_total",
                    "counter",
                    "Writes refused because this replica no longer owned the cluster.",
                    c.refused.to_string(),
                ),
                (
                    "ebb_coordination_lag",
                    "gauge",
                    "Records of the coordination topics this replica has yet to read.",
                    c.lag.to_string(),
                ),
            ];
            for (name, kind, what, value) in series {
                help(&mut out, name, kind, what);
                let _ = writeln!(out, "{name} {value}");
            }
        }
        out
    }
}

/// One sample line: `name{label="value",…} n`.
fn sample(out: &mut String, name: &str, pairs: &[(&str, &str)], n: u64) {
    let _ = writeln!(out, "{name}{{{}}} {n}", labels(pairs));
}

/// `label="value",…` with the values escaped.
fn labels(pairs: &[(&str, &str)]) -> String {
    let labels: Vec<String> = pairs.iter().map(|(label, value)| format!("{label}=\"{}\"", escape(value))).collect();
    labels.join(",")
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_has_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        let end = RunEnd {
            runbook: "nightly",
            trigger: "schedule",
            status: "succeeded",
            finished: 1_700_000_000.0,
            took: Duration::from_secs(2),
            offsets_moved: 3,
            records_deleted: 40,
            does_the_job: true,
        };
        m.run_ended(&end);
        m.run_ended(&end);
        m.remember("weekly", Some("failed"), Some(1_600_000_000.0));
        m.run_ended(&RunEnd {
            runbook: "weekly",
            status: "succeeded",
            finished: 1_800_000_000.0,
            does_the_job: false,
            ..end
        });
        m.step_took("nightly", "reset", "reset_offsets", Duration::from_millis(30));
        m.fired("nightly", Duration::from_millis(3));
        m.skipped("nightly", "overlap");
        m.missed("odd\"name");
        let gauges = Gauges {
            runbooks: 2,
            invalid_runbooks: 1,
            scheduled: 1,
            paused: 0,
            runs_in_progress: 0,
            next_fires: vec![("nightly".into(), 1_700_003_600.0)],
            audit_backlog: 0,
            coordination: None,
        };
        let text = m.render(&gauges);
        assert!(text.contains("ebb_runbook_last_success_timestamp_seconds{runbook=\"nightly\"} 1700000000"), "{text}");
        assert!(text.contains("ebb_runbook_last_success_timestamp_seconds{runbook=\"weekly\"} 1600000000"));
        assert!(text.contains("ebb_runbook_last_run_status{runbook=\"weekly\",status=\"failed\"} 1"));
        assert!(text.contains("ebb_runbook_next_fire_timestamp_seconds{runbook=\"nightly\"} 1700003600"));
        assert!(text.contains("ebb_offsets_moved_total{runbook=\"nightly\"} 6"));
        assert!(text.contains("ebb_records_deleted_total{runbook=\"nightly\"} 80"));
        assert!(text.contains("ebb_run_duration_seconds_count{runbook=\"nightly\"} 2"));
        assert!(text.contains("ebb_runs_total{runbook=\"nightly\",trigger=\"schedule\",status=\"succeeded\"} 2"));
        assert!(text.contains(
            "ebb_step_duration_seconds_bucket{runbook=\"nightly\",step=\"reset\",kind=\"reset_offsets\",le=\"0.01\"} 0"
        ));
        assert!(text.contains(
            "ebb_step_duration_seconds_bucket{runbook=\"nightly\",step=\"reset\",kind=\"reset_offsets\",le=\"0.05\"} 1"
        ));
        assert!(text.contains("ebb_schedule_lateness_seconds_bucket{le=\"+Inf\"} 1"));
        assert!(text.contains("ebb_schedule_skipped_total{runbook=\"nightly\",reason=\"overlap\"} 1"));
        assert!(text.contains("ebb_schedule_missed_total{runbook=\"odd\\\"name\"} 1"));
        assert!(text.contains("ebb_runbooks_invalid 1"));
    }
}
