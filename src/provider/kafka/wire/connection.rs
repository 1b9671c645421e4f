//! One TCP connection to one broker, speaking Kafka's request/response
//! framing: a 4-byte size, then the request header and body as the
//! `kafka-protocol` crate encodes them; the answer is a size, the response
//! header (its correlation id checked) and the body, decoded by the same crate.
//! Every connect, write and read is bounded by the cluster's timeout.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use super::malformed::Malformed;

/// A Kafka API at the one version ebb speaks of it.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    pub version: i16,
    /// As librdkafka's statistics name it, so request counts read the same.
    pub name: &'static str,
}

/// Answers larger than this are refused rather than allocated.
const MAX_ANSWER: usize = 256 << 20;

#[derive(Debug)]
pub enum CallError {
    /// Nothing could be sent or received: refused, reset, timed out.
    Io(io::Error),
    Malformed(Malformed),
    /// The answer began with a TLS record: the listener wants TLS.
    AnsweredInTls,
}

impl From<Malformed> for CallError {
    fn from(m: Malformed) -> Self {
        CallError::Malformed(m)
    }
}

pub struct Connection {
    stream: TcpStream,
    client_id: StrBytes,
    next_correlation: i32,
}

impl Connection {
    /// Connects to `address` (`host:port`), trying each address it resolves to.
    pub fn open(address: &str, client_id: &str, timeout: Duration) -> io::Result<Self> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{address} resolves to no address"));
        for candidate in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&candidate, timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(timeout))?;
                    stream.set_write_timeout(Some(timeout))?;
                    stream.set_nodelay(true)?;
                    let client_id = StrBytes::from_string(client_id.to_owned());
                    return Ok(Connection { stream, client_id, next_correlation: 1 });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends one request and returns its decoded answer.
    pub fn call<R: Request>(&mut self, api: Api, request: &R) -> Result<R::Response, CallError> {
        let correlation = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(api.version)
            .with_correlation_id(correlation)
            .with_client_id(Some(self.client_id.clone()));
        let mut frame = BytesMut::new();
        frame.extend_from_slice(&[0; 4]);
        let encoded = header
            .encode(&mut frame, R::header_version(api.version))
            .and_then(|()| request.encode(&mut frame, api.version));
        if let Err(e) = encoded {
            return Err(CallError::Io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())));
        }
        let size = i32::try_from(frame.len() - 4)
            .map_err(|_| CallError::Io(io::Error::new(io::ErrorKind::InvalidInput, "request larger than 2 GiB")))?;
        frame[..4].copy_from_slice(&size.to_be_bytes());
        self.stream.write_all(&frame).map_err(CallError::Io)?;

        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).map_err(CallError::Io)?;
        if is_tls_record(size) {
            return Err(CallError::AnsweredInTls);
        }
        let size = i32::from_be_bytes(size);
        if size < 4 || size as usize > MAX_ANSWER {
            return Err(Malformed(format!("an answer of {size} bytes to {}", api.name)).into());
        }
        let mut answer = vec![0u8; size as usize];
        self.stream.read_exact(&mut answer).map_err(CallError::Io)?;
        let mut answer = Bytes::from(answer);
        let header_version = <R::Response as HeaderVersion>::header_version(api.version);
        let header = ResponseHeader::decode(&mut answer, header_version).map_err(|e| malformed(api, e))?;
        if header.correlation_id != correlation {
            let echoed = header.correlation_id;
            return Err(Malformed(format!("{} answered request {echoed}, not {correlation}", api.name)).into());
        }
        R::Response::decode(&mut answer, api.version).map_err(|e| malformed(api, e))
    }
}

fn malformed(api: Api, error: impl std::fmt::Display) -> CallError {
    CallError::Malformed(Malformed(format!("{}: {error:#}", api.name)))
}

/// Whether four bytes begin a TLS record (an alert or a handshake, TLS 1.x):
/// as a Kafka size they would claim hundreds of megabytes.
fn is_tls_record(head: [u8; 4]) -> bool {
    matches!(head[0], 0x15 | 0x16) && head[1] == 0x03 && head[2] <= 0x04
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiKey, FindCoordinatorRequest, FindCoordinatorResponse};
    use kafka_protocol::protocol::decode_request_header_from_buffer;
    use std::net::TcpListener;

    const FIND: Api = Api { version: 1, name: "FindCoordinator" };

    /// A one-shot server: reads one request, checks its header, answers
    /// `answer(correlation)` as raw bytes.
    fn serve(answer: impl FnOnce(i32) -> Vec<u8> + Send + 'static) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut size = [0u8; 4];
            socket.read_exact(&mut size).unwrap();
            let mut request = vec![0u8; i32::from_be_bytes(size) as usize];
            socket.read_exact(&mut request).unwrap();
            let mut request = Bytes::from(request);
            let header = decode_request_header_from_buffer(&mut request).unwrap();
            assert_eq!(header.request_api_key, ApiKey::FindCoordinator as i16);
            assert_eq!(header.client_id.as_deref(), Some("ebb-test"));
            let body = FindCoordinatorRequest::decode(&mut request, 1).unwrap();
            assert_eq!(body.key.as_str(), "g", "the body follows the header");
            let _ = socket.write_all(&answer(header.correlation_id));
            std::thread::sleep(Duration::from_millis(200));
        });
        address
    }

    fn framed(correlation: i32, response: &FindCoordinatorResponse) -> Vec<u8> {
        let mut body = BytesMut::new();
        ResponseHeader::default().with_correlation_id(correlation).encode(&mut body, 0).unwrap();
        response.encode(&mut body, 1).unwrap();
        [&(body.len() as i32).to_be_bytes()[..], &body].concat()
    }

    fn request() -> FindCoordinatorRequest {
        FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g"))
    }

    #[test]
    fn a_call_returns_the_decoded_answer() {
        let address = serve(|c| framed(c, &FindCoordinatorResponse::default().with_node_id(7.into())));
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert_eq!(connection.call(FIND, &request()).unwrap().node_id.0, 7);
    }

    #[test]
    fn a_wrong_correlation_id_a_bad_size_or_a_short_body_is_malformed() {
        let address = serve(|c| framed(c + 1, &FindCoordinatorResponse::default()));
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert!(matches!(connection.call(FIND, &request()), Err(CallError::Malformed(_))));

        let address = serve(|_| (-5i32).to_be_bytes().to_vec());
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert!(matches!(connection.call(FIND, &request()), Err(CallError::Malformed(_))));

        let address = serve(|c| {
            let mut whole = framed(c, &FindCoordinatorResponse::default());
            whole.truncate(whole.len() - 3);
            let size = whole.len() as i32 - 4;
            whole[..4].copy_from_slice(&size.to_be_bytes());
            whole
        });
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert!(matches!(connection.call(FIND, &request()), Err(CallError::Malformed(_))));
    }

    #[test]
    fn a_tls_answer_is_told_from_a_malformed_one() {
        // A TLS alert record (handshake failure), as a TLS listener sends to a plain client.
        let address = serve(|_| vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(5)).unwrap();
        assert!(matches!(connection.call(FIND, &request()), Err(CallError::AnsweredInTls)));
    }

    #[test]
    fn a_silent_broker_times_out() {
        let address = serve(|_| Vec::new());
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_millis(300)).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(connection.call(FIND, &request()), Err(CallError::Io(_))));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
