//! Compiling a runbook: the validated spec, its params typed and defaulted, and
//! the fingerprint of the file it came from. Templates that read step outputs
//! can only render while the run goes, so they stay text until their step runs.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::CommandLine;
use crate::runbook::params::{ParamErrors, resolve};
use crate::runbook::spec::RunbookSpec;
use crate::runbook::{Catalog, Checked, check_file};

/// A runbook ready to plan.
#[derive(Debug, Clone)]
pub struct CompiledRunbook {
    pub spec: RunbookSpec,
    /// The file, as found (absolute when it could be resolved).
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// Every declared param with its value (given, default or null).
    pub params: Map<String, Value>,
    /// Set when the runbook was built from a command line rather than read from a file.
    pub command_line: Option<CommandLine>,
    /// What validation let through, as `file:line:column: message`.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{path}: invalid runbook ({} problem(s)):\n{problems}", .count)]
    Invalid { path: String, count: usize, problems: String },
    #[error("{path}: {errors}")]
    Params { path: String, errors: ParamErrors },
}

/// Validates the runbook at `path` and types `given` params against it.
pub fn compile(path: &Path, catalog: &Catalog, given: &[(String, Value)]) -> Result<CompiledRunbook, CompileError> {
    compile_checked(check_file(path, catalog), given)
}

/// Types `given` params against a runbook already validated (the daemon keeps
/// the last good version of each file, and runs that).
pub fn compile_checked(checked: Checked, given: &[(String, Value)]) -> Result<CompiledRunbook, CompileError> {
    let path = checked.path.as_path();
    let shown = path.display().to_string();
    let Some(spec) = checked.spec else {
        let problems = checked
            .problems
            .iter()
            .map(|p| format!("  {shown}:{}:{}: {}", p.at.line, p.at.column, p.message))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(CompileError::Invalid { path: shown, count: checked.problems.len(), problems });
    };
    let warnings =
        checked.warnings.iter().map(|w| format!("{shown}:{}:{}: {}", w.at.line, w.at.column, w.message)).collect();
    let params = resolve(&spec.params, given).map_err(|errors| CompileError::Params { path: shown, errors })?;
    Ok(CompiledRunbook {
        spec,
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        sha256: sha256_hex(checked.text.as_bytes()),
        params,
        command_line: None,
        warnings,
    })
}

/// Hex SHA-256, the fingerprint plans and history keep of a runbook file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
