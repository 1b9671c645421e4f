//! Runs the `ebb` binary the way an operator would, and states what should come back.

use std::path::PathBuf;
use std::process::Command;

/// `ebb.yaml` with one Kafka cluster named `local`.
pub fn config_for(bootstrap: &str) -> String {
    format!("clusters:\n  local:\n    kafka:\n      bootstrap_servers: {bootstrap}\n")
}

/// `config_for`, with history kept in `data_dir`, so that commands run from
/// different working directories (a plan, then its apply) share it.
pub fn config_keeping_history(bootstrap: &str, data_dir: &std::path::Path) -> String {
    format!("{}data_dir: {}\n", config_for(bootstrap), data_dir.display())
}

/// A topic of `partitions` × 30 records valued `VALUE-n`, written a minute
/// ago, and a group committed at 10 on each partition, on the shared broker.
pub async fn seeded_topic_and_group(prefix: &str, partitions: i32, value: &str) -> (String, String) {
    let seeder = ebb_testkit::Seeder::new(&ebb_testkit::shared_cluster().bootstrap);
    let (topic, group) = (ebb_testkit::unique(&format!("{prefix}-t")), ebb_testkit::unique(&format!("{prefix}-g")));
    seeder.create_topic(&topic, partitions).await;
    for p in 0..partitions {
        seeder.produce_sequence(&topic, p, 30, value, now_ms() - 60_000, 1).await;
    }
    let commits: Vec<(&str, i32, i64)> = (0..partitions).map(|p| (topic.as_str(), p, 10)).collect();
    seeder.commit(&group, &commits).await;
    (topic, group)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis() as i64
}

/// Runs `ebb --config ebb.yaml ARGS` on a pseudo-terminal (util-linux
/// `script`) in a directory holding `ebb.yaml` for `bootstrap` and `rb.yaml`,
/// typing `input`. Returns the exit code and everything the terminal showed.
pub fn on_a_terminal(bootstrap: &str, runbook_text: &str, args: &str, input: &str) -> (i32, String) {
    on_a_terminal_with(&config_for(bootstrap), runbook_text, args, input)
}

/// [`on_a_terminal`] with this `ebb.yaml`.
pub fn on_a_terminal_with(config: &str, runbook_text: &str, args: &str, input: &str) -> (i32, String) {
    on_a_terminal_in_env(config, runbook_text, args, input, &[])
}

/// [`on_a_terminal_with`], with these variables set in ebb's environment.
pub fn on_a_terminal_in_env(
    config: &str,
    runbook_text: &str,
    args: &str,
    input: &str,
    env: &[(&str, &str)],
) -> (i32, String) {
    use std::io::Write;
    let dir = tempdir::Dir::new();
    std::fs::write(dir.path().join("ebb.yaml"), config).unwrap();
    std::fs::write(dir.path().join("rb.yaml"), runbook_text).unwrap();
    let command = format!("{} --config ebb.yaml {args}", env!("CARGO_BIN_EXE_ebb"));
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(dir.path())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` gives ebb a terminal");
    child.stdin.take().unwrap().write_all(format!("{input}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

pub struct Ebb {
    dir: tempdir::Dir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    config: Option<String>,
    files: Vec<(String, String)>,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ebb {
    pub fn new() -> Self {
        Ebb { dir: tempdir::Dir::new(), args: Vec::new(), env: Vec::new(), config: None, files: Vec::new() }
    }

    /// Writes a file (say, a runbook) at this path relative to the working directory.
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    /// Writes `ebb.yaml` with this text and passes `--config` to it.
    pub fn config(mut self, yaml: &str) -> Self {
        self.config = Some(yaml.to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn run(self) -> Outcome {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ebb"));
        command.current_dir(self.dir.path()).env_remove("EBB_CONFIG");
        if let Some(yaml) = &self.config {
            let path: PathBuf = self.dir.path().join("ebb.yaml");
            std::fs::write(&path, yaml).expect("write ebb.yaml");
            command.arg("--config").arg(&path);
        }
        for (path, text) in &self.files {
            let path = self.dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
            std::fs::write(&path, text).expect("write file");
        }
        command.args(&self.args);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        let output = command.output().expect("run ebb");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stderr_contains(self, text: &str) -> Self {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    pub fn stdout_contains(self, text: &str) -> Self {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}", self.stdout);
        self
    }

    /// Neither output contains `text` (for secrets).
    pub fn never_shows(self, text: &str) -> Self {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "{text:?} leaked:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A temporary directory removed when dropped.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(ebb_testkit::unique("ebb-cli"));
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
