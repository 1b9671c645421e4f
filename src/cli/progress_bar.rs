//! A progress bar for long reads (indicatif), drawn on standard error only
//! when it is a terminal: redirected output and pipes never see it. One bar
//! per step, cleared when its read finishes (the plan says what was read).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressDrawTarget, ProgressStyle};

use crate::step::progress::{Progress, ProgressSink};

/// `find [##########..........]  50%  500000/1000000 records (1.2M/s, 0s)`.
const TEMPLATE: &str = "{prefix} [{bar:30}] {percent:>3}%  {pos}/{len} records ({per_sec}, {eta})";

#[derive(Default)]
pub struct ProgressBar {
    bars: Mutex<BTreeMap<String, indicatif::ProgressBar>>,
}

impl std::fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressBar")
    }
}

impl ProgressBar {
    /// A bar when standard error is a terminal; otherwise nothing.
    pub fn on_terminal() -> Option<ProgressSink> {
        std::io::stderr().is_terminal().then(|| Arc::new(ProgressBar::default()) as ProgressSink)
    }

    fn with_bar(&self, step: &str, total: u64, act: impl FnOnce(&indicatif::ProgressBar)) {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let bar = bars.entry(step.to_owned()).or_insert_with(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(style());
            bar.set_prefix(step.to_owned());
            bar
        });
        bar.set_length(total);
        act(bar);
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template(TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("#>.")
}

impl Progress for ProgressBar {
    fn advance(&self, step: &str, done: u64, total: u64) {
        // Nothing to read, nothing to draw.
        if total > 0 {
            self.with_bar(step, total, |bar| bar.set_position(done));
        }
    }

    fn finish(&self, step: &str, done: u64, total: u64) {
        if !self.bars.lock().unwrap_or_else(|p| p.into_inner()).contains_key(step) {
            return;
        }
        self.with_bar(step, total, |bar| {
            bar.set_position(done);
            // The plan says how much was read; the bar leaves the screen.
            bar.finish_and_clear();
        });
        self.bars.lock().unwrap_or_else(|p| p.into_inner()).remove(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_one_indicatif_reads() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
        let hidden = ProgressBar::default();
        hidden.advance("find", 10, 20);
        hidden.finish("find", 20, 20);
        assert!(hidden.bars.lock().unwrap().is_empty());
    }
}
