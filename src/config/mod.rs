//! `ebb.yaml`: where runbooks and history live, the clusters ebb may touch, the
//! daemon's listener and tokens, and notification targets. Loading checks the
//! file's shape first (so errors carry line and column), then expands `${VAR}`
//! from the environment, then resolves relative paths against the file's folder.

mod audit;
mod coordination;
mod env;
mod secret;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use audit::{AuditConfig, AuditSink, DEFAULT_MAX_EVENTS, KafkaAuditSink};
pub use coordination::{CoordinationConfig, DEFAULT_PARTITIONS};
pub use env::{BadReference, UnreadableFile, UnsetVariable};
pub use secret::{Redactor, Secret, is_sensitive_property};

use crate::time::HumanDuration;

/// The whole of `ebb.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory of `*.yaml` runbooks, relative to this file. Default `./runbooks`.
    #[serde(default = "default_runbooks")]
    pub runbooks: PathBuf,
    /// Directory of the sled history store, relative to this file. Default `./.ebb`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Where runbooks' `from_file` reads; relative paths resolve here.
    /// Relative to this file. Default `<data_dir>/files`.
    #[serde(default)]
    pub files_dir: Option<PathBuf>,
    /// Where runbooks' `download` writes; relative paths resolve here.
    /// Relative to this file. Default `<data_dir>/downloads`.
    #[serde(default)]
    pub downloads_dir: Option<PathBuf>,
    /// Further directories that `from_file` and `download` may name by
    /// absolute path. Nothing under /proc, /sys or /dev is ever used.
    #[serde(default)]
    pub allow_paths: Vec<PathBuf>,
    /// How long runs stay in history.
    #[serde(default)]
    pub history: HistoryConfig,
    /// Named connection targets that runbooks refer to by name.
    #[serde(default)]
    pub clusters: BTreeMap<String, ClusterConfig>,
    /// The daemon's HTTP listener and API tokens.
    #[serde(default)]
    pub daemon: Option<DaemonConfig>,
    /// Named notification targets for runbook `notify` entries and steps.
    #[serde(default)]
    pub notify: BTreeMap<String, NotifyTarget>,
    /// Every run's state changes as CloudEvents, delivered to these sinks.
    #[serde(default)]
    pub audit: Option<AuditConfig>,
    /// Several daemons as one deployment, coordinated through a Kafka
    /// cluster (docs/HA.md). Absent: one daemon on its own store.
    #[serde(default)]
    pub coordination: Option<CoordinationConfig>,
}

fn default_runbooks() -> PathBuf {
    PathBuf::from("runbooks")
}

fn default_data_dir() -> PathBuf {
    PathBuf::from(".ebb")
}

/// Retention of run history (SPEC §5): runs older than `max_age`, each
/// runbook's applies beyond the newest `max_runs` and its plan-only runs
/// beyond the newest `max_plans`, are deleted when ebb opens the store and
/// periodically while the daemon runs. Never deleted: a run still going, and
/// the newest apply that reset each group (its snapshot is what a rollback
/// restores). Plans never push applies out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Default `90d`.
    #[serde(default = "default_max_age")]
    pub max_age: HumanDuration,
    /// Applies (and rollbacks) kept per runbook; default 1000.
    #[serde(default = "default_max_runs")]
    pub max_runs: u64,
    /// Plan-only runs kept per runbook; default 200.
    #[serde(default = "default_max_plans")]
    pub max_plans: u64,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig { max_age: default_max_age(), max_runs: default_max_runs(), max_plans: default_max_plans() }
    }
}

fn default_max_plans() -> u64 {
    200
}

fn default_max_age() -> HumanDuration {
    HumanDuration::parse("90d").expect("a valid duration")
}

fn default_max_runs() -> u64 {
    1000
}

/// One cluster: exactly one provider key.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ClusterKeys")]
pub enum ClusterConfig {
    /// Apache Kafka over its native protocol.
    Kafka(KafkaClusterConfig),
    /// Tencent Cloud CKafka through the Tencent Cloud API 3.0.
    Ckafka(CkafkaClusterConfig),
    /// Huawei Cloud DMS for Kafka through its REST v2 API.
    Dms(DmsClusterConfig),
}

impl ClusterConfig {
    /// The `type:` it is written with in ebb.yaml.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ClusterConfig::Kafka(_) => "kafka",
            ClusterConfig::Ckafka(_) => "ckafka",
            ClusterConfig::Dms(_) => "dms",
        }
    }
}

