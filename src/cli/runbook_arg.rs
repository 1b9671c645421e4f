//! The RUNBOOK argument of `plan` and `run`: a file, or the `name` of a runbook
//! in the runbooks directory of ebb.yaml.

use std::path::{Path, PathBuf};

use super::usage_error::UsageError;
use crate::Error;
use crate::config::LoadedConfig;
use crate::runbook::{runbook_files, yaml};

pub fn locate(arg: &str, config: &LoadedConfig) -> Result<PathBuf, Error> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let dir = &config.config.runbooks;
    let files = runbook_files(dir).unwrap_or_default();
    let mut names = Vec::new();
    for file in files {
        let Ok(text) = crate::bounded_read::read_text(&file, crate::bounded_read::CONFIG_FILE_LIMIT) else { continue };
        let (root, _) = yaml::parse(&text);
        let Some(name) = root.as_ref().and_then(|r| r.get("name")).and_then(yaml::Node::as_str).map(str::to_owned)
        else {
            continue;
        };
        if name == arg {
            return Ok(file);
        }
        names.push(name);
    }
    names.sort();
    let known = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
    Err(UsageError::NoRunbook { arg: arg.to_owned(), dir: dir.to_owned(), known }.into())
}
