//! A running `ebb daemon` process for tests and benchmarks: started from a
//! command the caller builds, its address read from what it prints, its log
//! gathered as it writes it, stopped with SIGTERM (killed if dropped).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct DaemonProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as the daemon printed it.
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl DaemonProcess {
    /// Starts `command` (an `ebb … daemon …` invocation) and waits, 60 s at
    /// most, for it to say where it listens.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ebb daemon");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("log").push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (found, url) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ebb daemon listening on ") {
                    let _ = found.send(url.to_owned());
                }
            }
        });
        match url.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => DaemonProcess { child: Some(child), url, log },
            Err(_) => {
                let _ = child.kill();
                panic!("the daemon did not say where it listens; its log:\n{}", log.lock().expect("log"));
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Sends `signal` (`STOP`, `CONT`…) with kill(1): a stopped daemon is
    /// frozen mid-step, as a long GC pause or a hung host would leave it.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL, as a crash or the OOM killer would: nothing of the daemon runs after it.
    pub fn kill(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("wait for the daemon")
    }

    /// SIGTERM, then waits (30 s at most) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for the daemon") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the daemon did not stop within 30 s of SIGTERM; its log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