/// The YAML form of a cluster, a map with one provider key; serde_yaml would
/// otherwise want an enum written as a `!tag`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterKeys {
    #[serde(default)]
    kafka: Option<KafkaClusterConfig>,
    #[serde(default)]
    ckafka: Option<CkafkaClusterConfig>,
    #[serde(default)]
    dms: Option<DmsClusterConfig>,
}

impl TryFrom<ClusterKeys> for ClusterConfig {
    type Error = String;

    fn try_from(keys: ClusterKeys) -> Result<Self, String> {
        match (keys.kafka, keys.ckafka, keys.dms) {
            (Some(k), None, None) => Ok(ClusterConfig::Kafka(k)),
            (None, Some(c), None) => Ok(ClusterConfig::Ckafka(c)),
            (None, None, Some(d)) => Ok(ClusterConfig::Dms(d)),
            (None, None, None) => Err("a cluster needs one provider key: kafka, ckafka or dms".to_owned()),
            _ => Err("a cluster has exactly one provider key: kafka, ckafka or dms, not several".to_owned()),
        }
    }
}

impl ClusterConfig {
    pub fn provider_name(&self) -> &'static str {
        match self {
            ClusterConfig::Kafka(_) => "kafka",
            ClusterConfig::Ckafka(_) => "ckafka",
            ClusterConfig::Dms(_) => "dms",
        }
    }
}

/// Native Kafka connection settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaClusterConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// Passed to librdkafka verbatim (librdkafka property names), e.g. `security.protocol`.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Upper bound for each request to the cluster, including the first connection. Default 10s.
    #[serde(default = "default_kafka_timeout")]
    pub timeout: HumanDuration,
    /// What `${file:}` references in this cluster's settings read: redacted
    /// from everything ebb prints, whichever setting held them.
    #[serde(skip)]
    pub from_files: Vec<String>,
}

fn default_kafka_timeout() -> HumanDuration {
    HumanDuration::parse("10s").expect("a valid literal")
}

impl KafkaClusterConfig {
    /// Every value in this cluster's settings that must never be printed.
    pub fn redactor(&self) -> Redactor {
        let sensitive = self.properties.iter().filter(|(k, _)| is_sensitive_property(k)).map(|(_, v)| v.clone());
        Redactor::new(sensitive.chain(self.from_files.iter().cloned()))
    }
}

/// Tencent Cloud CKafka settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CkafkaClusterConfig {
    /// Region, e.g. `ap-guangzhou`.
    pub region: String,
    /// The CKafka instance, e.g. `ckafka-abc`.
    pub instance_id: String,
    /// API SecretId.
    pub secret_id: Secret,
    /// API SecretKey.
    pub secret_key: Secret,
    /// Optional session token (`X-TC-Token`).
    #[serde(default)]
    pub token: Option<Secret>,
    /// API endpoint; default `https://ckafka.tencentcloudapi.com`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Upper bound for one API call, retries of throttled calls included. Default 30s.
    #[serde(default = "default_cloud_timeout")]
    pub timeout: HumanDuration,
}

fn default_cloud_timeout() -> HumanDuration {
    HumanDuration::parse("30s").expect("a valid literal")
}

/// Huawei Cloud DMS for Kafka settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmsClusterConfig {
    /// API endpoint, e.g. `https://dms.cn-north-4.myhuaweicloud.com`.
    pub endpoint: String,
    /// Project id.
    pub project_id: String,
    /// DMS Kafka instance id.
    pub instance_id: String,
    /// Access key (AK).
    pub access_key: Secret,
    /// Secret key (SK).
    pub secret_key: Secret,
    /// Upper bound for one API call, retries of throttled calls included. Default 30s.
    #[serde(default = "default_cloud_timeout")]
    pub timeout: HumanDuration,
}

/// The daemon's listener and tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Address to bind; default `127.0.0.1:8480`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer tokens and their roles.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// On SIGTERM/SIGINT, how long running steps get to finish; default 30s.
    #[serde(default)]
    pub grace: Option<crate::time::HumanDuration>,
    /// Serve the API over HTTPS with this certificate and key.
    #[serde(default)]
    pub tls: Option<DaemonTlsConfig>,
    /// Serve plain HTTP on an address other than loopback (tokens then cross
    /// the network in clear). Default false: such a daemon refuses to start.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// How long a connection may take to send a request's headers, counted
    /// from when it connects or its previous answer; also bounds reading a
    /// body. A connection that says nothing is closed then. Default 10s.
    #[serde(default = "default_header_timeout")]
    pub header_timeout: HumanDuration,
    /// Connections served at once; one more is closed at once. Default 512.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// The web console at `/ui`.
    #[serde(default)]
    pub console: ConsoleConfig,
}

