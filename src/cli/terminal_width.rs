//! The width a table may take: the terminal's when stdout is one, else
//! `$COLUMNS` when set, else none in particular.

/// Columns on stdout's terminal, or `$COLUMNS`.
pub fn terminal_width() -> Option<usize> {
    if let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size_of(std::io::stdout())
        && columns > 0
    {
        return Some(usize::from(columns));
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|c| *c > 0)
}
