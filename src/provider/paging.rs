//! Listings the cloud APIs answer a page at a time, read whole.

use std::future::Future;

use super::{Provider, ProviderResult, TopicDescription};

/// Every item of a listing: `page(skip)` answers the items from `skip` on and
/// the total when the API gives one; reading stops at an empty page or once
/// the total is reached.
pub async fn all_pages<T, F, Fut>(mut page: F) -> ProviderResult<Vec<T>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ProviderResult<(Vec<T>, Option<i64>)>>,
{
    let mut items = Vec::new();
    loop {
        let (got, total) = page(items.len()).await?;
        let empty = got.is_empty();
        items.extend(got);
        if empty || total.is_none_or(|t| items.len() as i64 >= t) {
            return Ok(items);
        }
    }
}

/// Each named topic described, sorted by name.
pub async fn describe_topics<P: Provider>(
    provider: &P,
    mut names: Vec<String>,
) -> ProviderResult<Vec<TopicDescription>> {
    names.sort();
    let mut topics = Vec::with_capacity(names.len());
    for name in names {
        topics.push(provider.topic(&name).await?);
    }
    Ok(topics)
}
