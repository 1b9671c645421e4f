//! `ebb validate [PATH...]`: check runbook files and directories (default: the
//! runbooks directory of ebb.yaml) and print every problem as
//! `file:line:column: message`. Exit 0 when all are valid, 1 otherwise.
//! Secrets in ebb.yaml need not be set: validation reads only names.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::OutputFormat;
use crate::Error;
use crate::exit::Exit;
use crate::runbook::params::{parse_sets, resolve};
use crate::runbook::{Catalog, Checked, Location, Problem, check_paths};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Runbook files or directories; default the `runbooks` directory in ebb.yaml.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also check these params against every runbook, as `ebb run --set` would
    /// (types, unknown names, required params); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Unknown notify targets are problems, as the daemon takes them (by
    /// default they are warnings: a runbook still plans and runs from the CLI).
    #[arg(long)]
    pub strict: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    valid: bool,
    files: Vec<FileReport<'a>>,
}

#[derive(Debug, Serialize)]
struct FileReport<'a> {
    path: String,
    name: Option<&'a str>,
    valid: bool,
    problems: &'a [Problem],
    #[serde(skip_serializing_if = "<[Problem]>::is_empty")]
    warnings: &'a [Problem],
}

pub fn validate(config: Option<PathBuf>, args: ValidateArgs) -> Result<Exit, Error> {
    let loaded = crate::config::load_for_validation(config.as_deref())?;
    let catalog = Catalog::from_config(&loaded.config);
    let catalog = if args.strict { catalog } else { catalog.lenient() };
    let paths = if args.paths.is_empty() { vec![loaded.config.runbooks.clone()] } else { args.paths };
    let mut checked = check_paths(&paths, &catalog);
    if !args.sets.is_empty() {
        let given = parse_sets(&args.sets)?;
        checked.iter_mut().for_each(|c| check_params(c, &given));
    }
    let valid = checked.iter().all(Checked::is_valid);
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            let files = checked
                .iter()
                .map(|c| FileReport {
                    path: c.path.display().to_string(),
                    name: c.name.as_deref(),
                    valid: c.is_valid(),
                    problems: &c.problems,
                    warnings: &c.warnings,
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &Report { valid, files }).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            for c in &checked {
                if c.is_valid() {
                    writeln!(out, "{}: ok ({})", c.path.display(), c.name.as_deref().unwrap_or("?"))?;
                }
                for p in &c.problems {
                    writeln!(out, "{}:{}:{}: {}", c.path.display(), p.at.line, p.at.column, p.message)?;
                }
                for w in &c.warnings {
                    writeln!(out, "{}:{}:{}: warning: {}", c.path.display(), w.at.line, w.at.column, w.message)?;
                }
            }
            let invalid = checked.iter().filter(|c| !c.is_valid()).count();
            let problems: usize = checked.iter().map(|c| c.problems.len()).sum();
            match (checked.len(), invalid) {
                (0, _) => writeln!(out, "no runbooks found in {}", list(&paths))?,
                (n, 0) => writeln!(out, "{n} runbook(s) valid")?,
                (n, bad) => writeln!(out, "{bad} of {n} runbook(s) invalid, {problems} problem(s)")?,
            }
        }
    }
    Ok(Exit::done_if(valid))
}

/// Adds a problem for each way `--set` does not fit a valid runbook's params,
/// located at its `params:` key (or the top of the file).
fn check_params(checked: &mut Checked, given: &[(String, serde_json::Value)]) {
    let Some(spec) = &checked.spec else { return };
    let Err(errors) = resolve(&spec.params, given) else { return };
    let at = checked.params_at.unwrap_or(Location { line: 1, column: 1 });
    checked.problems.extend(errors.0.iter().map(|e| Problem::new(at, format!("--set: {e}"))));
    checked.spec = None;
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
