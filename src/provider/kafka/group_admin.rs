//! Consumer groups through librdkafka's admin API (DescribeConsumerGroups,
//! ListConsumerGroups, DeleteConsumerGroupOffsets), which rust-rdkafka does not wrap.
//!
//! Why not the classic DescribeGroups that rust-rdkafka does wrap: it reports a
//! live group of the consumer protocol (KIP-848, Kafka 4) as `Dead` with no
//! members, and ebb's reset gate must never take an active group for an
//! inactive one. The admin API asks with ConsumerGroupDescribe and falls back to
//! DescribeGroups for classic groups, so both protocols are described truly.
//!
//! This is the crate's one FFI module. Every handle it creates is owned by a
//! guard that destroys it, and every string is copied out before the event that
//! holds it is destroyed.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use crate::provider::{GroupDescription, GroupListing, GroupMember, GroupState, OffsetDeleted, TopicPartition};

/// A failure, with librdkafka's code when there is one.
pub struct AdminError {
    pub code: Option<RDKafkaErrorCode>,
    pub message: String,
}

struct Options(*mut rd::rd_kafka_AdminOptions_t);
impl Drop for Options {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_AdminOptions_new and destroyed once, here.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.0) }
    }
}

struct Queue(*mut rd::rd_kafka_queue_t);
impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new and destroyed once, here.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

struct PartitionList(*mut rd::rd_kafka_topic_partition_list_t);
impl Drop for PartitionList {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_topic_partition_list_new and destroyed once, here.
        unsafe { rd::rd_kafka_topic_partition_list_destroy(self.0) }
    }
}

struct Event(*mut rd::rd_kafka_event_t);
impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: returned by rd_kafka_queue_poll (non-null) and destroyed once, here.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

/// Copies a C string owned by librdkafka; null becomes empty.
///
/// SAFETY: `text` is null or points to a NUL-terminated string that stays valid
/// for the duration of the call.
unsafe fn owned(text: *const c_char) -> String {
    if text.is_null() { String::new() } else { unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned() }
}

fn state_of(state: rd::rd_kafka_consumer_group_state_t) -> GroupState {
    use rd::rd_kafka_consumer_group_state_t::*;
    match state {
        RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY => GroupState::Empty,
        RD_KAFKA_CONSUMER_GROUP_STATE_STABLE => GroupState::Stable,
        RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE => GroupState::PreparingRebalance,
        RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE => GroupState::CompletingRebalance,
        RD_KAFKA_CONSUMER_GROUP_STATE_DEAD => GroupState::Dead,
        _ => GroupState::Other("Unknown".to_owned()),
    }
}

fn type_of(group_type: rd::rd_kafka_consumer_group_type_t) -> String {
    use rd::rd_kafka_consumer_group_type_t::*;
    match group_type {
        RD_KAFKA_CONSUMER_GROUP_TYPE_CLASSIC => "classic",
        RD_KAFKA_CONSUMER_GROUP_TYPE_CONSUMER => "consumer",
        _ => "unknown",
    }
    .to_owned()
}

/// Sends one admin request and waits for its result event.
fn call<C: ConsumerContext>(
    client: &BaseConsumer<C>,
    op: rd::rd_kafka_admin_op_t,
    timeout: Duration,
    send: impl FnOnce(*mut rd::rd_kafka_t, *const rd::rd_kafka_AdminOptions_t, *mut rd::rd_kafka_queue_t),
) -> Result<Event, AdminError> {
    let rk = client.client().native_ptr();
    let timeout_ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
    // SAFETY: `rk` is the live handle of `client`, which outlives this call; the
    // options and queue are owned by guards; the error buffer is ours and sized.
    unsafe {
        let options = Options(rd::rd_kafka_AdminOptions_new(rk, op));
        let mut errbuf = [0 as c_char; 256];
        let err =
            rd::rd_kafka_AdminOptions_set_request_timeout(options.0, timeout_ms, errbuf.as_mut_ptr(), errbuf.len());
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(AdminError { code: Some(err.into()), message: owned(errbuf.as_ptr()) });
        }
        let queue = Queue(rd::rd_kafka_queue_new(rk));
        send(rk, options.0, queue.0);
        // The request times out inside librdkafka; the extra second only covers delivery of that result.
        let event = rd::rd_kafka_queue_poll(queue.0, timeout_ms.saturating_add(1000));
        if event.is_null() {
            return Err(AdminError {
                code: Some(RDKafkaErrorCode::OperationTimedOut),
                message: "no answer from the cluster".to_owned(),
            });
        }
        let event = Event(event);
        let err = rd::rd_kafka_event_error(event.0);
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(AdminError {
                code: Some(err.into()),
                message: owned(rd::rd_kafka_event_error_string(event.0)),
            });
        }
        Ok(event)
    }
}

