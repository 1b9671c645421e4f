//! Timing a command as an operator runs it — process start to exit — with its
//! CPU time (user + system, every process it started, from bash's `times`)
//! and peak memory (the resident high-water marks of its processes, added up),
//! and the median of several rounds.

use std::process::Command;
use std::time::Duration;

use crate::support::measured;

/// One run, or the median of several.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_kib: u64,
}

/// Runs `script` in bash with `env` set; panics unless it succeeds. Returns the
/// figures and its standard output.
pub fn run(script: &str, env: &[(&str, &str)]) -> (Sample, Vec<u8>) {
    let times = std::env::temp_dir().join(format!("ebb-bench-times-{}", std::process::id()));
    let wrapped = format!("{{ {script} ; }}; status=$?; times > '{}'; exit $status", times.display());
    let mut command = Command::new("bash");
    command.args(["-c", &wrapped]).envs(env.iter().copied());
    let (wall, peak_kib, stdout) = measured(command);
    let reported = std::fs::read_to_string(&times).expect("times output");
    let _ = std::fs::remove_file(&times);
    (Sample { wall, cpu: children_cpu(&reported), peak_kib }, stdout)
}

/// The children's user + system time from bash's `times` (its second line, `0m1.250s 0m0.031s`).
fn children_cpu(times: &str) -> Duration {
    let line = times.lines().nth(1).unwrap_or_default();
    line.split_whitespace().map(bash_duration).sum()
}

fn bash_duration(text: &str) -> Duration {
    let text = text.trim_end_matches('s');
    let (minutes, seconds) = text.split_once('m').unwrap_or(("0", text));
    let minutes: f64 = minutes.parse().unwrap_or(0.0);
    let seconds: f64 = seconds.parse().unwrap_or(0.0);
    Duration::from_secs_f64(minutes * 60.0 + seconds)
}

/// Each figure's median over `rounds` runs of `run`, with `prepare` (untimed)
/// before each. One more round goes first and is not counted: the tool that
/// runs first would otherwise pay for the broker's cold caches and JIT.
pub fn median(rounds: usize, prepare: &mut dyn FnMut(), run: &mut dyn FnMut() -> Sample) -> Sample {
    prepare();
    run();
    let samples: Vec<Sample> = (0..rounds)
        .map(|_| {
            prepare();
            run()
        })
        .collect();
    median_of(&samples)
}

/// Two commands measured in the same rounds, taking turns to go first, so
/// that neither gains from the broker's state the other leaves (a before and
/// after of the same tool differ by less than that state can move).
pub fn median_alternating(
    rounds: usize,
    prepare: &mut dyn FnMut(),
    first: &mut dyn FnMut() -> Sample,
    second: &mut dyn FnMut() -> Sample,
) -> (Sample, Sample) {
    let (mut firsts, mut seconds) = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        let mut timed = |run: &mut dyn FnMut() -> Sample| {
            prepare();
            run()
        };
        let (a, b) = if round % 2 == 0 {
            let a = timed(first);
            (a, timed(second))
        } else {
            let b = timed(second);
            (timed(first), b)
        };
        // The first round warms the broker and is not counted.
        if round > 0 {
            firsts.push(a);
            seconds.push(b);
        }
    }
    (median_of(&firsts), median_of(&seconds))
}

fn median_of(samples: &[Sample]) -> Sample {
    let mid = |mut v: Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    Sample {
        wall: Duration::from_micros(mid(samples.iter().map(|s| s.wall.as_micros() as u64).collect())),
        cpu: Duration::from_micros(mid(samples.iter().map(|s| s.cpu.as_micros() as u64).collect())),
        peak_kib: mid(samples.iter().map(|s| s.peak_kib).collect()),
    }
}

/// Quotes a word for bash.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
