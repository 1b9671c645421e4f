//! The rows of the comparison and their Markdown table.

use std::fmt::Write;

use crate::measure::Sample;

pub struct Row {
    pub brokers: usize,
    pub operation: String,
    pub tool: String,
    pub sample: Sample,
    /// This row's wall time as a multiple of ebb's (the peer's slowness); `None` for ebb itself.
    pub ratio: Option<f64>,
}

#[derive(Default)]
pub struct Results {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Results {
    /// Records ebb's figures and each peer's, with the ratio of each peer's wall time to ebb's.
    pub fn compare(&mut self, brokers: usize, operation: &str, ebb: (&str, Sample), peers: Vec<(String, Sample)>) {
        let row = |tool: &str, sample: Sample, ratio| Row {
            brokers,
            operation: operation.to_owned(),
            tool: tool.to_owned(),
            sample,
            ratio,
        };
        let line = row(ebb.0, ebb.1, None);
        println!("{}", render_row(&line));
        self.rows.push(line);
        for (tool, sample) in peers {
            let ratio = sample.wall.as_secs_f64() / ebb.1.wall.as_secs_f64();
            let line = row(&tool, sample, Some(ratio));
            println!("{}", render_row(&line));
            self.rows.push(line);
        }
    }

    pub fn note(&mut self, note: String) {
        println!("note: {note}");
        self.notes.push(note);
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("| brokers | operation | tool | wall | CPU | peak RSS | peer ÷ ebb (wall) |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let _ = writeln!(out, "{}", render_row(row));
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        out
    }
}

fn render_row(row: &Row) -> String {
    // Near 1 (ebb beside an earlier ebb) a tenth is too coarse to tell.
    let ratio = row.ratio.map_or("—".to_owned(), |r| if r < 2.0 { format!("{r:.2}×") } else { format!("{r:.1}×") });
    format!(
        "| {} | {} | {} | {} ms | {} ms | {} MB | {} |",
        row.brokers,
        row.operation,
        // A tool's name may hold a shell pipe, which would end the table cell.
        row.tool.replace('|', "\\|"),
        row.sample.wall.as_millis(),
        row.sample.cpu.as_millis(),
        row.sample.peak_kib / 1024,
        ratio
    )
}
