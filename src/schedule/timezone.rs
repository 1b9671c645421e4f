//! IANA time zone names (`Europe/Berlin`, `UTC`).

use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {name:?}: use an IANA name such as UTC, Europe/Berlin or America/New_York")]
pub struct TimezoneError {
    pub name: String,
}

pub fn parse_timezone(name: &str) -> Result<Tz, TimezoneError> {
    name.parse::<Tz>().map_err(|_| TimezoneError { name: name.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse_and_others_do_not() {
        assert_eq!(parse_timezone("Europe/Berlin").unwrap(), Tz::Europe__Berlin);
        assert_eq!(parse_timezone("UTC").unwrap(), Tz::UTC);
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert!(parse_timezone("CEST+2").is_err());
    }
}
