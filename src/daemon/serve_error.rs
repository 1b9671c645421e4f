//! Why the daemon did not start, or did not stop cleanly. Every check on
//! its settings runs before it binds, so a refused daemon never listens.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::history::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {listen}: {source}")]
    Listen { listen: String, source: std::io::Error },
    #[error("daemon.max_connections must be 1 to {most}")]
    MaxConnections { most: usize },
    #[error("daemon.header_timeout must be at least 1s")]
    HeaderTimeout,
    #[error("daemon.console.session must be 1m to 30d")]
    ConsoleSession,
    /// A certificate or key file that cannot be used; never its content.
    #[error("daemon.tls: {}: {what}", .path.display())]
    Tls { path: PathBuf, what: String },
    #[error(
        "daemon.listen {address} is not a loopback address, and plain HTTP there would carry API tokens in clear: \
         configure daemon.tls (cert and key), or set daemon.allow_plain_http: true"
    )]
    PlainHttp { address: SocketAddr },
    #[error(transparent)]
    History(#[from] StoreError),
    /// ebb.yaml's `coordination:` deployment could not be joined.
    #[error("cannot join the deployment: {0}")]
    Coordination(String),
    /// A variable or file ebb.yaml names, which the daemon needs (it uses every section).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}
