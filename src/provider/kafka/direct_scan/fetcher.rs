//! One leader's fetching thread: asks for all of its partitions in each Fetch,
//! over one connection, until they are done, their leader moves, or the scan stops.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use super::batches::{self, next_offset};
use super::{Event, FETCH_BYTES, Job, Part, Shared};
use crate::provider::kafka::wire::fetch::{self, Asked, Fetched};
use crate::provider::kafka::wire::{Broker, Connection, list_offsets};

/// Error codes that mean the partition is to be asked of another broker
/// (or of this one again, once it leads): not the leader, leader unknown or
/// fenced, replica or log directory unavailable, topic not (yet) known here.
const MOVED: [i16; 8] = [3, 5, 6, 9, 13, 56, 74, 75];
const OFFSET_OUT_OF_RANGE: i16 = 1;
/// The most one partition is asked for, when a single batch is larger still.
const MOST_PARTITION_BYTES: i32 = 64 << 20;

pub fn fetch(
    shared: &Shared<'_>,
    leader: &Broker,
    mut parts: Vec<Part>,
    queues: &[Sender<Job>],
    events: &Sender<Event>,
) {
    let mut connection = match shared.wire.open(leader, fetch::API) {
        Ok(connection) => connection,
        Err(_) => {
            let _ = events.send(Event::Reroute(parts));
            return;
        }
    };
    while !parts.is_empty() && !shared.stopped() {
        let Some(mut held) = shared.budget.take(i64::from(FETCH_BYTES), &shared.stop) else { return };
        let asked: Vec<Asked> = parts
            .iter()
            .map(|p| Asked { partition: p.partition, offset: p.position, max_bytes: p.max_bytes })
            .collect();
        let request = fetch::request(shared.topic, &asked, FETCH_BYTES);
        let answer = match shared.wire.call_on(&mut connection, leader, fetch::API, &request) {
            Ok(response) => fetch::answer(response, shared.topic),
            Err(_) => {
                // The leader went away or stopped answering: find where the partitions are now.
                let _ = events.send(Event::Reroute(parts));
                return;
            }
        };
        let (error, answered) = answer;
        if error != 0 {
            let _ = events.send(Event::Failed(shared.inner.partition_failed(super::OPERATION, "fetch", error).error));
            return;
        }
        held.settle(answered.iter().map(|f| f.records.len() as i64).sum());
        let held = Arc::new(held);
        let mut moved = Vec::new();
        let mut progressed = false;
        for fetched in answered {
            let Some(at) = parts.iter().position(|p| p.partition == fetched.partition) else { continue };
            match fetched.error {
                0 => match took(shared, &mut parts[at], fetched, &held, queues) {
                    Ok(true) => progressed = true,
                    Ok(false) => {}
                    Err(error) => {
                        let _ = events.send(Event::Failed(error));
                        return;
                    }
                },
                OFFSET_OUT_OF_RANGE => match restart(shared, &mut connection, leader, &mut parts[at]) {
                    Ok(true) => progressed = true,
                    Ok(false) => moved.push(parts[at].partition),
                    Err(error) => {
                        let _ = events.send(Event::Failed(error));
                        return;
                    }
                },
                code if MOVED.contains(&code) => moved.push(fetched.partition),
                code => {
                    let subject = format!("{}:{}", shared.topic, fetched.partition);
                    let error = shared.inner.partition_failed(super::OPERATION, &subject, code).error;
                    let _ = events.send(Event::Failed(error));
                    return;
                }
            }
        }
        let (gone, kept): (Vec<Part>, Vec<Part>) = parts.into_iter().partition(|p| moved.contains(&p.partition));
        if !gone.is_empty() {
            let _ = events.send(Event::Reroute(gone));
        }
        parts = kept.into_iter().filter(|p| p.position < p.end).collect();
        if progressed {
            let _ = events.send(Event::Progress);
        }
    }
}

/// Hands a partition's answer to its decoding thread and moves its position.
/// Whether anything came of it (records, or the partition done).
fn took(
    shared: &Shared<'_>,
    part: &mut Part,
    fetched: Fetched,
    held: &Arc<super::Held>,
    queues: &[Sender<Job>],
) -> Result<bool, crate::provider::ProviderError> {
    let batches = batches::whole_batches(&fetched.records).map_err(|why| shared.unreadable(part.partition, why))?;
    // Nothing past this can be read now: read_committed stops at the last stable offset.
    let readable_end = if fetched.last_stable_offset >= 0 {
        fetched.last_stable_offset.min(fetched.high_watermark)
    } else {
        fetched.high_watermark
    };
    let Some(last) = batches.last() else {
        if !fetched.records.is_empty() {
            // One batch larger than asked for: ask for more.
            part.max_bytes = part.max_bytes.saturating_mul(2).min(MOST_PARTITION_BYTES);
            return Ok(false);
        }
        if part.position >= readable_end {
            part.end = part.position;
            return Ok(true);
        }
        return Ok(false);
    };
    let next = next_offset(last);
    let job = Job {
        partition: part.partition,
        from: part.position,
        end: part.end,
        batches,
        aborted: fetched.aborted,
        _held: Arc::clone(held),
    };
    let queue = &queues[usize::try_from(part.partition).unwrap_or_default() % queues.len()];
    if queue.send(job).is_err() {
        return Ok(false);
    }
    part.position = part.position.max(next);
    if part.position >= readable_end {
        part.end = part.end.min(part.position);
    }
    Ok(true)
}

/// The partition's position is outside its log: records were deleted under
/// the scan (it goes on from the new log start), or the log is shorter than
/// the position (the partition is done). False when the leader has moved.
fn restart(
    shared: &Shared<'_>,
    connection: &mut Connection,
    leader: &Broker,
    part: &mut Part,
) -> Result<bool, crate::provider::ProviderError> {
    let asked = [(shared.topic, part.partition)];
    let mut bounds = [0i64; 2];
    for (slot, at) in bounds.iter_mut().zip([list_offsets::EARLIEST, list_offsets::LATEST]) {
        let request = list_offsets::request(&asked, at);
        let Ok(response) = shared.wire.call_on(connection, leader, list_offsets::API, &request) else {
            return Ok(false);
        };
        let answer = list_offsets::answer(response).into_iter().find(|a| a.partition == part.partition);
        match answer {
            Some(a) if a.error == 0 => *slot = a.value.unwrap_or(part.position),
            Some(a) if MOVED.contains(&a.error) => return Ok(false),
            Some(a) => {
                let subject = format!("{}:{}", shared.topic, part.partition);
                return Err(shared.inner.partition_failed(super::OPERATION, &subject, a.error).error);
            }
            None => return Ok(false),
        }
    }
    let [log_start, log_end] = bounds;
    if part.position < log_start {
        tracing::info!(
            cluster = %shared.inner.cluster, topic = shared.topic, partition = part.partition,
            from = part.position, to = log_start, "records deleted during the scan; reading on from the log start"
        );
        part.position = log_start;
    } else if part.position >= log_end {
        part.end = part.position;
    }
    Ok(true)
}
