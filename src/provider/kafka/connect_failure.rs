//! Why a broker refused ebb's connection, told apart so that the error says
//! what to fix: a wrong user name or password, a certificate from a CA ebb does
//! not trust, a certificate for another host, a client certificate the broker
//! wants, or a client and listener that disagree on TLS or SASL.
//!
//! librdkafka reports an untrusted CA and a certificate for another host with
//! the same words ("certificate verify failed"); the provider tells them apart
//! by trying again without the host check (`Inner::judge` in first_connection.rs).

use std::fmt;

/// A refused connection, as an operator would name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// SASL authentication failed: the broker does not know this user and password.
    WrongCredentials { mechanism: Option<String> },
    /// The broker's certificate does not chain to a CA ebb trusts.
    UnknownCertificateAuthority,
    /// The broker's certificate is trusted but made out for another host name.
    CertificateForAnotherHost,
    /// Not yet told apart: one of the two above (see the module's note).
    CertificateNotVerified,
    /// The listener wants a client certificate (mutual TLS) and got none it accepts.
    ClientCertificateRefused,
    /// ebb spoke TLS to a listener that does not.
    ListenerNotTls,
    /// ebb spoke plain Kafka to a listener that answered in TLS.
    ListenerWantsTls,
    /// The broker closed the connection without answering plain Kafka: its
    /// listener expects SASL or TLS first.
    ClosedWithoutAnswer,
    /// The SASL mechanism ebb asked for is not enabled on the listener.
    MechanismNotEnabled { mechanism: Option<String> },
    /// Another TLS failure, in librdkafka's words.
    Tls { detail: String },
}

impl ConnectFailure {
    /// Whether this cause is certain the moment it is seen. A wrong password,
    /// an unverified certificate or a refused client certificate is; a
    /// connection closed during the handshake may also be a broker restarting,
    /// so it only names the cause if nothing better comes by the deadline.
    pub fn is_definite(&self) -> bool {
        matches!(
            self,
            ConnectFailure::WrongCredentials { .. }
                | ConnectFailure::CertificateNotVerified
                | ConnectFailure::UnknownCertificateAuthority
                | ConnectFailure::CertificateForAnotherHost
                | ConnectFailure::ClientCertificateRefused
                | ConnectFailure::MechanismNotEnabled { .. }
                | ConnectFailure::ListenerWantsTls
        )
    }

    /// Reads librdkafka's reason for a failed connection; `None` when it is not
    /// one of these (a refused port, a broker gone: those are time-outs and
    /// unreachable brokers, and are retried).
    pub fn from_librdkafka(reason: &str) -> Option<Self> {
        let text = reason.to_ascii_lowercase();
        if text.contains("sasl authentication error") || text.contains("invalid credentials") {
            return Some(ConnectFailure::WrongCredentials { mechanism: mechanism_in(reason) });
        }
        if text.contains("unsupported sasl mechanism")
            || text.contains("sasl mechanism") && text.contains("not supported")
        {
            return Some(ConnectFailure::MechanismNotEnabled { mechanism: mechanism_in(reason) });
        }
        if text.contains("certificate verify failed") {
            return Some(ConnectFailure::CertificateNotVerified);
        }
        if text.contains("alert bad certificate")
            || text.contains("alert certificate required")
            || text.contains("alert number 42")
            || text.contains("alert number 116")
        {
            return Some(ConnectFailure::ClientCertificateRefused);
        }
        if text.contains("connecting to a plaintext broker listener") {
            return Some(ConnectFailure::ListenerNotTls);
        }
        if text.contains("ssl handshake failed") || text.contains("ssl routines") {
            return Some(ConnectFailure::Tls { detail: without_location(reason) });
        }
        None
    }
}

/// `SCRAM-SHA-256` and the like, where the reason names one.
fn mechanism_in(reason: &str) -> Option<String> {
    ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "OAUTHBEARER", "GSSAPI"]
        .into_iter()
        .find(|m| reason.contains(&format!("mechanism {m}")) || reason.contains(&format!("mechanism: {m}")))
        .map(str::to_owned)
}