/// SAFETY: `error` is a valid, non-null rd_kafka_error_t.
unsafe fn admin_error(error: *const rd::rd_kafka_error_t) -> AdminError {
    unsafe {
        AdminError {
            code: Some(rd::rd_kafka_error_code(error).into()),
            message: owned(rd::rd_kafka_error_string(error)),
        }
    }
}

/// Describes one group. A group the cluster does not know comes back `Dead` with no members.
pub fn describe_group<C: ConsumerContext>(
    client: &BaseConsumer<C>,
    group: &str,
    timeout: Duration,
) -> Result<GroupDescription, AdminError> {
    let name = CString::new(group)
        .map_err(|_| AdminError { code: None, message: "a group name cannot contain a NUL byte".to_owned() })?;
    let event = call(
        client,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS,
        timeout,
        |rk, options, queue| {
            let mut names = [name.as_ptr()];
            // SAFETY: `names` holds one pointer into `name`, alive for the call; librdkafka copies it.
            unsafe { rd::rd_kafka_DescribeConsumerGroups(rk, names.as_mut_ptr(), 1, options, queue) }
        },
    )?;
    // SAFETY: the event is a DescribeConsumerGroups result owned by `event`; the
    // descriptions it holds are read, copied, and not used after `event` drops.
    unsafe {
        let result = rd::rd_kafka_event_DescribeConsumerGroups_result(event.0);
        if result.is_null() {
            return Err(AdminError { code: None, message: "unexpected admin result".to_owned() });
        }
        let mut count = 0usize;
        let groups = rd::rd_kafka_DescribeConsumerGroups_result_groups(result, &mut count);
        for i in 0..count {
            let description = *groups.add(i);
            if owned(rd::rd_kafka_ConsumerGroupDescription_group_id(description)) != group {
                continue;
            }
            let error = rd::rd_kafka_ConsumerGroupDescription_error(description);
            if !error.is_null() {
                let error = admin_error(error);
                if error.code == Some(RDKafkaErrorCode::GroupIdNotFound) {
                    break;
                }
                return Err(error);
            }
            let members = (0..rd::rd_kafka_ConsumerGroupDescription_member_count(description))
                .map(|m| {
                    let member = rd::rd_kafka_ConsumerGroupDescription_member(description, m);
                    let assignment = rd::rd_kafka_MemberDescription_assignment(member);
                    let assigned = if assignment.is_null() {
                        std::ptr::null()
                    } else {
                        rd::rd_kafka_MemberAssignment_partitions(assignment)
                    };
                    let mut topics: Vec<String> =
                        partitions_of(assigned).into_iter().map(|(topic, _, _)| topic).collect();
                    topics.sort();
                    topics.dedup();
                    GroupMember {
                        member_id: owned(rd::rd_kafka_MemberDescription_consumer_id(member)),
                        client_id: owned(rd::rd_kafka_MemberDescription_client_id(member)),
                        host: owned(rd::rd_kafka_MemberDescription_host(member)).trim_start_matches('/').to_owned(),
                        topics,
                    }
                })
                .collect();
            return Ok(GroupDescription {
                group: group.to_owned(),
                state: state_of(rd::rd_kafka_ConsumerGroupDescription_state(description)),
                group_type: type_of(rd::rd_kafka_ConsumerGroupDescription_type(description)),
                members,
            });
        }
    }
    Ok(GroupDescription {
        group: group.to_owned(),
        state: GroupState::Dead,
        group_type: "unknown".to_owned(),
        members: Vec::new(),
    })
}

