//! The JSON bodies the API's POST endpoints take, and how they are read: an
//! empty body is `{}`, unknown fields are refused, nothing else is assumed.
//! Public so that the fuzzer (fuzz/) reads bodies exactly as the daemon does.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// `POST /runbooks/{name}/runs`: params for a fresh plan, or a saved plan's id.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub plan_id: Option<String>,
    /// The SHA-256 of the runbook file the caller means: the daemon refuses
    /// (409) when its own copy differs, rather than run something else.
    #[serde(default)]
    pub runbook_sha256: Option<String>,
}

/// `POST /runbooks/{name}/plan`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[serde(default)]
    pub params: Map<String, Value>,
    /// As in [`RunBody::runbook_sha256`].
    #[serde(default)]
    pub runbook_sha256: Option<String>,
}

/// `POST /runs/{id}/rollback`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// Plan the rollback and stop.
    #[serde(default)]
    pub plan_only: bool,
}

impl RunBody {
    pub fn params(&self) -> Vec<(String, Value)> {
        self.params.clone().into_iter().collect()
    }
}

impl PlanBody {
    pub fn params(&self) -> Vec<(String, Value)> {
        self.params.clone().into_iter().collect()
    }
}

/// A body read as `T`, or the message a 400 carries.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(text).map_err(|e| format!("invalid JSON body: {e}"))
}
