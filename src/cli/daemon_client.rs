//! The CLI through a running daemon. sled lets one process hold the history
//! store; while the daemon holds it, `history`, `show`, `rollback` and `run`
//! ask the daemon's API instead, and print what the direct commands print.
//!
//! The address is `daemon.listen` in ebb.yaml (what the daemon binds), or,
//! when that says port 0 or is absent, the address the daemon wrote into
//! `history.lock`. The token is `$EBB_TOKEN`, else the highest-ranked token in
//! ebb.yaml's `daemon.tokens` (whoever can read ebb.yaml and its variables
//! holds those anyway).
//!
//! With `daemon.tls` the address is `https://`: the CLI trusts `daemon.tls.ca`
//! when set, else the certificates of `daemon.tls.cert` (a self-signed one
//! trusts itself) besides the usual roots, and connects to 127.0.0.1 where the
//! daemon listens on every address, so its certificate should name 127.0.0.1.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::daemon_client_error::DaemonClientError;
use crate::Error;
use crate::config::LoadedConfig;

const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request that waits for a run's end may take.
const WAITED_RUN_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

pub struct DaemonClient {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl DaemonClient {
    /// A client for the daemon whose address `history.lock` gives as `held_api`.
    pub fn new(config: &LoadedConfig, held_api: &str) -> Result<Self, Error> {
        let daemon = config.config.daemon.as_ref();
        let tls = daemon.and_then(|d| d.tls.as_ref());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = reachable(
            &daemon
                .map(|d| d.listen.as_str())
                .filter(|listen| !listen.ends_with(":0"))
                .map_or_else(|| held_api.to_owned(), |listen| format!("{scheme}://{listen}")),
        );
        let from_env = std::env::var("EBB_TOKEN").ok().filter(|t| !t.is_empty());
        if from_env.is_none() {
            config.require("daemon.tokens")?;
        }
        let token = from_env.or_else(|| {
            daemon.and_then(|d| d.tokens.iter().max_by_key(|t| t.role)).map(|t| t.token.expose().to_owned())
        });
        let Some(token) = token else {
            return Err(DaemonClientError::NoToken { base }.into());
        };
        let mut client = reqwest::Client::builder().timeout(TIMEOUT);
        if let Some(tls) = tls {
            let trusted = tls.ca.as_ref().unwrap_or(&tls.cert);
            let pem = std::fs::read(trusted)
                .map_err(|source| DaemonClientError::TrustUnreadable { path: trusted.clone(), source })?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| DaemonClientError::NoCertificate { path: trusted.clone() })?;
            for root in roots {
                client = client.add_root_certificate(root);
            }
        }
        let client = client.build().map_err(DaemonClientError::Client)?;
        eprintln!("(through the daemon at {base}, which holds the history store)");
        Ok(DaemonClient { base, token, client })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, Error> {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Value,
    ) -> Result<T, Error> {
        self.send(Method::POST, path, query, Some(body)).await
    }

    /// `GET path`, or `None` when the daemon answers 404.
    pub async fn get_if_found<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, Error> {
        match self.send(Method::GET, path, &[], None).await {
            Ok(found) => Ok(Some(found)),
            Err(Error::Daemon(DaemonClientError::NotFound { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<T, Error> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut request = self.client.request(method, &url).bearer_auth(&self.token).query(query);
        // A run waited for takes as long as it takes (a gate may wait minutes for a group to stop).
        if query.iter().any(|(k, v)| *k == "wait" && v == "true") {
            request = request.timeout(WAITED_RUN_TIMEOUT);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let base = || self.base.clone();
        let response = request
            .send()
            .await
            .map_err(|e| DaemonClientError::Unreachable { base: base(), source: e.without_url() })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let error = serde_json::from_str::<Value>(&text).ok().map(|v| v["error"].clone()).unwrap_or_default();
            let message = error["message"].as_str().map_or(text, str::to_owned);
            let base = base();
            return Err(match (status.as_u16(), error["code"].as_str()) {
                (404, _) => DaemonClientError::NotFound { base, status, message },
                (_, Some("runbook_differs")) => DaemonClientError::Differs { base, status, message },
                _ => DaemonClientError::Answered { base, status, message },
            }
            .into());
        }
        Ok(serde_json::from_str(&text).map_err(|source| DaemonClientError::Unreadable { base: base(), source })?)
    }
}

/// The body of a run request with `--set` params, as text (the daemon types them).
pub fn params_body(sets: &[(String, Value)]) -> Value {
    let params: serde_json::Map<String, Value> = sets.iter().cloned().collect();
    json!({ "params": params })
}

/// Where to reach the daemon at `url`: on this machine when it listens on every address.
fn reachable(url: &str) -> String {
    ["://0.0.0.0:", "://[::]:"]
        .iter()
        .find(|any| url.contains(**any))
        .map_or_else(|| url.to_owned(), |any| url.replacen(any, "://127.0.0.1:", 1))
}

#[cfg(test)]
mod tests {
    use super::reachable;

    #[test]
    fn a_daemon_on_every_address_is_reached_on_this_machine() {
        assert_eq!(reachable("https://0.0.0.0:8443"), "https://127.0.0.1:8443");
        assert_eq!(reachable("http://[::]:8480"), "http://127.0.0.1:8480");
        assert_eq!(reachable("https://10.1.2.3:8443"), "https://10.1.2.3:8443");
    }
}
