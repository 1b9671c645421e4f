//! A step's view (the same blocks `ebb plan` and `ebb show` print) as HTML:
//! text as lines, tables as tables, numbers to the right. Cells were already
//! made terminal-safe by the step's view; maud escapes them for the page.

use maud::{Markup, html};

use crate::text_table::Table;
use crate::view_document::{Block, ViewDocument};

/// A planned step as `ebb plan` shows it, with the console's settings.
pub fn planned(step: &crate::steps::PlannedStep) -> Markup {
    let mut doc = ViewDocument::default();
    crate::steps::view(step, &console_view(), &mut doc);
    document(&doc)
}

/// What an applied step did, as `ebb show` shows it.
pub fn applied(detail: &crate::steps::AppliedDetail) -> Markup {
    let mut doc = ViewDocument::default();
    crate::steps::view_applied(detail, &mut doc);
    document(&doc)
}

/// How the console shows a step's tables: wide cells, headers included.
pub fn console_view() -> crate::step::ViewSettings {
    crate::step::ViewSettings { width: 400, headers: true, ..crate::step::ViewSettings::default() }
}

pub fn document(doc: &ViewDocument) -> Markup {
    html! {
        @for block in doc.blocks() {
            @match block {
                Block::Text(text) => div.lines { (text.trim_end_matches('\n')) },
                Block::Table { table, .. } => (table_html(table)),
            }
        }
    }
}

pub fn table_html(table: &Table) -> Markup {
    let numbers = table.numeric_columns();
    html! {
        div.scroll {
            table {
                thead { tr { @for name in table.header() { th { (name) } } } }
                tbody {
                    @for row in table.rows() {
                        tr {
                            @for (i, cell) in row.iter().enumerate() {
                                @if numbers.get(i).copied().unwrap_or(false) {
                                    td.num { (cell) }
                                } @else {
                                    td.text { (cell) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_a_view_is_escaped_text() {
        let mut doc = ViewDocument::default();
        doc.push_str("step <b>x</b>\n");
        let mut table = Table::new(vec!["KEY", "N"]);
        table.row(vec!["\"><img src=x onerror=alert(1)>".into(), "3".into()]);
        doc.table(table);
        let html = document(&doc).into_string();
        assert!(html.contains("step &lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "{html}");
        assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains(r#"<td class="num">3</td>"#), "{html}");
    }
}
