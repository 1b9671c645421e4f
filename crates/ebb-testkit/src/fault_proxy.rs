//! A TCP proxy on loopback between ebb and a broker, for the network-fault
//! tests. It passes bytes, or on command delays them, swallows them (a peer
//! that stopped answering, with the connection still open), or cuts open
//! connections. It reads the Kafka requests going to the broker, so a fault
//! can strike at one kind of request: lose the answer to an OffsetCommit
//! that the broker did apply, or swallow a DeleteRecords.
//!
//! Swallowed bytes are thrown away, never held: a request ebb gave up on
//! must not reach the broker later, or a test could not tell what ebb did
//! from what the proxy did.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a pump looks at the proxy's settings while it waits for bytes.
const POLL: Duration = Duration::from_millis(20);

/// What happens to traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes pass.
    Pass,
    /// Each chunk waits this long before it is passed on, both ways.
    Latency(Duration),
    /// Every connection, open or new, swallows what it is sent both ways.
    Stall,
}

/// What happens to a connection when it carries a request with a given API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRequest {
    /// The request reaches the broker; the connection is then cut, so its answer is lost.
    ForwardThenCut,
    /// The request and everything after it on this connection are swallowed.
    Swallow,
}

#[derive(Debug, Clone, Copy)]
struct Trap {
    api_key: i16,
    action: OnRequest,
    every: bool,
}

/// A request larger than this is not Kafka (or not one ebb sends): the connection is cut.
const LARGEST_REQUEST: usize = 64 * 1024 * 1024;

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: Mutex<Option<SocketAddr>>,
    fault: Mutex<Fault>,
    /// A trap for requests with this API key: taken when it springs, unless it is for every one.
    trap: Mutex<Option<Trap>>,
    sprung: AtomicUsize,
    /// Bumped to cut every connection open at that moment.
    generation: AtomicU64,
    accepted: AtomicUsize,
    closed: AtomicBool,
}

