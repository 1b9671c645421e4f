//! One leader's fetching thread: asks for all of its partitions in each Fetch,
//! over one connection, until they are done, their leader moves, or the scan stops.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use super::batches::{self, Unreadable, next_offset};
use super::{Event, FETCH_BYTES, Held, Job, OPERATION, Part, Shared};
use crate::provider::ProviderError;
use crate::provider::kafka::wire::fetch::{self, Asked, Fetched};
use crate::provider::kafka::wire::{Broker, CallFailed, Connection, list_offsets};

/// Error codes that mean the partition is to be asked of another broker
/// (or of this one again, once it leads): not the leader, leader unknown or
/// fenced, replica or log directory unavailable, topic not (yet) known here,
/// offsets not yet available from a new leader.
const MOVED: [i16; 9] = [3, 5, 6, 9, 13, 56, 74, 75, 78];
const OFFSET_OUT_OF_RANGE: i16 = 1;
/// The most one partition is asked for, when a single batch is larger still.
const MOST_PARTITION_BYTES: i32 = 64 << 20;

/// How one partition's answer turned out.
enum Took {
    /// Its position moved on, or it is done.
    Moved,
    /// Nothing changed: asked again in the next fetch.
    Same,
}

pub fn fetch(
    shared: &Shared<'_>,
    leader: &Broker,
    mut parts: Vec<Part>,
    queues: &[Sender<Job>],
    events: &Sender<Event>,
) {
    let mut connection = match shared.wire.open(leader, fetch::API) {
        Ok(connection) => connection,
        Err(failed) => {
            let _ = events.send(Event::Reroute(parts, failed.to_string()));
            return;
        }
    };
    let read_committed = shared.inner.scans_read_committed;
    while !parts.is_empty() && !shared.stopped() {
        let Some(mut held) = shared.budget.take(i64::from(FETCH_BYTES), &shared.stop) else { return };
        let asked: Vec<Asked> = parts
            .iter()
            .map(|p| Asked { partition: p.partition, offset: p.position, max_bytes: p.max_bytes })
            .collect();
        let request = fetch::request(shared.topic, &asked, FETCH_BYTES, read_committed);
        let (error, answered) = match shared.wire.call_on(&mut connection, leader, fetch::API, &request) {
            Ok(response) => fetch::answer(response, shared.topic),
            // The leader went away or stopped answering: find where the partitions are now.
            Err(failed @ CallFailed::Io { .. }) => {
                let _ = events.send(Event::Reroute(parts, failed.to_string()));
                return;
            }
            Err(failed) => {
                let _ = events.send(Event::Failed(shared.inner.call_failed(OPERATION, &failed).error));
                return;
            }
        };
        if error != 0 {
            let _ = events.send(Event::Failed(shared.inner.partition_failed(OPERATION, "fetch", error).error));
            return;
        }
        held.settle(answered.iter().map(|f| f.records.len() as i64).sum());
        let held = Arc::new(held);
        let mut moved = Vec::new();
        let mut progressed = false;
        for fetched in answered {
            let Some(at) = parts.iter().position(|p| p.partition == fetched.partition) else { continue };
            let took = match fetched.error {
                0 => took(shared, &mut parts[at], fetched, &held, queues),
                OFFSET_OUT_OF_RANGE => match restart(shared, &mut connection, leader, &mut parts[at]) {
                    Ok(Some(took)) => Ok(took),
                    Ok(None) => {
                        // The connection may be out of step now: every partition finds its leader again.
                        let _ = events.send(Event::Reroute(parts, "the log start could not be read".to_owned()));
                        return;
                    }
                    Err(error) => Err(error),
                },
                code if MOVED.contains(&code) => {
                    moved.push(fetched.partition);
                    Ok(Took::Same)
                }
                code => Err(shared.refused(fetched.partition, code)),
            };
            match took {
                Ok(Took::Moved) => progressed = true,
                Ok(Took::Same) => {}
                Err(error) => {
                    let _ = events.send(Event::Failed(error));
                    return;
                }
            }
        }
        let (gone, kept): (Vec<Part>, Vec<Part>) = parts.into_iter().partition(|p| moved.contains(&p.partition));
        if !gone.is_empty() {
            let _ = events.send(Event::Reroute(gone, format!("broker {} no longer leads them", leader.id)));
        }
        parts = kept.into_iter().filter(|p| p.position < p.end).collect();
        // Each request names the partitions in turn first, so a leader with
        // more partitions than one answer holds serves them all in turn.
        if !parts.is_empty() {
            parts.rotate_left(1);
        }
        if progressed {
            let _ = events.send(Event::Progress);
        }
    }
}

