//! The broker's raw serving rate: the bench's own binary, run as a process
//! like every tool (`--raw-fetch BOOTSTRAP TOPIC`), reads a whole topic with
//! Fetch requests of the sizes ebb asks (8 MiB a request, 1 MiB a partition,
//! one request at a time per leader, leaders in parallel) and does nothing
//! with the records but step over their batch headers to the next offset. No
//! client can read faster than this on the same machine; it prints the bytes read.

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    FetchRequest, ListOffsetsRequest, MetadataRequest, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

/// Runs the raw read when the process was started for it; false otherwise.
pub fn run_if_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "--raw-fetch") else { return false };
    let (bootstrap, topic) = (&args[at + 1], &args[at + 2]);
    println!("{}", read_all(bootstrap, topic));
    true
}

fn call<R: Request>(stream: &mut TcpStream, version: i16, request: &R) -> R::Response {
    let mut frame = BytesMut::new();
    frame.extend_from_slice(&[0; 4]);
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("raw-fetch")))
        .encode(&mut frame, R::header_version(version))
        .unwrap();
    request.encode(&mut frame, version).unwrap();
    let size = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&size.to_be_bytes());
    stream.write_all(&frame).unwrap();
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).unwrap();
    let mut answer = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut answer).unwrap();
    let mut answer = Bytes::from(answer);
    ResponseHeader::decode(&mut answer, <R::Response as HeaderVersion>::header_version(version)).unwrap();
    R::Response::decode(&mut answer, version).unwrap()
}

fn name(text: &str) -> TopicName {
    StrBytes::from_string(text.to_owned()).into()
}

/// Every leader's partitions of `topic` with their log ends, then each leader read in parallel.
fn read_all(bootstrap: &str, topic: &str) -> u64 {
    let mut stream = TcpStream::connect(bootstrap.split(',').next().unwrap()).unwrap();
    let metadata = call(
        &mut stream,
        4,
        &MetadataRequest::default()
            .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(name(topic)))]))
            .with_allow_auto_topic_creation(false),
    );
    let address = |id: i32| {
        let b = metadata.brokers.iter().find(|b| b.node_id.0 == id).unwrap();
        format!("{}:{}", b.host.as_str(), b.port)
    };
    let mut leaders: Vec<(String, Vec<i32>)> = Vec::new();
    for p in &metadata.topics[0].partitions {
        let at = address(p.leader_id.0);
        match leaders.iter_mut().find(|(a, _)| *a == at) {
            Some((_, ps)) => ps.push(p.partition_index),
            None => leaders.push((at, vec![p.partition_index])),
        }
    }
    std::thread::scope(|scope| {
        let reads: Vec<_> = leaders.iter().map(|(at, ps)| scope.spawn(move || read_leader(at, topic, ps))).collect();
        reads.into_iter().map(|r| r.join().unwrap()).sum()
    })
}

fn read_leader(address: &str, topic: &str, partitions: &[i32]) -> u64 {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_nodelay(true).unwrap();
    let ends = call(
        &mut stream,
        2,
        &ListOffsetsRequest::default().with_replica_id((-1).into()).with_topics(vec![
            ListOffsetsTopic::default().with_name(name(topic)).with_partitions(
                partitions
                    .iter()
                    .map(|p| ListOffsetsPartition::default().with_partition_index(*p).with_timestamp(-1))
                    .collect(),
            ),
        ]),
    );
    let mut left: Vec<(i32, i64, i64)> = ends.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, 0, p.offset))
        .filter(|(_, at, end)| at < end)
        .collect();
    let mut bytes = 0u64;
    while !left.is_empty() {
        let request =
            FetchRequest::default().with_max_wait_ms(100).with_min_bytes(1).with_max_bytes(8 << 20).with_topics(vec![
                FetchTopic::default().with_topic(name(topic)).with_partitions(
                    left.iter()
                        .map(|(p, at, _)| {
                            FetchPartition::default()
                                .with_partition(*p)
                                .with_fetch_offset(*at)
                                .with_partition_max_bytes(1 << 20)
                        })
                        .collect(),
                ),
            ]);
        let answer = call(&mut stream, 11, &request);
        for data in &answer.responses[0].partitions {
            let records = data.records.clone().unwrap_or_default();
            bytes += records.len() as u64;
            let slot = left.iter_mut().find(|(p, _, _)| *p == data.partition_index).unwrap();
            let mut at = 0;
            while records.len() - at >= 27 {
                let size = i32::from_be_bytes(records[at + 8..at + 12].try_into().unwrap()) as usize;
                if at + 12 + size > records.len() {
                    break;
                }
                let base = i64::from_be_bytes(records[at..at + 8].try_into().unwrap());
                let delta = i32::from_be_bytes(records[at + 23..at + 27].try_into().unwrap());
                slot.1 = base + i64::from(delta) + 1;
                at += 12 + size;
            }
        }
        left.retain(|(_, at, end)| at < end);
    }
    bytes
}
