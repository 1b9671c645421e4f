//! Kafka's own rules for the names ebb sends, checked before any request:
//! a topic is 1 to 249 characters of `[a-zA-Z0-9._-]` and neither `.` nor
//! `..` (the broker's rule); a group id is 1 to 255 bytes without control
//! characters (ebb's bound: Kafka itself takes any string, and a 32 KB one
//! once wedged a client). Rendered names are checked by the step fields that
//! hold them, literal names by validation, and every provider call checks
//! again, so no path reaches the broker with a bad one. docs/SECURITY.md.

/// The longest topic name Kafka accepts.
pub const MAX_TOPIC_LEN: usize = 249;
/// The longest group id ebb sends.
pub const MAX_GROUP_BYTES: usize = 255;

/// A name that breaks the rules, shown cut short and escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown} is not a valid Kafka {what} name: {reason}")]
pub struct BadName {
    pub what: &'static str,
    pub shown: String,
    pub reason: String,
}

fn bad(what: &'static str, name: &str, reason: String) -> BadName {
    BadName { what, shown: crate::shown::quoted(name), reason }
}

pub fn check_topic(name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        return Err(bad("topic", name, "it is empty".to_owned()));
    }
    if name.len() > MAX_TOPIC_LEN {
        return Err(bad("topic", name, format!("it is {} characters long; at most {MAX_TOPIC_LEN}", name.len())));
    }
    if name == "." || name == ".." {
        return Err(bad("topic", name, "`.` and `..` are not topic names".to_owned()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(bad("topic", name, format!("{:?} is not one of a-z A-Z 0-9 . _ -", c)));
    }
    Ok(())
}

pub fn check_group(name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        return Err(bad("group", name, "it is empty".to_owned()));
    }
    if name.len() > MAX_GROUP_BYTES {
        return Err(bad(
            "group",
            name,
            format!("it is {} bytes long; ebb sends at most {MAX_GROUP_BYTES}", name.len()),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("group", name, "it holds a control character".to_owned()));
    }
    Ok(())
}

/// Checks `name` as a topic (`is_topic`) or a group.
pub fn check(is_topic: bool, name: &str) -> Result<(), BadName> {
    if is_topic { check_topic(name) } else { check_group(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_the_brokers_rule() {
        for good in ["orders", "a.b_c-D9", &"x".repeat(249)] {
            assert_eq!(check_topic(good), Ok(()), "{good}");
        }
        for bad in ["", ".", "..", "has space", "slash/x", "ümlaut", &"x".repeat(250)] {
            assert!(check_topic(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn groups_are_bounded_and_printable() {
        assert_eq!(check_group("billing workers (eu)"), Ok(()));
        assert!(check_group("").is_err());
        assert!(check_group("a\nb").is_err());
        let huge = "g".repeat(32_768);
        let e = check_group(&huge).unwrap_err().to_string();
        assert!(e.contains("32768 bytes") && e.len() < 200, "{e}");
    }
}
