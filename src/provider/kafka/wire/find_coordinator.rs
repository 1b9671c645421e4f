//! FindCoordinator v1: which broker coordinates a consumer group.

use super::codec::{Decoder, Encoder, Malformed};
use super::connection::Api;

pub const API: Api = Api { key: 10, version: 1, name: "FindCoordinator" };

pub fn request(group: &str) -> Vec<u8> {
    let mut e = Encoder::new();
    e.string(group).i8(0);
    e.into_bytes()
}

/// The coordinator's node id and address, or an error code and the broker's message.
pub struct Answer {
    pub error: i16,
    pub message: Option<String>,
    pub node: i32,
    pub address: String,
}

pub fn answer(body: &[u8]) -> Result<Answer, Malformed> {
    let mut d = Decoder::new(body);
    let _throttle_ms = d.i32()?;
    let error = d.i16()?;
    let message = d.nullable_string()?;
    let node = d.i32()?;
    let host = d.string()?;
    let port = d.i32()?;
    Ok(Answer { error, message, node, address: super::address(&host, port) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_gives_the_coordinator_address() {
        let mut e = Encoder::new();
        e.i32(0).i16(0).null_string().i32(2).string("127.0.0.1").i32(9093);
        let found = answer(&e.into_bytes()).unwrap();
        assert_eq!((found.error, found.node, found.address.as_str()), (0, 2, "127.0.0.1:9093"));
        let mut e = Encoder::new();
        e.i32(0).i16(15).string("not yet").i32(-1).string("").i32(-1);
        let refused = answer(&e.into_bytes()).unwrap();
        assert_eq!((refused.error, refused.message.as_deref()), (15, Some("not yet")));
    }
}
