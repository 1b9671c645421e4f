//! The runbook a plan was made from, as it is now, for the drift check
//! before an apply.

use std::path::Path;

use crate::bounded_read::{CONFIG_FILE_LIMIT, read_text};
use crate::engine::{Plan, sha256_hex};

/// The SHA-256 of the runbook `plan` was made from, as it is now: a
/// rollback's is the one history kept, a command line's is that of the
/// runbook the plan itself holds, a file's comes from reading the file again
/// (`None` when it cannot be read, which the drift check reports).
pub fn runbook_sha256_now(plan: &Plan) -> Option<String> {
    if plan.rollback_of.is_some() {
        return Some(plan.runbook_sha256.clone());
    }
    if let Some(command_line) = &plan.command_line {
        return Some(sha256_hex(command_line.runbook.as_bytes()));
    }
    read_text(Path::new(&plan.runbook_path), CONFIG_FILE_LIMIT).ok().map(|text| sha256_hex(text.as_bytes()))
}