impl FaultProxy {
    /// Listens on a free loopback port at once (so the port can be given to a
    /// broker to advertise); connections are refused until `forward_to`.
    pub fn bind() -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream: Mutex::new(None),
            fault: Mutex::new(Fault::Pass),
            trap: Mutex::new(None),
            sprung: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || accept_loop(listener, accepting));
        FaultProxy { addr, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn forward_to(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().unwrap() = Some(upstream);
    }

    pub fn set(&self, fault: Fault) {
        let was = std::mem::replace(&mut *self.shared.fault.lock().unwrap(), fault);
        // Connections that swallowed bytes are broken mid-stream: close them.
        if was == Fault::Stall && fault != Fault::Stall {
            self.cut_all();
        }
    }

    /// Back to passing bytes: no trap, no count of sprung traps, no connection kept.
    pub fn reset(&self) {
        self.set(Fault::Pass);
        *self.shared.trap.lock().unwrap() = None;
        self.shared.sprung.store(0, Ordering::SeqCst);
        self.cut_all();
    }

    /// Closes every connection open now; new ones are taken as usual.
    pub fn cut_all(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Sets a trap for the next request with API key `api_key` (8 is
    /// OffsetCommit, 21 DeleteRecords) on any connection.
    pub fn on_next_request(&self, api_key: i16, action: OnRequest) {
        *self.shared.trap.lock().unwrap() = Some(Trap { api_key, action, every: false });
    }

    /// Sets a trap that springs on every request with API key `api_key`, retries included.
    pub fn on_every_request(&self, api_key: i16, action: OnRequest) {
        *self.shared.trap.lock().unwrap() = Some(Trap { api_key, action, every: true });
    }

    /// How many traps have sprung.
    pub fn sprung(&self) -> usize {
        self.shared.sprung.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loop so it sees `closed`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        // Read before connecting: a cut while connecting reaches this connection too.
        let generation = shared.generation.load(Ordering::SeqCst);
        let Some(upstream) = *shared.upstream.lock().unwrap() else { continue };
        let Ok(server) = TcpStream::connect(upstream) else { continue };
        let connection = Arc::new(Connection { client, server, generation, swallowing: AtomicBool::new(false) });
        for to_broker in [true, false] {
            let (connection, shared) = (connection.clone(), shared.clone());
            std::thread::spawn(move || pump(&connection, &shared, to_broker));
        }
    }
}

struct Connection {
    client: TcpStream,
    server: TcpStream,
    generation: u64,
    /// A trap sprang with `Swallow`: nothing more passes, either way.
    swallowing: AtomicBool,
}

impl Connection {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

/// Moves bytes one way until either side closes or the connection is cut.
/// Toward the broker it passes whole requests, so that traps see each one.
fn pump(connection: &Connection, shared: &Shared, to_broker: bool) {
    let (mut from, mut to) =
        if to_broker { (&connection.client, &connection.server) } else { (&connection.server, &connection.client) };
    let _ = from.set_read_timeout(Some(POLL));
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if shared.generation.load(Ordering::SeqCst) != connection.generation {
            connection.cut();
            return;
        }
        let n = match from.read(&mut chunk) {
            Ok(0) => {
                connection.cut();
                return;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => {
                connection.cut();
                return;
            }
        };
        let fault = *shared.fault.lock().unwrap();
        if fault == Fault::Stall || connection.swallowing.load(Ordering::SeqCst) {
            continue;
        }
        if let Fault::Latency(delay) = fault {
            std::thread::sleep(delay);
        }
        if !to_broker {
            if to.write_all(&chunk[..n]).is_err() {
                connection.cut();
                return;
            }
            continue;
        }
        pending.extend_from_slice(&chunk[..n]);
        if !plausible(&pending) {
            connection.cut();
            return;
        }
        while let Some(request) = next_request(&mut pending) {
            let trap = {
                let mut trap = shared.trap.lock().unwrap();
                match *trap {
                    Some(set) if api_key(&request) == Some(set.api_key) => {
                        if !set.every {
                            *trap = None;
                        }
                        shared.sprung.fetch_add(1, Ordering::SeqCst);
                        Some(set.action)
                    }
                    _ => None,
                }
            };
            match trap {
                Some(OnRequest::Swallow) => {
                    connection.swallowing.store(true, Ordering::SeqCst);
                    break;
                }
                Some(OnRequest::ForwardThenCut) => {
                    // The answer is swallowed from now on, then the connection cut.
                    connection.swallowing.store(true, Ordering::SeqCst);
                    let _ = to.write_all(&request);
                    // Long enough for the broker to act on it, not to answer through us.
                    std::thread::sleep(Duration::from_millis(200));
                    connection.cut();
                    return;
                }
                None => {
                    if to.write_all(&request).is_err() {
                        connection.cut();
                        return;
                    }
                }
            }
        }
    }
}

/// Takes one whole size-prefixed Kafka request off the front of `pending`.
fn next_request(pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    let size = i32::from_be_bytes(pending.get(..4)?.try_into().ok()?);
    let total = 4 + usize::try_from(size).ok()?;
    if pending.len() < total {
        return None;
    }
    Some(pending.drain(..total).collect())
}

/// Whether the request at the front of `pending` has a size a Kafka request could have.
fn plausible(pending: &[u8]) -> bool {
    match pending.get(..4) {
        Some(size) => usize::try_from(i32::from_be_bytes(size.try_into().unwrap())).is_ok_and(|n| n <= LARGEST_REQUEST),
        None => true,
    }
}

/// A request's API key: the two bytes after its size.
fn api_key(request: &[u8]) -> Option<i16> {
    Some(i16::from_be_bytes(request.get(4..6)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_taken_whole_from_a_stream_cut_anywhere() {
        let mut frame = 6i32.to_be_bytes().to_vec();
        frame.extend_from_slice(&[0, 8, 0, 9, 1, 2]);
        let mut pending = frame[..5].to_vec();
        assert_eq!(next_request(&mut pending), None);
        pending.extend_from_slice(&frame[5..]);
        pending.extend_from_slice(&frame[..3]);
        let request = next_request(&mut pending).unwrap();
        assert_eq!(api_key(&request), Some(8));
        assert_eq!(pending, frame[..3]);
    }
}
