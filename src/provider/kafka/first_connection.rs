//! The provider's first request proves its connection settings. Until a
//! first answer has come, librdkafka's metadata request is sent in growing
//! slices during the first seconds (where a handshake or login fails), and
//! between slices the client's queue is served, so that the reason librdkafka
//! gives for a refused connection is reported as what it is: at once when it
//! is certain (a failed login, an unverified certificate), at the deadline when
//! it may be passing (a connection closed during the handshake), and never
//! as a bare time-out when librdkafka said why. After the first seconds one
//! request waits for the rest of the timeout, so a slow but healthy cluster
//! is not asked again and again.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;

use super::Inner;
use super::client_context::ReaderContext;
use super::connect_failure::ConnectFailure;
use super::errors::{code_of, is_connectivity};
use crate::provider::{ProviderError, ProviderResult};

/// The first slice of the wait; each next one is twice as long.
const FIRST_SLICE: Duration = Duration::from_millis(200);
/// How long requests are sliced: connecting, TLS and SASL are done by then on
/// any usable network. The rest of the timeout goes to one request.
const SLICED_FOR: Duration = Duration::from_secs(3);
/// The least time given to the second attempt that tells an unknown CA from a wrong host.
const LEAST_JUDGING_TIME: Duration = Duration::from_secs(1);

enum FirstAnswer {
    Metadata(Metadata),
    Refused(ConnectFailure),
    Failed(KafkaError),
}

impl Inner {
    /// Cluster metadata through librdkafka (one topic's, or every topic's).
    pub(super) fn librdkafka_metadata(&self, topic: Option<&str>) -> ProviderResult<Metadata> {
        if self.connected.load(Ordering::Acquire) {
            return self.reader.fetch_metadata(topic, self.timeout.duration).map_err(|e| self.metadata_error(&e));
        }
        let deadline = Instant::now() + self.timeout.duration;
        match first_answer(&self.reader, topic, deadline) {
            FirstAnswer::Metadata(metadata) => {
                self.connected.store(true, Ordering::Release);
                Ok(metadata)
            }
            FirstAnswer::Refused(failure) => Err(self.refused(self.judge(failure, deadline))),
            FirstAnswer::Failed(error) => Err(self.metadata_error(&error)),
        }
    }

    /// The error for a connection the broker refused.
    pub(super) fn refused(&self, failure: ConnectFailure) -> ProviderError {
        ProviderError::Refused {
            cluster: self.cluster.clone(),
            bootstrap: self.redactor.redact(&self.bootstrap),
            problem: self.redactor.redact(&failure.to_string()),
        }
    }

    /// Tells an untrusted CA from a certificate for another host: connects
    /// again with the same settings but without the host check. If the
    /// handshake then passes, the chain was trusted and the name was wrong.
    fn judge(&self, failure: ConnectFailure, deadline: Instant) -> ConnectFailure {
        if failure != ConnectFailure::CertificateNotVerified {
            return failure;
        }
        let mut settings = self.base.clone();
        settings.set("ssl.endpoint.identification.algorithm", "none");
        let Ok(probe) = settings.create_with_context::<_, BaseConsumer<ReaderContext>>(ReaderContext::default()) else {
            return failure;
        };
        let until = deadline.max(Instant::now() + LEAST_JUDGING_TIME);
        match first_answer(&probe, None, until) {
            FirstAnswer::Metadata(_) => ConnectFailure::CertificateForAnotherHost,
            FirstAnswer::Refused(ConnectFailure::CertificateNotVerified) => ConnectFailure::UnknownCertificateAuthority,
            // Past the handshake, refused for something else (a login): the chain was trusted.
            FirstAnswer::Refused(_) => ConnectFailure::CertificateForAnotherHost,
            FirstAnswer::Failed(_) => failure,
        }
    }
}

/// Asks `client` for metadata until `deadline`, in growing slices, looking
/// between them for a reason librdkafka gave for refusing the connection.
fn first_answer(client: &BaseConsumer<ReaderContext>, topic: Option<&str>, deadline: Instant) -> FirstAnswer {
    let sliced_until = Instant::now() + SLICED_FOR;
    let mut slice = FIRST_SLICE;
    let mut hint = None;
    loop {
        let now = Instant::now();
        let left = deadline.saturating_duration_since(now);
        let wait = if now < sliced_until { slice.min(left) } else { left };
        let error = match client.fetch_metadata(topic, wait.max(Duration::from_millis(1))) {
            Ok(metadata) => return FirstAnswer::Metadata(metadata),
            Err(error) => error,
        };
        // librdkafka's reasons arrive as log lines and errors on the client's queue.
        while client.poll(Duration::ZERO).is_some() {}
        let said = client.context().take_connect_failure().and_then(|r| ConnectFailure::from_librdkafka(&r));
        if let Some(failure) = said {
            if failure.is_definite() {
                return FirstAnswer::Refused(failure);
            }
            hint = Some(failure);
        }
        if !code_of(&error).is_some_and(is_connectivity) || Instant::now() >= deadline {
            return match hint {
                Some(failure) => FirstAnswer::Refused(failure),
                None => FirstAnswer::Failed(error),
            };
        }
        slice *= 2;
    }
}
