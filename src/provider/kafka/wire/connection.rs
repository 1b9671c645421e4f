//! One TCP connection to one broker, speaking Kafka's request/response framing:
//! a 4-byte size, a request header (v1: API key, version, correlation id,
//! client id) and the body; the answer is a size, the correlation id and the
//! body. Every connect, write and read is bounded by the cluster's timeout.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::codec::{Decoder, Encoder, Malformed};

/// A Kafka API at the one version ebb speaks of it.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    pub key: i16,
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
    client_id: String,
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
                    return Ok(Connection { stream, client_id: client_id.to_owned(), next_correlation: 1 });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends one request and returns the body of its answer.
    pub fn call(&mut self, api: Api, body: &[u8]) -> Result<Vec<u8>, CallError> {
        let correlation = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);
        let mut header = Encoder::new();
        header.i16(api.key).i16(api.version).i32(correlation).string(&self.client_id);
        let header = header.into_bytes();
        let size = i32::try_from(header.len() + body.len())
            .map_err(|_| CallError::Io(io::Error::new(io::ErrorKind::InvalidInput, "request larger than 2 GiB")))?;
        let mut frame = Vec::with_capacity(4 + size as usize);
        frame.extend_from_slice(&size.to_be_bytes());
        frame.extend_from_slice(&header);
        frame.extend_from_slice(body);
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
        let mut reader = Decoder::new(&answer);
        let echoed = reader.i32()?;
        if echoed != correlation {
            return Err(Malformed(format!("{} answered request {echoed}, not {correlation}", api.name)).into());
        }
        answer.drain(..4);
        Ok(answer)
    }
}

/// Whether four bytes begin a TLS record (an alert or a handshake, TLS 1.x):
/// as a Kafka size they would claim hundreds of megabytes.
fn is_tls_record(head: [u8; 4]) -> bool {
    matches!(head[0], 0x15 | 0x16) && head[1] == 0x03 && head[2] <= 0x04
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const METADATA: Api = Api { key: 3, version: 1, name: "Metadata" };

    /// A one-shot server: reads one request, checks its header, answers `answer(correlation)`.
    fn serve(answer: impl FnOnce(i32) -> Vec<u8> + Send + 'static) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut size = [0u8; 4];
            socket.read_exact(&mut size).unwrap();
            let mut request = vec![0u8; i32::from_be_bytes(size) as usize];
            socket.read_exact(&mut request).unwrap();
            let mut d = Decoder::new(&request);
            assert_eq!((d.i16().unwrap(), d.i16().unwrap()), (3, 1));
            let correlation = d.i32().unwrap();
            assert_eq!(d.string().unwrap(), "ebb-test");
            assert_eq!(d.i32().unwrap(), 42, "the body follows the header");
            let _ = socket.write_all(&answer(correlation));
            std::thread::sleep(Duration::from_millis(200));
        });
        address
    }

    fn framed(parts: &[&[u8]]) -> Vec<u8> {
        let body: Vec<u8> = parts.concat();
        [&(body.len() as i32).to_be_bytes()[..], &body].concat()
    }

    #[test]
    fn a_call_returns_the_body_after_the_correlation_id() {
        let address = serve(|c| framed(&[&c.to_be_bytes(), b"hello"]));
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert_eq!(connection.call(METADATA, &42i32.to_be_bytes()).unwrap(), b"hello");
    }

    #[test]
    fn a_wrong_correlation_id_or_size_is_malformed() {
        let address = serve(|c| framed(&[&(c + 1).to_be_bytes(), b"x"]));
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert!(matches!(connection.call(METADATA, &42i32.to_be_bytes()), Err(CallError::Malformed(_))));

        let address = serve(|_| (-5i32).to_be_bytes().to_vec());
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(2)).unwrap();
        assert!(matches!(connection.call(METADATA, &42i32.to_be_bytes()), Err(CallError::Malformed(_))));
    }

    #[test]
    fn a_tls_answer_is_told_from_a_malformed_one() {
        // A TLS alert record (handshake failure), as a TLS listener sends to a plain client.
        let address = serve(|_| vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_secs(5)).unwrap();
        assert!(matches!(connection.call(METADATA, &42i32.to_be_bytes()), Err(CallError::AnsweredInTls)));
    }

    #[test]
    fn a_silent_broker_times_out() {
        let address = serve(|_| Vec::new());
        let mut connection = Connection::open(&address, "ebb-test", Duration::from_millis(300)).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(connection.call(METADATA, &42i32.to_be_bytes()), Err(CallError::Io(_))));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
