//! Validation of runbook files: YAML syntax, then shape against the generated
//! schema, then meaning — every problem collected with its line and column —
//! and, for a file with none, the typed spec. Directories are read for
//! `*.yaml` and `*.yml`; names must be unique across everything validated.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::problem::{Location, Problem};
use super::semantics::{self, Catalog};
use super::spec::RunbookSpec;
use super::{structure, yaml};

/// One file's outcome.
#[derive(Debug, Clone)]
pub struct Checked {
    pub path: PathBuf,
    /// The runbook's `name`, when it has one.
    pub name: Option<String>,
    /// Where `name` and the `params:` key stand, for problems found after parsing.
    pub name_at: Option<Location>,
    pub params_at: Option<Location>,
    /// Sorted by location.
    pub problems: Vec<Problem>,
    /// What does not stop the runbook from running (an unknown notify
    /// target, under a lenient catalog), sorted by location.
    pub warnings: Vec<Problem>,
    /// The typed runbook, present exactly when there are no problems.
    pub spec: Option<RunbookSpec>,
    /// The file's text, so a run can fingerprint what it ran.
    pub text: String,
}

impl Checked {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    fn new(path: &Path, text: &str) -> Self {
        Checked {
            path: path.to_path_buf(),
            name: None,
            name_at: None,
            params_at: None,
            problems: Vec::new(),
            warnings: Vec::new(),
            spec: None,
            text: text.to_owned(),
        }
    }

    /// A path that could not be read; the problem has no line (0:0).
    fn unreadable(path: &Path, message: String) -> Self {
        Checked { problems: vec![Problem::new(Location::default(), message)], ..Checked::new(path, "") }
    }
}

fn runbook_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(super::schema)
}

/// Validates runbook text read from `path`.
pub fn check_text(path: &Path, text: &str, catalog: &Catalog) -> Checked {
    let (root, mut problems) = yaml::parse(text);
    let mut checked = Checked::new(path, text);
    let Some(root) = root else {
        if problems.is_empty() {
            problems.push(Problem::new(
                Location { line: 1, column: 1 },
                "the file is empty; a runbook needs name, cluster and steps",
            ));
        }
        checked.problems = problems;
        return checked;
    };
    checked.name = root.get("name").and_then(yaml::Node::as_str).map(str::to_owned);
    checked.name_at = root.get("name").map(|n| n.at);
    checked.params_at = root.entry("params").map(|e| e.key_at);
    problems.extend(structure::check(&root, runbook_schema()));
    let (meaning, warnings) = semantics::check(&root, catalog);
    problems.extend(meaning);
    checked.warnings = warnings;
    problems.sort_by_key(|p| p.at);
    problems.dedup();
    if problems.is_empty() {
        match serde_json::from_value::<RunbookSpec>(root.to_json()) {
            Ok(spec) => checked.spec = Some(spec),
            Err(e) => problems.push(Problem::new(Location { line: 1, column: 1 }, format!("cannot load runbook: {e}"))),
        }
    }
    checked.problems = problems;
    checked
}

/// Reads and validates one file.
pub fn check_file(path: &Path, catalog: &Catalog) -> Checked {
    match crate::bounded_read::read_text(path, crate::bounded_read::CONFIG_FILE_LIMIT) {
        Ok(text) => check_text(path, &text, catalog),
        Err(e) => Checked::unreadable(path, format!("cannot read: {e}")),
    }
}

/// Validates files and directories (their `*.yaml` and `*.yml`, sorted), and
/// checks that runbook names are unique across all of them.
pub fn check_paths(paths: &[PathBuf], catalog: &Catalog) -> Vec<Checked> {
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for path in paths {
        if path.is_dir() {
            match runbook_files(path) {
                Ok(found) => files.extend(found),
                Err(e) => unreadable.push((path.clone(), e)),
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut results: Vec<Checked> = files.iter().map(|f| check_file(f, catalog)).collect();
    for (path, e) in unreadable {
        results.push(Checked::unreadable(&path, format!("cannot read directory: {e}")));
    }
    mark_duplicate_names(&mut results);
    results
}

/// Whether a file's name makes it a runbook in a directory: `.yaml` or `.yml`.
pub fn is_runbook_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// The runbook files directly inside `dir`, sorted.
pub fn runbook_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_runbook_name(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn mark_duplicate_names(results: &mut [Checked]) {
    for i in 1..results.len() {
        let Some(name) = results[i].name.clone() else { continue };
        let Some(first) = results[..i].iter().find(|c| c.name.as_deref() == Some(name.as_str())) else { continue };
        let message = format!("runbook name `{name}` is already used by {}", first.path.display());
        let checked = &mut results[i];
        checked.problems.push(Problem::new(checked.name_at.unwrap_or_default(), message));
        checked.problems.sort_by_key(|p| p.at);
        checked.spec = None;
    }
}
