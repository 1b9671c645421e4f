//! What the benchmarks share: running `ebb` and the peer tools as an operator
//! would (process start to exit), medians, and the peak memory of a process.

#![allow(dead_code)] // each benchmark uses its own part of this

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ebb_testkit::{TestCluster, unique};

/// A temporary directory with an `ebb.yaml` for `cluster`; removed when dropped.
pub struct Workdir(pub PathBuf);

impl Workdir {
    pub fn new(name: &str, cluster: &TestCluster) -> Self {
        let dir = std::env::temp_dir().join(unique(name));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = format!(
            "clusters:\n  local:\n    kafka:\n      bootstrap_servers: {}\n      timeout: 60s\n",
            cluster.bootstrap
        );
        std::fs::write(dir.join("ebb.yaml"), config).expect("ebb.yaml");
        Workdir(dir)
    }

    /// Writes a file here and returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write file");
        path.to_str().expect("UTF-8 path").to_owned()
    }

    /// `ebb ARGS` with this directory's configuration; panics unless it succeeds.
    pub fn ebb(&self, args: &[&str]) -> Output {
        let output = self.ebb_command(args).stdin(Stdio::null()).output().expect("run ebb");
        assert!(
            output.status.success(),
            "ebb {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    pub fn ebb_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
        command.current_dir(&self.0).arg("--config").arg(self.0.join("ebb.yaml")).args(args);
        command
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// The median of `rounds` timed runs, with `prepare` run untimed before each.
pub fn median_with(rounds: usize, prepare: &dyn Fn(), mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            prepare();
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

/// Runs a command to its end, sampling the peak resident memory (VmHWM, KiB)
/// of it and every process it starts (a shell pipeline counts all its
/// processes, added up) every few milliseconds. Returns the time taken, the
/// peak, and its standard output.
pub fn measured(mut command: Command) -> (Duration, u64, Vec<u8>) {
    let started = Instant::now();
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let root = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut { stdout }, &mut bytes).expect("read stdout");
        bytes
    });
    let mut peaks: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    loop {
        for pid in tree(root) {
            let hwm = status_kib(pid, "VmHWM");
            let seen = peaks.entry(pid).or_default();
            *seen = (*seen).max(hwm);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    let output = child.wait_with_output().expect("wait");
    let stdout = reader.join().expect("stdout reader");
    assert!(output.status.success(), "{command:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    (elapsed, peaks.values().sum(), stdout)
}

/// A process and its descendants.
fn tree(root: u32) -> Vec<u32> {
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", all[i])).unwrap_or_default();
        all.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        i += 1;
    }
    all
}

/// A memory figure of `/proc/PID/status` (`VmRSS`, `VmHWM`, …) in KiB; 0 once the process is gone.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let value = l.strip_prefix(field)?.strip_prefix(':')?;
                value.trim().trim_end_matches(" kB").parse().ok()
            })
        })
        .unwrap_or(0)
}
