//! A crontab expression in words (`0 2 * * 1-5` → "At 2:00 AM, Monday
//! through Friday"), for people reading a schedule on the console.

/// The expression in words, or `None` when it cannot be put in words.
pub fn in_words(cron: &str) -> Option<String> {
    let expanded = match cron.trim() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    }
    .to_owned();
    // The describer is a port with its own parser; a panic in it must not take a page down.
    std::panic::catch_unwind(move || {
        cron_descriptor::cronparser::cron_expression_descriptor::get_description_cron(&expanded).ok()
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_schedules_read_as_words() {
        assert_eq!(in_words("0 2 * * *").as_deref(), Some("At 2:00 AM"));
        assert_eq!(in_words("*/15 * * * *").as_deref(), Some("Every 15 minutes"));
        assert_eq!(in_words("0 3 * * 1-5").as_deref(), Some("At 3:00 AM, Monday through Friday"));
        assert_eq!(in_words("@daily").as_deref(), Some("At 12:00 AM"));
        assert_eq!(in_words("not cron"), None);
    }
}
