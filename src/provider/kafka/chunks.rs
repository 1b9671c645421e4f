//! Large partition lists, cut into chunks sent concurrently. librdkafka matches
//! every partition of an answer (ListOffsets, OffsetFetch, OffsetCommit) to its
//! request list by linear search, so one list of n partitions costs n²
//! comparisons: about two seconds of CPU at 10,000 partitions. Chunks of
//! `CHUNK` keep that cost linear; up to `CHUNK` partitions it is still one
//! request per leader (or coordinator), and beyond it the chunks go out at once,
//! so the wait does not grow with the number of partitions either.

/// Partitions per request list.
pub const CHUNK: usize = 1_000;

/// Runs `work` on each chunk of `items` concurrently and joins the results in order.
pub fn concurrently<I, T, E>(items: &[I], work: impl Fn(&[I]) -> Result<Vec<T>, E> + Sync) -> Result<Vec<T>, E>
where
    I: Sync,
    T: Send,
    E: Send,
{
    if items.len() <= CHUNK {
        return work(items);
    }
    std::thread::scope(|scope| {
        let work = &work;
        let running: Vec<_> = items.chunks(CHUNK).map(|chunk| scope.spawn(move || work(chunk))).collect();
        let mut joined = Vec::with_capacity(items.len());
        for chunk in running {
            match chunk.join() {
                Ok(result) => joined.extend(result?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(joined)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_and_the_first_error_wins() {
        let items: Vec<usize> = (0..2_500).collect();
        let doubled = concurrently(&items, |chunk| Ok::<_, String>(chunk.iter().map(|i| i * 2).collect())).unwrap();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let failed = concurrently(&items, |chunk| {
            if chunk[0] == 1_000 { Err(format!("chunk at {}", chunk[0])) } else { Ok(chunk.to_vec()) }
        });
        assert_eq!(failed.unwrap_err(), "chunk at 1000");
        let calls = std::sync::atomic::AtomicUsize::new(0);
        concurrently(&items[..CHUNK], |chunk| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, ()>(chunk.to_vec())
        })
        .unwrap();
        assert_eq!(calls.into_inner(), 1, "a list of up to CHUNK partitions is one request");
    }
}
