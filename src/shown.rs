//! Outside values as error messages quote them: escaped (no terminal control
//! sequence gets through) and cut to a few dozen characters with the length
//! said, so that a 32 KB param or name never fills a log line, an API answer
//! or a history record. docs/SECURITY.md.

/// Characters of an outside value shown in a message, at most.
const SHOWN: usize = 40;

/// `text` quoted for a message: `"abc"`, or `"abc…" (32768 bytes)` when cut.
pub fn quoted(text: &str) -> String {
    let escaped: String = text.chars().flat_map(char::escape_default).take(SHOWN).collect();
    if text.chars().flat_map(char::escape_default).nth(SHOWN).is_some() {
        format!("\"{escaped}…\" ({} bytes)", text.len())
    } else {
        format!("\"{escaped}\"")
    }
}

/// `text` escaped and cut like [`quoted`], without the quotes.
pub fn bare(text: &str) -> String {
    let escaped: String = text.chars().flat_map(char::escape_default).take(SHOWN).collect();
    if text.chars().flat_map(char::escape_default).nth(SHOWN).is_some() { format!("{escaped}…") } else { escaped }
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
    }
}