/// The web console (docs/CONSOLE.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve it; default true. Off, `/ui` answers 404.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How long a login lasts; default 8h.
    #[serde(default = "default_session")]
    pub session: HumanDuration,
}

fn default_true() -> bool {
    true
}

fn default_session() -> HumanDuration {
    HumanDuration::parse("8h").expect("a valid literal")
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig { enabled: true, session: default_session() }
    }
}

fn default_header_timeout() -> HumanDuration {
    HumanDuration::parse("10s").expect("a valid literal")
}

fn default_max_connections() -> usize {
    512
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            listen: default_listen(),
            tokens: Vec::new(),
            grace: None,
            tls: None,
            allow_plain_http: false,
            header_timeout: default_header_timeout(),
            max_connections: default_max_connections(),
            console: ConsoleConfig::default(),
        }
    }
}

/// The daemon's TLS certificate and key (PEM files, relative to ebb.yaml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonTlsConfig {
    /// The certificate chain, the daemon's own certificate first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The CA that the CLI trusts when it talks to this daemon; default: the
    /// certificates in `cert` (right for a self-signed one) and the system's roots.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

fn default_listen() -> String {
    "127.0.0.1:8480".to_owned()
}

/// One API token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it, for logs and history.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The bearer token itself.
    pub token: Secret,
}

/// API roles, each allowed everything the ones before it are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read runbooks, runs and plans.
    Viewer,
    /// Also run, roll back, pause and resume.
    Operator,
    /// Everything.
    Admin,
}

/// A notification target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyTarget {
    /// POST a JSON body to a URL.
    pub webhook: WebhookConfig,
}

/// A webhook; its URL is treated as a secret because chat webhooks embed their token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST; a secret, since chat webhooks carry their token in the URL.
    pub url: Secret,
}

/// `ebb.yaml` as loaded: the file it came from and its content.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub path: PathBuf,
    pub config: Config,
    /// `${VAR}` and `${file:}` references in the sections a command may not
    /// use (a cluster, a notify target, the daemon) that could not be
    /// resolved: an error only for the command that uses that section.
    pub deferred: Deferred,
}

/// References left unresolved until a command uses their section.
#[derive(Debug, Clone, Default)]
pub struct Deferred {
    pub unset: Vec<UnsetVariable>,
    pub unreadable: Vec<UnreadableFile>,
}

/// The sections resolved only when used: each cluster, each notify target, the daemon.
const LAZY_SECTIONS: [&str; 3] = ["clusters.", "notify.", "daemon."];

impl LoadedConfig {
    /// Fails if a reference under `section` (a dotted key prefix such as
    /// `clusters.local.`) could not be resolved; `""` requires every section.
    pub fn require(&self, section: &str) -> Result<(), ConfigError> {
        let unset: Vec<UnsetVariable> =
            self.deferred.unset.iter().filter(|u| u.key.starts_with(section)).cloned().collect();
        if !unset.is_empty() {
            return Err(ConfigError::UnsetVariables { path: self.path.clone(), unset });
        }
        let unreadable: Vec<UnreadableFile> =
            self.deferred.unreadable.iter().filter(|u| u.key.starts_with(section)).cloned().collect();
        if !unreadable.is_empty() {
            return Err(ConfigError::UnreadableFiles { path: self.path.clone(), unreadable });
        }
        Ok(())
    }

    /// The named cluster, or an error listing the ones that exist, or naming
    /// a variable its settings need that is not set.
    pub fn cluster(&self, name: &str) -> Result<&ClusterConfig, ConfigError> {
        self.require(&format!("clusters.{name}."))?;
        self.config.clusters.get(name).ok_or_else(|| ConfigError::UnknownCluster {
            path: self.path.clone(),
            name: name.to_owned(),
            known: self.config.clusters.keys().cloned().collect(),
        })
    }

