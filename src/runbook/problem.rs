//! A problem found in a runbook, and where: line and column in its file.

use std::fmt;

use serde::Serialize;

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One thing wrong with a runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(flatten)]
    pub at: Location,
    pub message: String,
}

impl Problem {
    pub fn new(at: Location, message: impl Into<String>) -> Self {
        Problem { at, message: message.into() }
    }
}
