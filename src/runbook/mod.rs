//! Runbooks: the spec types (`spec`), reading YAML with locations (`yaml`),
//! and validation that reports every problem with its line and column.

pub mod problem;
pub mod spec;
pub mod yaml;

pub use problem::{Location, Problem};

/// The JSON Schema of a runbook file, generated from the spec types.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(spec::RunbookSpec);
    serde_json::to_value(schema).expect("a schema is JSON")
}

#[cfg(test)]
mod tests {
    #[test]
    fn print_schema() {
        println!("{}", serde_json::to_string_pretty(&super::schema()).unwrap());
    }
}