/// Hands a partition's answer to its decoding thread and moves its position.
fn took(
    shared: &Shared<'_>,
    part: &mut Part,
    fetched: Fetched,
    held: &Arc<Held>,
    queues: &[Sender<Job>],
) -> Result<Took, ProviderError> {
    let batches = batches::whole_batches(&fetched.records).map_err(|why| shared.unreadable(part.partition, why))?;
    // Nothing past this can be read now: read_committed stops at the last stable offset.
    let readable_end = if shared.inner.scans_read_committed && fetched.last_stable_offset >= 0 {
        fetched.last_stable_offset.min(fetched.high_watermark)
    } else {
        fetched.high_watermark
    };
    let Some(last) = batches.last() else {
        if !fetched.records.is_empty() {
            // One batch larger than asked for: ask for more.
            let more = part.max_bytes.saturating_mul(2).min(MOST_PARTITION_BYTES);
            let took = if more > part.max_bytes { Took::Moved } else { Took::Same };
            part.max_bytes = more;
            return Ok(took);
        }
        if part.position >= readable_end {
            end_early(shared, part, readable_end, fetched.high_watermark);
            return Ok(Took::Moved);
        }
        return Ok(Took::Same);
    };
    let next = next_offset(last).map_err(|why| shared.unreadable(part.partition, why))?;
    if next <= part.position {
        let why = Unreadable(format!("the leader answered batches ending at {next}, asked from {}", part.position));
        return Err(shared.unreadable(part.partition, why));
    }
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
        return Err(shared.unreadable(part.partition, Unreadable("its decoding thread has stopped".to_owned())));
    }
    part.position = next;
    if part.position >= readable_end {
        end_early(shared, part, readable_end, fetched.high_watermark);
    }
    Ok(Took::Moved)
}

/// Ends a partition at `readable_end`, noting when that is short of its range.
fn end_early(shared: &Shared<'_>, part: &mut Part, readable_end: i64, high_watermark: i64) {
    if readable_end < part.end && readable_end < high_watermark {
        shared.note(format!(
            "{}:{}: read up to the last stable offset {readable_end}, short of {}: a transaction is open there",
            shared.topic, part.partition, part.end
        ));
    }
    part.end = part.end.min(part.position);
}

/// The partition's position is outside its log: records were deleted under
/// the scan (it goes on from the new log start), or the log is shorter than
/// the position (the partition is done). `None` when the log's bounds could
/// not be read here (the connection may be out of step, or the leader moved).
fn restart(
    shared: &Shared<'_>,
    connection: &mut Connection,
    leader: &Broker,
    part: &mut Part,
) -> Result<Option<Took>, ProviderError> {
    let asked = [(shared.topic, part.partition)];
    let mut bounds = [0i64; 2];
    for (slot, at) in bounds.iter_mut().zip([list_offsets::EARLIEST, list_offsets::LATEST]) {
        let request = list_offsets::request(&asked, at);
        let Ok(response) = shared.wire.call_on(connection, leader, list_offsets::API, &request) else {
            return Ok(None);
        };
        let answer = list_offsets::answer(response).into_iter().find(|a| a.partition == part.partition);
        match answer {
            Some(a) if a.error == 0 => *slot = a.value.unwrap_or(part.position),
            Some(a) if MOVED.contains(&a.error) => return Ok(None),
            Some(a) => return Err(shared.refused(part.partition, a.error)),
            None => return Ok(None),
        }
    }
    let [log_start, log_end] = bounds;
    if part.position < log_start {
        shared.note(format!(
            "{}:{}: records {} to {} were deleted before the scan could read them",
            shared.topic,
            part.partition,
            part.position,
            log_start - 1
        ));
        part.position = log_start;
        if part.position >= part.end {
            part.end = part.position;
        }
        return Ok(Some(Took::Moved));
    }
    if part.position >= log_end {
        part.end = part.position;
        return Ok(Some(Took::Moved));
    }
    // Inside the log after all (it moved between the two answers): asked again.
    Ok(Some(Took::Same))
}
