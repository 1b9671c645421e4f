//! A progress bar for long reads, drawn on standard error only when it is a
//! terminal: redirected output and pipes never see it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::step::progress::{Progress, ProgressSink};

const WIDTH: usize = 30;
const REDRAW_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
pub struct ProgressBar {
    last_drawn: Mutex<Option<Instant>>,
}

impl ProgressBar {
    /// A bar when standard error is a terminal; otherwise nothing.
    pub fn on_terminal() -> Option<ProgressSink> {
        std::io::stderr().is_terminal().then(|| Arc::new(ProgressBar::default()) as ProgressSink)
    }
}

/// One frame: `find [#########.....................]  30%  300000/1000000 records`.
pub fn frame(step: &str, done: u64, total: u64) -> String {
    let fraction = if total == 0 { 1.0 } else { (done as f64 / total as f64).min(1.0) };
    let filled = (fraction * WIDTH as f64).round() as usize;
    format!(
        "{step} [{}{}] {:>3}%  {done}/{total} records",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        (fraction * 100.0).floor() as u32
    )
}

impl Progress for ProgressBar {
    fn advance(&self, step: &str, done: u64, total: u64) {
        let mut last = self.last_drawn.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < REDRAW_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", frame(step, done, total));
        let _ = err.flush();
    }

    fn finish(&self, step: &str, done: u64, total: u64) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "\r\x1b[2K{}", frame(step, done, total));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_shows_the_share_read() {
        assert_eq!(frame("find", 0, 200), format!("find [{}]   0%  0/200 records", ".".repeat(30)));
        assert_eq!(
            frame("find", 100, 200),
            format!("find [{}{}]  50%  100/200 records", "#".repeat(15), ".".repeat(15))
        );
        assert_eq!(frame("find", 0, 0), format!("find [{}] 100%  0/0 records", "#".repeat(30)));
    }
}
