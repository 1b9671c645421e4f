//! Outside values as error messages quote them: escaped (no terminal control
//! sequence gets through) and cut to a few dozen characters with the length
//! said, so that a 32 KB param or name never fills a log line, an API answer
//! or a history record. docs/SECURITY.md.

/// Characters of an outside value shown in a message, at most.
const SHOWN: usize = 40;

/// `text` quoted for a message: `"abc"`, or `"abc…" (32768 bytes)` when cut.
pub fn quoted(text: &str) -> String {
    match escaped(text) {
        (shown, true) => format!("\"{shown}…\" ({} bytes)", text.len()),
        (shown, false) => format!("\"{shown}\""),
    }
}

/// `text` escaped and cut like [`quoted`], without the quotes.
pub fn bare(text: &str) -> String {
    match escaped(text) {
        (shown, true) => format!("{shown}…"),
        (shown, false) => shown,
    }
}

/// `text` whole, for a terminal: line breaks kept, every other control
/// character escaped (`\u{1b}`), so no escape sequence reaches the screen,
/// and so are the invisible characters that reorder or hide text (bidi
/// overrides and isolates, zero-width marks), which could make a value read
/// as another.
pub fn terminal_safe(text: &str) -> String {
    let invisible =
        |c: char| matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n') || invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` escaped, its first [`SHOWN`] characters, and whether it was cut.
fn escaped(text: &str) -> (String, bool) {
    let mut all = text.chars().flat_map(char::escape_default);
    let shown: String = all.by_ref().take(SHOWN).collect();
    (shown, all.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_hostile_values_are_cut_and_escaped() {
        assert_eq!(quoted("orders"), "\"orders\"");
        let long = quoted(&"x".repeat(32_768));
        assert!(long.ends_with("…\" (32768 bytes)") && long.len() < 70, "{long}");
        assert_eq!(bare("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal_safe("a\u{1b}[2J\nb\u{7}"), "a\\u{1b}[2J\nb\\u{7}");
        assert_eq!(terminal_safe("pay\u{202E}lad"), "pay\\u{202e}lad");
    }
}