/// librdkafka's reason without its `ssl://host:port/bootstrap: ` prefix.
fn without_location(reason: &str) -> String {
    let text = reason.rsplit_once("/bootstrap: ").map_or(reason, |(_, rest)| rest);
    text.split(" (after ").next().unwrap_or(text).to_owned()
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectFailure::WrongCredentials { mechanism } => {
                write!(f, "wrong user name or password: the broker refused SASL authentication")?;
                match mechanism {
                    Some(m) => write!(f, " with {m} (check sasl.username and sasl.password)"),
                    None => write!(f, " (check sasl.username, sasl.password and sasl.mechanism)"),
                }
            }
            ConnectFailure::UnknownCertificateAuthority => f.write_str(
                "unknown certificate authority: the broker's certificate is not signed by a CA ebb trusts \
                 (set ssl.ca.location to the CA that signed it)",
            ),
            ConnectFailure::CertificateForAnotherHost => f.write_str(
                "certificate for the wrong host: the broker's certificate is signed by a trusted CA but does \
                 not name the host ebb connected to (use the name in the certificate in bootstrap_servers)",
            ),
            ConnectFailure::CertificateNotVerified => f.write_str(
                "the broker's certificate could not be verified: unknown CA or wrong host name \
                 (check ssl.ca.location and the host in bootstrap_servers)",
            ),
            ConnectFailure::ClientCertificateRefused => f.write_str(
                "client certificate refused: the listener requires mutual TLS and did not accept ebb's \
                 certificate (set ssl.certificate.location and ssl.key.location)",
            ),
            ConnectFailure::ListenerNotTls => f.write_str(
                "TLS to a plaintext listener: security.protocol asks for TLS but the listener does not speak it \
                 (use PLAINTEXT or SASL_PLAINTEXT, or the broker's TLS port)",
            ),
            ConnectFailure::ListenerWantsTls => f.write_str(
                "plaintext client on a TLS listener: the broker answered in TLS \
                 (set security.protocol to SSL or SASL_SSL)",
            ),
            ConnectFailure::ClosedWithoutAnswer => f.write_str(
                "the broker closed the connection without answering: its listener expects SASL or TLS \
                 (set security.protocol to SASL_PLAINTEXT, SSL or SASL_SSL)",
            ),
            ConnectFailure::MechanismNotEnabled { mechanism } => write!(
                f,
                "SASL mechanism {} is not enabled on this listener (check sasl.mechanism)",
                mechanism.as_deref().unwrap_or("(as configured)")
            ),
            ConnectFailure::Tls { detail } => write!(f, "TLS failure: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reasons as librdkafka 2.12 gives them against Apache Kafka 4.1.
    const WRONG_PASSWORD: &str = "sasl_plaintext://127.0.0.1:21486/bootstrap: SASL authentication error: \
        Authentication failed during authentication due to invalid credentials with SASL mechanism \
        SCRAM-SHA-512 (after 337ms in state AUTH_REQ)";
    const NOT_VERIFIED: &str = "ssl://127.0.0.1:26559/bootstrap: SSL handshake failed: error:0A000086:SSL \
        routines::certificate verify failed: broker certificate could not be verified, verify that \
        ssl.ca.location is correctly configured or root CA certificates are installed (install \
        ca-certificates package) (after 9ms in state SSL_HANDSHAKE)";
    const NO_CLIENT_CERT: &str = "ssl://127.0.0.1:27445/bootstrap: Receive failed: error:0A000412:SSL \
        routines::sslv3 alert bad certificate: SSL alert number 42 (after 1ms in state APIVERSION_QUERY)";
    const TLS_TO_PLAINTEXT: &str = "ssl://127.0.0.1:14569/bootstrap: SSL handshake failed: Disconnected: SSL \
        connection closed by peer: connecting to a PLAINTEXT broker listener? (after 1ms in state SSL_HANDSHAKE)";

    #[test]
    fn librdkafka_reasons_are_named() {
        assert_eq!(
            ConnectFailure::from_librdkafka(WRONG_PASSWORD),
            Some(ConnectFailure::WrongCredentials { mechanism: Some("SCRAM-SHA-512".into()) })
        );
        assert_eq!(ConnectFailure::from_librdkafka(NOT_VERIFIED), Some(ConnectFailure::CertificateNotVerified));
        assert_eq!(ConnectFailure::from_librdkafka(NO_CLIENT_CERT), Some(ConnectFailure::ClientCertificateRefused));
        assert_eq!(ConnectFailure::from_librdkafka(TLS_TO_PLAINTEXT), Some(ConnectFailure::ListenerNotTls));
        let refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
        assert_eq!(ConnectFailure::from_librdkafka(refused), None);
        assert!(ConnectFailure::from_librdkafka(WRONG_PASSWORD).unwrap().is_definite());
        // A handshake closed by the peer may be a broker restarting: only a hint.
        assert!(!ConnectFailure::from_librdkafka(TLS_TO_PLAINTEXT).unwrap().is_definite());
    }

    #[test]
    fn other_tls_failures_keep_librdkafka_words_without_the_address() {
        let reason = "ssl://h:1/bootstrap: SSL handshake failed: error:0A00010B:SSL routines::wrong version number \
                      (after 2ms in state SSL_HANDSHAKE)";
        let failure = ConnectFailure::from_librdkafka(reason).unwrap();
        assert_eq!(
            failure.to_string(),
            "TLS failure: SSL handshake failed: error:0A00010B:SSL routines::wrong version number"
        );
    }

    #[test]
    fn each_message_says_what_to_fix() {
        let wrong = ConnectFailure::WrongCredentials { mechanism: Some("SCRAM-SHA-256".into()) }.to_string();
        assert!(wrong.contains("wrong user name or password") && wrong.contains("SCRAM-SHA-256"), "{wrong}");
        assert!(ConnectFailure::UnknownCertificateAuthority.to_string().contains("ssl.ca.location"));
        assert!(ConnectFailure::CertificateForAnotherHost.to_string().contains("wrong host"));
        assert!(ConnectFailure::ListenerWantsTls.to_string().contains("SSL or SASL_SSL"));
    }
}
