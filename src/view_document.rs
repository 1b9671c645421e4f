//! What a step shows a person, as blocks of text and tables rather than one
//! string, so the terminal and the web console show the same things from
//! one place: the terminal renders the blocks as text ([`ViewDocument::text`]),
//! the console as HTML.

use crate::text_table::Table;

/// One piece of a step's view, in order.
pub enum Block {
    /// Lines of text, each ending in `\n`.
    Text(String),
    /// A table; `indented` ones sit under the line before them.
    Table { table: Table, indented: bool },
}

#[derive(Default)]
pub struct ViewDocument {
    blocks: Vec<Block>,
}

impl ViewDocument {
    pub fn push_str(&mut self, text: &str) {
        if let Some(Block::Text(last)) = self.blocks.last_mut() {
            last.push_str(text);
        } else if !text.is_empty() {
            self.blocks.push(Block::Text(text.to_owned()));
        }
    }

    pub fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table { table, indented: false });
    }

    /// A table shown two spaces in, under the line before it.
    pub fn indented_table(&mut self, table: Table) {
        self.blocks.push(Block::Table { table, indented: true });
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The blocks as a terminal shows them.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Text(text) => out.push_str(text),
                Block::Table { table, indented: false } => out.push_str(&table.render()),
                Block::Table { table, indented: true } => {
                    for line in table.render().lines() {
                        out.push_str("  ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

impl std::fmt::Write for ViewDocument {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    #[test]
    fn text_runs_join_and_tables_render_in_place() {
        let mut doc = ViewDocument::default();
        let _ = write!(doc, "a");
        doc.push_str("b\n");
        let mut table = Table::new(vec!["X"]);
        table.row(vec!["1".into()]);
        doc.indented_table(table);
        doc.push('c');
        assert_eq!(doc.blocks().len(), 3);
        assert_eq!(doc.text(), "ab\n  X\n  1\nc");
    }
}
