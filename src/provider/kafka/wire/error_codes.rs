//! Kafka's numeric error codes as librdkafka's `RDKafkaErrorCode`, so errors
//! from the wire calls are described and retried exactly like librdkafka's.

use rdkafka::error::RDKafkaErrorCode;

/// The code for a broker's error number; `None` for 0 and for numbers ebb does not know.
pub fn rd_code(code: i16) -> Option<RDKafkaErrorCode> {
    use RDKafkaErrorCode::*;
    Some(match code {
        1 => OffsetOutOfRange,
        3 => UnknownTopicOrPartition,
        5 => LeaderNotAvailable,
        6 => NotLeaderForPartition,
        7 => RequestTimedOut,
        8 => BrokerNotAvailable,
        9 => ReplicaNotAvailable,
        12 => OffsetMetadataTooLarge,
        13 => NetworkException,
        14 => CoordinatorLoadInProgress,
        15 => CoordinatorNotAvailable,
        16 => NotCoordinator,
        17 => InvalidTopic,
        22 => IllegalGeneration,
        24 => InvalidGroupId,
        25 => UnknownMemberId,
        27 => RebalanceInProgress,
        28 => InvalidCommitOffsetSize,
        29 => TopicAuthorizationFailed,
        30 => GroupAuthorizationFailed,
        31 => ClusterAuthorizationFailed,
        32 => InvalidTimestamp,
        35 => UnsupportedVersion,
        42 => InvalidRequest,
        56 => KafkaStorageError,
        68 => NonEmptyGroup,
        69 => GroupIdNotFound,
        74 => FencedLeaderEpoch,
        75 => UnknownLeaderEpoch,
        78 => OffsetNotAvailable,
        79 => MemberIdRequired,
        82 => FencedInstanceId,
        86 => GroupSubscribedToTopic,
        88 => UnstableOffsetCommit,
        89 => ThrottlingQuotaExceeded,
        100 => UnknownTopicId,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_to_librdkafka_codes_of_the_same_number() {
        use RDKafkaErrorCode::*;
        let pairs = [
            (3, UnknownTopicOrPartition),
            (6, NotLeaderForPartition),
            (16, NotCoordinator),
            (30, GroupAuthorizationFailed),
            (100, UnknownTopicId),
        ];
        for (n, code) in pairs {
            assert_eq!(rd_code(n), Some(code));
        }
        assert_eq!(rd_code(0), None);
        assert_eq!(rd_code(9999), None);
    }
}
