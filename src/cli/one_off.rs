//! What `ebb reset`, `ebb query` and `ebb purge` share: a runbook of one
//! step built from flags, checked like a runbook file, then planned, shown,
//! confirmed, applied and recorded exactly as `ebb plan` and `ebb run` do
//! it, so a one-off has the same gate, guards, history and rollback. The plan
//! and history keep the command line and the runbook it stands for, which
//! `ebb show` prints so a one-off can become a runbook file.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Map, Value, json};

use super::OutputFormat;
use super::plan::{plan_and_record, print_plan};
use super::run::run_compiled;
use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::engine::{CommandLine, CompiledRunbook, Plan, compile_checked};
use crate::exit::Exit;
use crate::history::DataDir;
use crate::runbook::{Catalog, check_text};
use crate::step::confined_files::FileAccess;

/// Flags every mutating one-off takes.
#[derive(Debug, Args)]
pub struct ApplyFlags {
    /// The cluster in ebb.yaml (default: the only one there).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Show the plan and stop: nothing is changed.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// With --dry-run: save the plan as JSON, for `ebb apply`.
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// The one step a one-off runs: its kind (`reset_offsets`…) and its fields as
/// a runbook would write them.
pub struct OneStep {
    /// The runbook's name and the step's id: `reset`, `query`, `purge`.
    pub verb: &'static str,
    pub kind: &'static str,
    pub fields: Map<String, Value>,
}

/// Text a template would read, kept literal: each `{{` is escaped (`\{{`),
/// so a value typed on the command line is never rendered. A backslash just
/// before `{{` cannot be kept that way (the template engine reads `\\{{` as
/// a backslash and a template), so [`compile`] refuses it.
pub fn literal(text: &str) -> Value {
    Value::String(text.replace("{{", "\\{{"))
}

/// The first typed value whose `\{{` a template would not keep, if any.
fn unkeepable(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) => text.contains("\\\\{{").then_some(text.as_str()),
        Value::Array(items) => items.iter().find_map(unkeepable),
        Value::Object(fields) => fields.values().find_map(unkeepable),
        _ => None,
    }
}

