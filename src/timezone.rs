//! The time zone of the mirror's local-time columns (`created_local`): `timezone` in the config
//! file, else `TZ`, else the system's (`/etc/localtime`), else UTC.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// Resolves the zone: the configured name if any (an unknown name is an error), else the
/// environment's and the system's, else UTC.
pub fn resolve(configured: Option<&str>) -> Result<Tz> {
    if let Some(name) = configured {
        return name.parse::<Tz>().map_err(|_| {
            Error::usage(format!(
                "timezone {name:?} is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\""
            ))
        });
    }
    let from_env = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string());
    let system = iana_time_zone::get_timezone().ok();
    Ok(from_env
        .into_iter()
        .chain(system)
        .find_map(|name| name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC))
}

/// A mirror UTC timestamp (`2026-03-29T01:30:00.000Z`) as wall-clock time in `tz`
/// (`2026-03-29 03:30:00` in Europe/Berlin); `None` if it does not parse.
pub fn local_wall_time(utc: &str, tz: Tz) -> Option<String> {
    let instant = DateTime::parse_from_rfc3339(utc).ok()?.with_timezone(&Utc);
    // Written out rather than through `format`, which parses its pattern on every call: the
    // sync calls this for every event it stores.
    let local = instant.with_timezone(&tz);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_follows_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            local_wall_time("2026-01-15T12:00:00.000Z", berlin).as_deref(),
            Some("2026-01-15 13:00:00")
        );
        assert_eq!(
            local_wall_time("2026-07-15T12:00:00.000Z", berlin).as_deref(),
            Some("2026-07-15 14:00:00")
        );
        assert_eq!(local_wall_time("not a time", berlin), None);
    }

    #[test]
    fn configured_names_are_checked() {
        assert_eq!(resolve(Some("UTC")).unwrap(), Tz::UTC);
        let error = resolve(Some("Mars/Olympus")).unwrap_err();
        assert!(error.to_string().contains("IANA"), "{error}");
    }
}
