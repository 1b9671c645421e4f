//! The daemon's API over TLS, with real HTTPS requests: the certificate and
//! key from `daemon.tls`, no plain HTTP on the same port, the CLI reaching the
//! daemon over HTTPS, unusable key files refused by name, and plain HTTP
//! refused on an address other than loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use ebb_testkit::{repo_root, unique};

use crate::daemon_support::{DaemonWorkspace, VIEWER};

/// Certificates from scripts/tls-certs in a folder removed when dropped.
struct Certificates(PathBuf);

impl Certificates {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("ebb-daemon-certs"));
        let status =
            Command::new(repo_root().join("scripts/tls-certs")).arg(&dir).status().expect("run scripts/tls-certs");
        assert!(status.success(), "scripts/tls-certs failed");
        Certificates(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A workspace whose daemon has `tls: { … }` with these fields, each naming
/// a file of freshly made certificates (`cert: server.crt`…).
fn tls_workspace(fields: &[(&str, &str)]) -> (DaemonWorkspace, Certificates) {
    let certificates = Certificates::new();
    let fields: Vec<String> =
        fields.iter().map(|(field, file)| format!("{field}: {}", certificates.file(file).display())).collect();
    let workspace = DaemonWorkspace::with_daemon_settings(&format!("  tls: {{ {} }}\n", fields.join(", ")), "");
    (workspace, certificates)
}

fn client_trusting(ca: Option<&Path>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap();
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_is_served_over_https_and_the_cli_reaches_it() {
    let (workspace, certificates) = tls_workspace(&[("cert", "server.crt"), ("key", "server.key"), ("ca", "ca.crt")]);
    let daemon = workspace.start();
    assert!(daemon.url.starts_with("https://127.0.0.1:"), "{}", daemon.url);

    let trusting = client_trusting(Some(&certificates.file("ca.crt")));
    let health = trusting.get(format!("{}/healthz", daemon.url)).send().await.expect("HTTPS answers");
    assert_eq!(health.status(), 200);
    let runbooks = trusting
        .get(format!("{}/api/v1/runbooks", daemon.url))
        .bearer_auth(VIEWER)
        .send()
        .await
        .expect("HTTPS answers");
    assert_eq!(runbooks.status(), 200);
    let body: serde_json::Value = runbooks.json().await.unwrap();
    assert!(body["runbooks"].is_array(), "{body}");

    // The console's session cookie over TLS is Secure, and __Host- bound to this origin.
    let no_redirects = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(certificates.file("ca.crt")).unwrap()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = no_redirects.post(format!("{}/ui/login", daemon.url)).form(&[("token", VIEWER)]).send().await.unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-ebb_session="), "{cookie}");
    for attribute in ["; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }

    // A client that does not trust the CA is refused the handshake...
    let untrusting = client_trusting(Some(&certificates.file("other-ca.crt")));
    let refused = untrusting.get(format!("{}/healthz", daemon.url)).send().await;
    assert!(refused.is_err(), "a certificate from an unknown CA was accepted");
    // ...and the same port serves no plain HTTP.
    let plain_url = daemon.url.replacen("https://", "http://", 1);
    let plain = client_trusting(None).get(format!("{plain_url}/healthz")).send().await;
    assert!(plain.is_err(), "plain HTTP was answered on the TLS port: {:?}", plain.map(|r| r.status()));

    // The CLI finds the daemon holding the store and asks it over HTTPS.
    let history = workspace.ebb(["history"]).success();
    assert!(history.stderr.contains("through the daemon at https://127.0.0.1:"), "{}", history.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_tls_files_stop_the_daemon_naming_the_file() {
    let (workspace, _certificates) = tls_workspace(&[("cert", "server.crt"), ("key", "absent.key")]);
    workspace.ebb(["daemon"]).code(1).stderr_contains("absent.key").stderr_contains("no usable private key");

    // A key that is not the certificate's.
    let (workspace, _certificates) = tls_workspace(&[("cert", "server.crt"), ("key", "client.key")]);
    workspace.ebb(["daemon"]).code(1).stderr_contains("does not fit the certificate");
}

/// (Allowed with `allow_plain_http`: a unit test of daemon/tls.rs, so that tests never listen beyond loopback.)
#[test]
fn plain_http_beyond_loopback_is_refused() {
    let workspace = DaemonWorkspace::new("");
    workspace
        .ebb(["daemon", "--listen", "0.0.0.0:0"])
        .code(1)
        .stderr_contains("not a loopback address")
        .stderr_contains("daemon.tls");
}

/// Silent clients on the TLS port count against `max_connections` from the
/// moment they connect, before any handshake, and are dropped after the
/// handshake's bound; a client that speaks TLS is served once they are.
#[tokio::test(flavor = "multi_thread")]
async fn silent_tls_clients_count_against_the_connection_cap() {
    let certificates = Certificates::new();
    let settings = format!(
        "  max_connections: 3\n  tls: {{ cert: {}, key: {} }}\n",
        certificates.file("server.crt").display(),
        certificates.file("server.key").display()
    );
    let workspace = DaemonWorkspace::with_daemon_settings(&settings, "");
    let daemon = workspace.start();
    let address = daemon.url.trim_start_matches("https://").to_owned();
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut fourth = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        tokio::io::AsyncReadExt::read(&mut fourth, &mut buffer),
    )
    .await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "a fourth connection was kept past the cap of 3: {read:?}");
    // The daemon's log reaches the test a moment after it is written.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !daemon.log().contains("connection cap is reached") {
        assert!(std::time::Instant::now() < deadline, "the refusal is not logged:\n{}", daemon.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(silent);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let health =
        client_trusting(Some(&certificates.file("ca.crt"))).get(format!("{}/healthz", daemon.url)).send().await;
    assert_eq!(health.expect("served once the silent ones left").status(), 200);
}