/// A typed value checked by `parse` (a time, a duration) and written as the
/// text given; a value `parse` refuses is a flag error naming `flag`.
pub fn parsed<T, E: std::fmt::Display>(
    flag: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Value, Error> {
    match parse(text) {
        Ok(_) => Ok(Value::String(text.trim().to_owned())),
        Err(e) => Err(UsageError::BadFlag { flag, given: text.to_owned(), reason: e.to_string() }.into()),
    }
}

/// The runbook `step` stands for on `cluster`, as YAML.
pub fn runbook_text(cluster: &str, line: &str, step: &OneStep) -> String {
    // A YAML mapping keeps this order (name first), as a runbook is written.
    let mut runbook = serde_yaml::Mapping::new();
    let mut put = |key: &str, value: Value| {
        runbook.insert(key.into(), serde_yaml::to_value(value).unwrap_or_default());
    };
    put("name", json!(format!("ebb-{}", step.verb)));
    put("description", json!(format!("Built from: {line}")));
    put("cluster", json!(cluster));
    put("steps", json!([{ "id": step.verb, step.kind: step.fields }]));
    serde_yaml::to_string(&runbook).unwrap_or_default()
}

/// The command line as typed, each word quoted as a shell needs it.
pub fn typed_line() -> String {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let mut line = String::from("ebb");
    for word in &words {
        line.push(' ');
        line.push_str(&shlex::try_quote(word).map_or_else(|_| format!("{word:?}"), |q| q.into_owned()));
    }
    line
}

/// The cluster a one-off runs against: the one named, or the only one in ebb.yaml.
fn pick_cluster(config: &LoadedConfig, named: Option<&str>) -> Result<String, Error> {
    if let Some(name) = named {
        return Ok(name.to_owned());
    }
    let mut names = config.config.clusters.keys();
    match (names.next(), names.next()) {
        (Some(only), None) => Ok(only.clone()),
        _ => Err(UsageError::WhichCluster { known: config.config.clusters.keys().cloned().collect() }.into()),
    }
}

/// Builds and checks the runbook of `step`, as a runbook file would be checked.
pub fn compile(config: &LoadedConfig, cluster: Option<&str>, step: &OneStep) -> Result<CompiledRunbook, Error> {
    if let Some(value) = step.fields.values().find_map(unkeepable) {
        return Err(UsageError::BadFlag {
            flag: "a value",
            given: value.to_owned(),
            reason: "a backslash before `{{` cannot be kept literal in a one-off; write the step in a runbook file"
                .to_owned(),
        }
        .into());
    }
    let cluster = pick_cluster(config, cluster)?;
    let line = typed_line();
    let text = runbook_text(&cluster, &line, step);
    let source = format!("ebb {}", step.verb);
    let checked = check_text(Path::new(&source), &text, &Catalog::from_config(&config.config));
    let mut compiled = compile_checked(checked, &[])?;
    compiled.command_line = Some(CommandLine { line, runbook: text });
    Ok(compiled)
}

/// Files a one-off names were typed by its operator: relative paths are read
/// and written in the current directory, and an absolute one in its own.
pub fn file_access(config: &LoadedConfig, paths: &[&str]) -> FileAccess {
    let here = std::env::current_dir().ok();
    let mut access = FileAccess::from_config(&config.config);
    access.files_dir = here.clone();
    access.downloads_dir = here;
    access
        .allowed
        .extend(paths.iter().filter_map(|p| Path::new(p).parent()).filter(|d| d.is_absolute()).map(Path::to_path_buf));
    access
}

/// Refuses a one-off while a daemon holds the history store: the daemon runs
/// only its own runbooks, and a one-off must be recorded like any run.
pub fn refuse_under_daemon(data: &DataDir) -> Result<(), Error> {
    match data.held_by_daemon() {
        Some(api) => Err(UsageError::OneOffUnderDaemon { api }.into()),
        None => Ok(()),
    }
}

/// Plans a mutating one-off and, unless `--dry-run`, shows, confirms and
/// applies it: `ebb plan` and `ebb run` for a runbook built from flags.
pub async fn plan_or_run(
    config: &LoadedConfig,
    compiled: &CompiledRunbook,
    files: FileAccess,
    flags: &ApplyFlags,
) -> Result<Exit, Error> {
    let data = DataDir::from_config(&config.config);
    refuse_under_daemon(&data)?;
    if flags.dry_run {
        let print = |plan: &Plan| print_plan(plan, flags.out.as_deref(), flags.output);
        let plan = plan_and_record(config, compiled, files, &data, &print).await?;
        return Ok(Exit::of_plan(&plan, false));
    }
    run_compiled(config, compiled, files, flags.yes, flags.output, &data).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_typed_on_the_command_line_is_never_a_template() {
        // Rendered as a template would be, each comes back exactly as typed.
        let renderer = crate::runbook::templates::Renderer::default();
        for typed in ["a {{params.x}} b", "{{2}", "{{{x}}}", "}}{{", "plain \\ text", "{{{{raw}}}}"] {
            let Value::String(text) = literal(typed) else { panic!() };
            let rendered =
                renderer.render("s", "f", &text, &serde_json::json!({})).unwrap_or_else(|e| panic!("{typed}: {e}"));
            assert_eq!(rendered, typed);
            assert!(unkeepable(&literal(typed)).is_none(), "{typed}");
        }
        for refused in ["x\\{{run.id}}", "\\{{2}"] {
            assert!(unkeepable(&literal(refused)).is_some(), "{refused}");
        }
        let step = OneStep {
            verb: "query",
            kind: "query_messages",
            fields: Map::from_iter([("contains".into(), literal("x: {{y}}"))]),
        };
        let text = runbook_text("local", "ebb query orders --contains 'x: {{y}}'", &step);
        let back: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back["name"], "ebb-query");
        assert_eq!(back["steps"][0]["id"], "query");
        assert_eq!(back["steps"][0]["query_messages"]["contains"], "x: \\{{y}}");
        assert_eq!(back["description"], "Built from: ebb query orders --contains 'x: {{y}}'");
    }
}
