//! Durations as operators write them: `90s`, `15m`, `2h`, `7d`, `500ms`, compounds
//! such as `1h30m`, and ISO-8601 `PT2H`, `P7D`, `P1DT12H`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {}: {reason} (write e.g. 90s, 15m, 2h, 7d, PT2H or P7D)", crate::shown::quoted(.input))]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

/// A duration read from YAML or the command line, printed back the way it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanDuration {
    pub duration: Duration,
    pub text: String,
}

impl HumanDuration {
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        Ok(HumanDuration { duration: parse_duration(text)?, text: text.trim().to_owned() })
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HumanDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    let err = |reason| DurationError { input: input.to_owned(), reason };
    if text.is_empty() {
        return Err(err("it is empty"));
    }
    if let Some(iso) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        return parse_iso(iso).ok_or_else(|| err("not a valid ISO-8601 duration"));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(err("expected a number"));
        }
        let value: u64 = rest[..digits].parse().map_err(|_| err("the number is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "" => return Err(err("a unit is missing (ms, s, m, h, d or w)")),
            _ => return Err(err("unknown unit (use ms, s, m, h, d or w)")),
        };
        let millis = value.checked_mul(millis_per_unit).ok_or_else(|| err("it is too large"))?;
        total = total.checked_add(Duration::from_millis(millis)).ok_or_else(|| err("it is too large"))?;
    }
    Ok(total)
}

/// `nW`, `nD`, then after `T`: `nH`, `nM`, `nS` (seconds may have a fraction).
fn parse_iso(body: &str) -> Option<Duration> {
    let (date, time) = match body.split_once(['T', 't']) {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (body, None),
    };
    let mut seconds = 0f64;
    let mut any = false;
    for (part, units) in [
        (date, &[('W', 604_800f64), ('D', 86_400f64)][..]),
        (time.unwrap_or(""), &[('H', 3_600f64), ('M', 60f64), ('S', 1f64)][..]),
    ] {
        let mut rest = part;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
            let number: f64 = rest[..end].parse().ok()?;
            if !number.is_finite() || number < 0.0 {
                return None;
            }
            let unit = rest[end..].chars().next()?.to_ascii_uppercase();
            let position = units.iter().skip(next_unit).position(|(u, _)| *u == unit)? + next_unit;
            seconds += number * units[position].1;
            next_unit = position + 1;
            any = true;
            rest = &rest[end + 1..];
        }
    }
    (any && seconds.is_finite()).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        let cases = [
            ("90s", 90),
            ("15m", 900),
            ("2h", 7_200),
            ("7d", 604_800),
            ("1h30m", 5_400),
            ("1w", 604_800),
            ("PT2H", 7_200),
            ("P7D", 604_800),
            ("P1DT12H", 129_600),
            ("PT1M30S", 90),
        ];
        for (text, secs) in cases {
            assert_eq!(parse_duration(text).unwrap(), Duration::from_secs(secs), "{text}");
        }
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn rejects_malformed_input_with_the_input_named() {
        for text in ["", "h", "10", "10x", "PT", "P", "PT2X", "P1H", "-5m", "PT1S2H"] {
            let err = parse_duration(text).unwrap_err();
            assert_eq!(err.input, text);
            assert!(err.to_string().contains("invalid duration"), "{err}");
        }
    }
}
