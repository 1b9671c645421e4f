//! FindCoordinator v1: which broker coordinates a consumer group.

use kafka_protocol::messages::{FindCoordinatorRequest, FindCoordinatorResponse};

use super::connection::Api;
use super::name;

pub const API: Api = Api { version: 1, name: "FindCoordinator" };

pub fn request(group: &str) -> FindCoordinatorRequest {
    FindCoordinatorRequest::default().with_key(name(group)).with_key_type(0)
}

/// The coordinator's node id and address, or an error code and the broker's message.
pub struct Answer {
    pub error: i16,
    pub message: Option<String>,
    pub node: i32,
    pub address: String,
}

pub fn answer(response: FindCoordinatorResponse) -> Answer {
    Answer {
        error: response.error_code,
        message: response.error_message.map(|m| m.to_string()),
        node: response.node_id.0,
        address: super::address(&response.host, response.port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_gives_the_coordinator_address() {
        let found = answer(
            FindCoordinatorResponse::default().with_node_id(2.into()).with_host(name("127.0.0.1")).with_port(9093),
        );
        assert_eq!((found.error, found.node, found.address.as_str()), (0, 2, "127.0.0.1:9093"));
        let refused =
            answer(FindCoordinatorResponse::default().with_error_code(15).with_error_message(Some(name("not yet"))));
        assert_eq!((refused.error, refused.message.as_deref()), (15, Some("not yet")));
    }
}
