//! Colour for people at a terminal: on only when the stream is a terminal,
//! `NO_COLOR` is unset (or empty) and `TERM` is not `dumb`; a pipe, a file or
//! a log never gets escape sequences.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Whether text written to `stream` may be coloured.
pub fn colour_on(stream: &impl IsTerminal) -> bool {
    stream.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && !std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// What a word means, and so its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Change,
    Bad,
}

/// `text` in the colour of `tone` when `on`, else as it is.
pub fn paint(on: bool, tone: Tone, text: &str) -> String {
    if !on {
        return text.to_owned();
    }
    let style: Style = match tone {
        Tone::Good => AnsiColor::Green.on_default(),
        Tone::Change => AnsiColor::Yellow.on_default(),
        Tone::Bad => AnsiColor::Red.on_default().bold(),
    };
    format!("{style}{text}{style:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_wraps_the_text_only_when_on() {
        assert_eq!(paint(false, Tone::Bad, "refused"), "refused");
        let red = paint(true, Tone::Bad, "refused");
        assert!(red.starts_with('\u{1b}') && red.contains("refused") && red.ends_with('m'), "{red:?}");
    }
}
