//! Plain-text tables in the style of Apache Kafka's tools: an upper-case header,
//! columns separated by at least two spaces, numbers right-aligned.

use std::fmt::Write;

pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Self {
        Table { header, rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    pub fn header(&self) -> &[&'static str] {
        &self.header
    }

    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Which columns hold only numbers (or `-`), to be aligned right; none of an empty table.
    pub fn numeric_columns(&self) -> Vec<bool> {
        (0..self.header.len())
            .map(|i| {
                !self.rows.is_empty()
                    && self.rows.iter().all(|row| row.get(i).is_some_and(|c| c.parse::<i64>().is_ok() || c == "-"))
            })
            .collect()
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let numeric = self.numeric_columns();
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (i, cell) in cells.enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                if numeric[i] {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    if i + 1 < columns {
                        text.push_str(&" ".repeat(pad));
                    }
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(&mut out, &mut self.header.iter().copied());
        for row in &self.rows {
            line(&mut out, &mut row.iter().map(String::as_str));
        }
        out
    }
}

/// An optional number, or `-` when there is none.
pub fn dash(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let mut t = Table::new(vec!["TOPIC", "PARTITION", "NOTE"]);
        t.row(vec!["orders".into(), "7".into(), "x".into()]);
        t.row(vec!["a".into(), "12".into(), "-".into()]);
        assert_eq!(t.render(), "TOPIC   PARTITION  NOTE\norders          7  x\na              12  -\n");
    }
}
