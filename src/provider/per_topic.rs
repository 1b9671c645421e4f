//! Cloud APIs answer per topic (every partition's watermarks in one listing);
//! ebb asks per partition. These helpers turn one into the other.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ProviderError, ProviderResult, TopicPartition, Watermarks};

/// The distinct topics of `partitions`, in first-seen order.
pub fn topics_of(partitions: &[TopicPartition]) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    for tp in partitions {
        if !topics.contains(&tp.topic) {
            topics.push(tp.topic.clone());
        }
    }
    topics
}

/// The watermarks of each asked partition, in the order asked, from one
/// listing per topic (`list(topic)`: every partition of it).
pub async fn watermarks_by_topic<F, Fut>(
    cluster: &str,
    asked: &[TopicPartition],
    mut list: F,
) -> ProviderResult<Vec<Watermarks>>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = ProviderResult<Vec<Watermarks>>>,
{
    let mut listed = BTreeMap::new();
    for topic in topics_of(asked) {
        let marks = list(topic.clone()).await?;
        listed.insert(topic, marks);
    }
    pick_watermarks(cluster, asked, &listed)
}

/// The watermarks of each asked partition, in the order asked, from each
/// topic's full listing; a partition the listing lacks is `UnknownPartition`.
pub fn pick_watermarks(
    cluster: &str,
    asked: &[TopicPartition],
    listed: &BTreeMap<String, Vec<Watermarks>>,
) -> ProviderResult<Vec<Watermarks>> {
    asked
        .iter()
        .map(|tp| {
            let partitions = listed.get(&tp.topic).map(Vec::as_slice).unwrap_or_default();
            partitions.iter().find(|w| w.partition == tp.partition).cloned().ok_or_else(|| {
                ProviderError::UnknownPartition {
                    cluster: cluster.to_owned(),
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    count: partitions.len(),
                }
            })
        })
        .collect()
}

/// A number sent either as a JSON number or as a string of digits.
pub fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn partitions_come_back_in_the_order_asked_and_a_missing_one_is_named() {
        let marks = |p| Watermarks { topic: "t".into(), partition: p, log_start: 0, log_end: 10 + i64::from(p) };
        let listed = BTreeMap::from([("t".to_owned(), vec![marks(0), marks(1)])]);
        let asked = [TopicPartition::new("t", 1), TopicPartition::new("t", 0)];
        let picked = pick_watermarks("c", &asked, &listed).unwrap();
        assert_eq!(picked, vec![marks(1), marks(0)]);
        let error = pick_watermarks("c", &[TopicPartition::new("t", 5)], &listed).unwrap_err();
        assert!(matches!(error, ProviderError::UnknownPartition { partition: 5, count: 2, .. }), "{error}");
        assert_eq!(
            topics_of(&[TopicPartition::new("b", 0), TopicPartition::new("a", 0), TopicPartition::new("b", 1)]),
            ["b", "a"]
        );
    }

    #[test]
    fn numbers_are_read_from_either_json_form() {
        assert_eq!(int_of(&json!(7)), Some(7));
        assert_eq!(int_of(&json!("7")), Some(7));
        assert_eq!(int_of(&json!("x")), None);
        assert_eq!(int_of(&json!(null)), None);
    }
}
