//! Runbooks: the spec types (`spec`), YAML read with locations (`yaml`),
//! validation that reports every problem with its line and column (`structure`
//! for shape against the generated schema, `semantics` for meaning, `validate`
//! for files and directories), params and templates.

pub mod params;
pub mod problem;
mod semantics;
pub mod spec;
mod structure;
pub mod templates;
mod validate;
pub mod yaml;

pub use problem::{Location, Problem};
pub use semantics::Catalog;
pub use validate::{Checked, check_file, check_paths, check_text, is_runbook_name, runbook_files};

/// The JSON Schema of a runbook file, generated from the spec types.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(spec::RunbookSpec);
    serde_json::to_value(schema).expect("a schema is JSON")
}