/// Lists every consumer group with its state and type. A broker that cannot
/// answer makes the whole listing fail rather than silently miss its groups.
pub fn list_groups<C: ConsumerContext>(
    client: &BaseConsumer<C>,
    timeout: Duration,
) -> Result<Vec<GroupListing>, AdminError> {
    let event =
        call(client, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout, |rk, options, queue| {
            // SAFETY: all three handles are live for the call.
            unsafe { rd::rd_kafka_ListConsumerGroups(rk, options, queue) }
        })?;
    // SAFETY: as in describe_group; listings are copied before `event` drops.
    unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroups_result(event.0);
        if result.is_null() {
            return Err(AdminError { code: None, message: "unexpected admin result".to_owned() });
        }
        let mut error_count = 0usize;
        let errors = rd::rd_kafka_ListConsumerGroups_result_errors(result, &mut error_count);
        if error_count > 0 {
            return Err(admin_error(*errors));
        }
        let mut count = 0usize;
        let listings = rd::rd_kafka_ListConsumerGroups_result_valid(result, &mut count);
        let mut groups = Vec::with_capacity(count);
        for i in 0..count {
            let listing = *listings.add(i);
            groups.push(GroupListing {
                group: owned(rd::rd_kafka_ConsumerGroupListing_group_id(listing)),
                state: state_of(rd::rd_kafka_ConsumerGroupListing_state(listing)),
                group_type: type_of(rd::rd_kafka_ConsumerGroupListing_type(listing)),
            });
        }
        Ok(groups)
    }
}

/// Each element of a partition list librdkafka owns: topic, partition, error code.
///
/// SAFETY: `list` is null or a valid list that stays alive for the call.
unsafe fn partitions_of(
    list: *const rd::rd_kafka_topic_partition_list_t,
) -> Vec<(String, i32, rd::rd_kafka_resp_err_t)> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: a valid list holds `cnt` initialised elements.
    unsafe {
        let count = usize::try_from((*list).cnt).unwrap_or(0);
        (0..count)
            .map(|i| {
                let element = &*(*list).elems.add(i);
                (owned(element.topic), element.partition, element.err)
            })
            .collect()
    }
}

/// Deletes a group's committed offsets on `partitions` (OffsetDelete). A
/// partition the coordinator refuses (a live member is subscribed to its
/// topic) comes back with the reason; a refusal of the whole group is an error.
pub fn delete_offsets<C: ConsumerContext>(
    client: &BaseConsumer<C>,
    group: &str,
    partitions: &[TopicPartition],
    timeout: Duration,
) -> Result<Vec<OffsetDeleted>, AdminError> {
    let no_nul = |what: &str| AdminError { code: None, message: format!("{what} cannot contain a NUL byte") };
    let name = CString::new(group).map_err(|_| no_nul("a group name"))?;
    let topics: Vec<CString> = partitions
        .iter()
        .map(|tp| CString::new(tp.topic.as_str()).map_err(|_| no_nul("a topic name")))
        .collect::<Result<_, _>>()?;
    let size = c_int::try_from(partitions.len()).unwrap_or(c_int::MAX);
    // SAFETY: the list is owned by its guard; librdkafka copies each topic name on add.
    let list = unsafe {
        let list = PartitionList(rd::rd_kafka_topic_partition_list_new(size));
        for (tp, topic) in partitions.iter().zip(&topics) {
            rd::rd_kafka_topic_partition_list_add(list.0, topic.as_ptr(), tp.partition);
        }
        list
    };
    let event = call(
        client,
        rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS,
        timeout,
        |rk, options, queue| {
            // SAFETY: the request copies the group name and the list; it is
            // destroyed right after it is handed over, as librdkafka allows.
            unsafe {
                let mut request = [rd::rd_kafka_DeleteConsumerGroupOffsets_new(name.as_ptr(), list.0)];
                rd::rd_kafka_DeleteConsumerGroupOffsets(rk, request.as_mut_ptr(), 1, options, queue);
                rd::rd_kafka_DeleteConsumerGroupOffsets_destroy(request[0]);
            }
        },
    )?;
    // SAFETY: the event is a DeleteConsumerGroupOffsets result owned by `event`;
    // what it holds is copied before `event` drops.
    unsafe {
        let result = rd::rd_kafka_event_DeleteConsumerGroupOffsets_result(event.0);
        if result.is_null() {
            return Err(AdminError { code: None, message: "unexpected admin result".to_owned() });
        }
        let mut count = 0usize;
        let groups = rd::rd_kafka_DeleteConsumerGroupOffsets_result_groups(result, &mut count);
        if count == 0 {
            return Err(AdminError { code: None, message: "the admin result named no group".to_owned() });
        }
        // One group was asked about, so the answer holds one.
        let answer = *groups;
        let error = rd::rd_kafka_group_result_error(answer);
        if !error.is_null() {
            return Err(admin_error(error));
        }
        Ok(partitions_of(rd::rd_kafka_group_result_partitions(answer))
            .into_iter()
            .map(|(topic, partition, err)| {
                let refused = (err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR)
                    .then(|| format!("{}: {}", owned(rd::rd_kafka_err2name(err)), owned(rd::rd_kafka_err2str(err))));
                OffsetDeleted { topic, partition, refused }
            })
            .collect())
    }
}
