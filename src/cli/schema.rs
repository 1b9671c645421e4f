//! `ebb schema`: the JSON Schema of runbook files, generated from the spec
//! types. `schemas/runbook.schema.json` is this output, checked in for editors.

use std::io::Write;

use crate::Error;
use crate::exit::Exit;

/// The schema exactly as `ebb schema` prints it.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&crate::runbook::schema()).expect("a schema is JSON");
    text.push('\n');
    text
}

pub fn print() -> Result<Exit, Error> {
    std::io::stdout().lock().write_all(schema_text().as_bytes())?;
    Ok(Exit::Done)
}