    /// The cluster to use when none is named: the only one, or an error.
    pub fn default_cluster(&self) -> Result<(&str, &ClusterConfig), ConfigError> {
        let mut clusters = self.config.clusters.iter();
        match (clusters.next(), clusters.next()) {
            (Some((name, cluster)), None) => {
                self.require(&format!("clusters.{name}."))?;
                Ok((name, cluster))
            }
            _ => Err(ConfigError::ClusterNotChosen {
                path: self.path.clone(),
                known: self.config.clusters.keys().cloned().collect(),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no ebb.yaml found: pass --config FILE, set EBB_CONFIG, or create ./ebb.yaml")]
    NotFound,
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: {}", describe_unset(.unset))]
    UnsetVariables { path: PathBuf, unset: Vec<UnsetVariable> },
    #[error("{path}: {}", describe_unreadable(.unreadable))]
    UnreadableFiles { path: PathBuf, unreadable: Vec<UnreadableFile> },
    #[error("{path}: {}", describe_malformed(.malformed))]
    MalformedReference { path: PathBuf, malformed: Vec<BadReference> },
    #[error("{path}: no cluster named {name:?} (clusters: {})", list(.known))]
    UnknownCluster { path: PathBuf, name: String, known: Vec<String> },
    #[error("{path}: name a cluster with --cluster (clusters: {})", list(.known))]
    ClusterNotChosen { path: PathBuf, known: Vec<String> },
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none defined".to_owned() } else { names.join(", ") }
}

fn describe_unset(unset: &[UnsetVariable]) -> String {
    let parts: Vec<String> =
        unset.iter().map(|u| format!("environment variable {} is not set (used by {})", u.variable, u.key)).collect();
    parts.join("; ")
}

fn describe_unreadable(unreadable: &[UnreadableFile]) -> String {
    let parts: Vec<String> = unreadable
        .iter()
        .map(|u| format!("cannot read {} (used by {}): {}", u.path.display(), u.key, u.reason))
        .collect();
    parts.join("; ")
}

fn describe_malformed(bad: &[BadReference]) -> String {
    let parts: Vec<String> = bad
        .iter()
        .map(|b| {
            format!("{} in {} is not a variable reference (write ${{NAME}}, or $${{ for a literal)", b.text, b.key)
        })
        .collect();
    parts.join("; ")
}

/// Finds `ebb.yaml`: the explicit path, then `$EBB_CONFIG`, then `./ebb.yaml`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("EBB_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let default = PathBuf::from("ebb.yaml");
    if default.exists() { Ok(default) } else { Err(ConfigError::NotFound) }
}

/// Reads and expands `ebb.yaml` with the process environment.
pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let path = locate(explicit)?;
    let text = crate::bounded_read::read_text(&path, crate::bounded_read::CONFIG_FILE_LIMIT)
        .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    parse(&path, &text, &|name| std::env::var(name).ok())
}

/// Reads `ebb.yaml` for what validation needs — cluster names, providers and
/// notification targets — without requiring its `${VAR}`s to be set, so runbooks
/// can be validated where the secrets are not (an editor, CI). Unset variables
/// stay as written; nothing loaded this way may be used to connect.
pub fn load_for_validation(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let path = locate(explicit)?;
    let text = crate::bounded_read::read_text(&path, crate::bounded_read::CONFIG_FILE_LIMIT)
        .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let variables = |name: &str| Some(std::env::var(name).unwrap_or_else(|_| format!("${{{name}}}")));
    parse_from(&path, &text, env::Sources { variables: &variables, files: env::Files::Keep })
}

/// Parses `ebb.yaml` text; `lookup` supplies environment variables, and
/// `${file:PATH}` reads files relative to the folder of `path`.
pub fn parse(path: &Path, text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<LoadedConfig, ConfigError> {
    parse_from(path, text, env::Sources { variables: lookup, files: env::Files::ReadFrom(folder_of(path)) })
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn parse_from(path: &Path, text: &str, sources: env::Sources<'_>) -> Result<LoadedConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.to_path_buf(), message };
    // Shape first, on the text itself, so that every error names its line and column.
    serde_yaml::from_str::<Config>(text).map_err(|e| invalid(e.to_string()))?;
    let mut tree: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let expansion = env::expand_tree(&mut tree, sources);
    if !expansion.malformed.is_empty() {
        return Err(ConfigError::MalformedReference { path: path.to_path_buf(), malformed: expansion.malformed });
    }
    let lazy = |key: &str| LAZY_SECTIONS.iter().any(|section| key.starts_with(section));
    let (deferred_unset, unset): (Vec<UnsetVariable>, Vec<UnsetVariable>) =
        expansion.unset.into_iter().partition(|u| lazy(&u.key));
    if !unset.is_empty() {
        return Err(ConfigError::UnsetVariables { path: path.to_path_buf(), unset });
    }
    let (deferred_unreadable, unreadable): (Vec<UnreadableFile>, Vec<UnreadableFile>) =
        expansion.unreadable.into_iter().partition(|u| lazy(&u.key));
    if !unreadable.is_empty() {
        return Err(ConfigError::UnreadableFiles { path: path.to_path_buf(), unreadable });
    }
    let deferred = Deferred { unset: deferred_unset, unreadable: deferred_unreadable };
    let mut config: Config = serde_yaml::from_value(tree).map_err(|e| invalid(e.to_string()))?;
    for (name, cluster) in &mut config.clusters {
        if let ClusterConfig::Kafka(kafka) = cluster {
            let prefix = format!("clusters.{name}.");
            kafka.from_files = expansion
                .from_files
                .iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .map(|(_, v)| v.clone())
                .collect();
        }
    }
    let base = folder_of(path);
    // `components()` drops the `.` in `dir/./runbooks`, so paths print cleanly.
    config.runbooks = base.join(&config.runbooks).components().collect();
    config.data_dir = base.join(&config.data_dir).components().collect();
    // Absolute, so that a runbook's absolute path can be checked against them.
    let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
    config.files_dir =
        Some(absolute(config.files_dir.map_or_else(|| config.data_dir.join("files"), |dir| base.join(dir))));
    config.downloads_dir =
        Some(absolute(config.downloads_dir.map_or_else(|| config.data_dir.join("downloads"), |dir| base.join(dir))));
    config.allow_paths = config.allow_paths.iter().map(|dir| absolute(base.join(dir).components().collect())).collect();
    if let Some(tls) = config.daemon.as_mut().and_then(|d| d.tls.as_mut()) {
        tls.cert = base.join(&tls.cert).components().collect();
        tls.key = base.join(&tls.key).components().collect();
        tls.ca = tls.ca.as_ref().map(|ca| base.join(ca).components().collect());
    }
    let clusters: Vec<(&str, bool)> =
        config.clusters.iter().map(|(name, c)| (name.as_str(), matches!(c, ClusterConfig::Kafka(_)))).collect();
    let mut problems = config.audit.as_ref().map(|audit| audit.problems(&clusters)).unwrap_or_default();
    problems.extend(config.coordination.as_ref().map(|c| c.problems(&clusters)).unwrap_or_default());
    if !problems.is_empty() {
        return Err(invalid(problems.join("; ")));
    }
    Ok(LoadedConfig { path: path.to_path_buf(), config, deferred })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_and_multiplying_aliases_are_refused_without_a_crash() {
        let no_variables = |_: &str| None;
        let deep = format!("{}1\n", "- ".repeat(100_000));
        let e = parse(Path::new("ebb.yaml"), &deep, &no_variables).unwrap_err();
        assert!(e.to_string().contains("expected struct Config"), "{e}");
        let deep_value = format!("daemon:\n  listen:\n{}1\n", "  - ".repeat(100_000));
        let e = parse(Path::new("ebb.yaml"), &deep_value, &no_variables).unwrap_err();
        assert!(e.to_string().starts_with("ebb.yaml: "), "{e}");
        let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            laughs.push_str(&format!("a{level}: &a{level} [{}]\n", vec![format!("*a{}", level - 1); 10].join(", ")));
        }
        let e = parse(Path::new("ebb.yaml"), &laughs, &no_variables).unwrap_err();
        assert!(e.to_string().starts_with("ebb.yaml: "), "{e}");
    }

    const FULL: &str = r#"
runbooks: ./runbooks
data_dir: ./.ebb
history: { max_age: 30d, max_runs: 200 }
clusters:
  local:
    kafka:
      bootstrap_servers: 127.0.0.1:9092
      timeout: 5s
      properties:
        security.protocol: SASL_SSL
        sasl.password: ${KAFKA_PASSWORD}
  tencent:
    ckafka: { region: ap-guangzhou, instance_id: ckafka-abc,
              secret_id: "${TC_ID}", secret_key: "${TC_KEY}" }
  huawei:
    dms: { endpoint: "https://dms.example", project_id: p, instance_id: i,
           access_key: "${HW_AK}", secret_key: "${HW_SK}" }
daemon:
  listen: 127.0.0.1:8480
  tokens:
    - { name: ci, role: operator, token: "${TOKEN}" }
notify:
  ops-chat: { webhook: { url: "${HOOK}" } }
"#;

    fn env(name: &str) -> Option<String> {
        Some(format!("value-of-{name}"))
    }

    #[test]
    fn the_spec_example_loads_with_every_provider() {
        let loaded = parse(Path::new("conf/ebb.yaml"), FULL, &env).unwrap();
        let c = &loaded.config;
        assert_eq!(c.runbooks, Path::new("conf/runbooks"));
        assert_eq!((c.history.max_age.text.as_str(), c.history.max_runs), ("30d", 200));
        let ClusterConfig::Kafka(k) = &c.clusters["local"] else { panic!("kafka") };
        assert_eq!(k.properties["sasl.password"], "value-of-KAFKA_PASSWORD");
        assert_eq!(k.timeout.duration.as_secs(), 5);
        assert_eq!(k.redactor().redact("x value-of-KAFKA_PASSWORD y"), "x *** y");
        let ClusterConfig::Ckafka(t) = &c.clusters["tencent"] else { panic!("ckafka") };
        assert_eq!(t.secret_key.expose(), "value-of-TC_KEY");
        assert!(!format!("{c:?}").contains("value-of-TC_KEY"), "Debug must redact secrets");
        assert!(matches!(c.clusters["huawei"], ClusterConfig::Dms(_)));
        assert_eq!(c.daemon.as_ref().unwrap().tokens[0].role, Role::Operator);
    }

    #[test]
    fn an_unset_variable_is_named_with_its_key_by_the_command_that_uses_it() {
        let loaded = parse(Path::new("ebb.yaml"), FULL, &|n| (n != "KAFKA_PASSWORD").then(|| "x".to_owned())).unwrap();
        let text = loaded.cluster("local").unwrap_err().to_string();
        assert!(text.contains("KAFKA_PASSWORD is not set"), "{text}");
        assert!(text.contains("clusters.local.kafka.properties.sasl.password"), "{text}");
        assert!(loaded.cluster("tencent").is_ok(), "another cluster does not need it");
        assert!(loaded.require("daemon.").is_ok() && loaded.require("").is_err());
    }

    #[test]
    fn only_the_lazy_sections_wait_for_their_command() {
        let text = "data_dir: ${EBB_NOPE_DIR}\nclusters: {}\n";
        let err = parse(Path::new("ebb.yaml"), text, &|_| None).unwrap_err().to_string();
        assert!(err.contains("EBB_NOPE_DIR is not set") && err.contains("data_dir"), "{err}");
        let tokens =
            "clusters: {}\ndaemon:\n  tokens:\n    - { name: me, role: operator, token: \"${EBB_TOKEN_ME}\" }\n";
        let loaded = parse(Path::new("ebb.yaml"), tokens, &|_| None).expect("loads: no command here uses the daemon");
        assert!(loaded.require("daemon.tokens").unwrap_err().to_string().contains("EBB_TOKEN_ME"));
    }

    #[test]
    fn unknown_keys_are_errors_with_a_location() {
        let text = "clusters:\n  local:\n    kafka:\n      bootstrap_servers: x\n      bootstrap: y\n";
        let err = parse(Path::new("ebb.yaml"), text, &env).unwrap_err().to_string();
        assert!(err.contains("unknown field `bootstrap`"), "{err}");
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn a_cluster_needs_exactly_one_provider() {
        let text = "clusters:\n  local:\n    redis: {}\n";
        let err = parse(Path::new("ebb.yaml"), text, &env).unwrap_err().to_string();
        assert!(err.contains("unknown field `redis`"), "{err}");
        let text = "clusters:\n  local:\n    kafka: {bootstrap_servers: x}\n    dms: {endpoint: e, project_id: p, instance_id: i, access_key: a, secret_key: s}\n";
        let err = parse(Path::new("ebb.yaml"), text, &env).unwrap_err().to_string();
        assert!(err.contains("exactly one provider key"), "{err}");
    }

    #[test]
    fn unknown_cluster_lists_the_known_ones() {
        let loaded = parse(Path::new("ebb.yaml"), FULL, &env).unwrap();
        let err = loaded.cluster("nope").unwrap_err().to_string();
        assert!(err.contains("huawei, local, tencent"), "{err}");
    }
}
