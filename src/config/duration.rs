//! Durations in the config file and on the command line.

use std::time::Duration;

/// `90s`, `15m`, `24h`, `7d`, `250ms`: a number and a unit.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 90s, 15m, 24h or 7d"))?;
    let seconds = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unknown unit; use ms, s, m, h or d")),
    };
    // A hundred years is more than any setting needs, and keeps every date computed from a
    // duration (a lookback, a media age) inside the calendar.
    const MAX_SECONDS: u64 = 36_500 * 86_400;
    match n.checked_mul(seconds) {
        Some(total) if total <= MAX_SECONDS => Ok(Duration::from_secs(total)),
        _ => Err(format!("{text:?} is too long; at most 36500d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_that_would_overflow_are_refused() {
        for text in [
            "100000000d",
            "99999999999d",
            "18446744073709551615s",
            "36501d",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_duration("36500d").ok(),
            Some(Duration::from_secs(36500 * 86_400))
        );
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 90s "), Ok(Duration::from_secs(90)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3w").is_err());
    }
}
