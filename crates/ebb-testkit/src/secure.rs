//! The secured listeners of the shared test broker (`scripts/kafka start
//! --secure`): where each listens, the test certificates, and the SCRAM user.
//! A broker reused through `EBB_TEST_BOOTSTRAP` needs `EBB_TEST_SECURE_ENV`,
//! the path of the `secure.env` its start wrote.

use std::collections::HashMap;
use std::path::PathBuf;

use super::broker::TestCluster;

pub struct SecureListeners {
    /// Where `scripts/tls-certs` wrote the certificates.
    pub tls_dir: PathBuf,
    /// A SCRAM-SHA-256 and SCRAM-SHA-512 user, also accepted by PLAIN.
    pub user: String,
    /// Its password: random for each broker start.
    pub password: String,
    pub sasl_plaintext: String,
    pub ssl: String,
    pub sasl_ssl: String,
    /// SSL, with client certificates required.
    pub mtls: String,
    /// SSL, serving a CA-signed certificate for another host name.
    pub wrong_host: String,
}

impl SecureListeners {
    pub fn of(cluster: &TestCluster) -> Self {
        let file = match (&cluster.dir, std::env::var_os("EBB_TEST_SECURE_ENV")) {
            (_, Some(file)) => PathBuf::from(file),
            (Some(dir), None) => dir.join("secure.env"),
            (None, None) => panic!(
                "these tests need the broker's secured listeners: set EBB_TEST_SECURE_ENV to the secure.env \
                 that `scripts/kafka start --secure` wrote, or unset EBB_TEST_BOOTSTRAP"
            ),
        };
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {} (was the broker started with --secure?): {e}", file.display()));
        let values: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let get = |name: &str| {
            values
                .get(format!("EBB_SECURE_{name}").as_str())
                .unwrap_or_else(|| panic!("{} lacks EBB_SECURE_{name}", file.display()))
                .to_string()
        };
        SecureListeners {
            tls_dir: PathBuf::from(get("TLS_DIR")),
            user: get("USER"),
            password: get("PASSWORD"),
            sasl_plaintext: get("SASL_PLAINTEXT"),
            ssl: get("SSL"),
            sasl_ssl: get("SASL_SSL"),
            mtls: get("MTLS"),
            wrong_host: get("WRONG_HOST"),
        }
    }

    /// A file of the test certificates: `ca.crt`, `other-ca.crt`, `client.crt`, `client.key`…
    pub fn cert(&self, name: &str) -> PathBuf {
        self.tls_dir.join(name)
    }
}
