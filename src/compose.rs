//! Turns what a user typed for `send sms|fax` into a checked [`SendRequest`]. Everything is
//! checked here, before anything is queued, so a mistake is one clear line at once, not a
//! failed send an hour later from cron.

use std::path::Path;

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::store::sends::{Document, SendRequest};
use crate::validate::phone_number;

/// Upstream's limit for one SMS (it splits longer texts into parts up to this).
pub const MAX_SMS_CHARS: usize = 460;

/// The recipients, each checked; duplicates are removed (one message per recipient).
pub fn recipients(raw: &[String], country_code: &str) -> Result<Vec<String>> {
    let mut numbers: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let number = phone_number(r, "--to", country_code)?;
        if !numbers.contains(&number) {
            numbers.push(number);
        }
    }
    Ok(numbers)
}

/// An SMS text: not empty, at most 460 characters, no control characters but line breaks
/// and tabs.
pub fn sms_text(text: &str) -> Result<String> {
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err(Error::usage("--text: the SMS text is empty"));
    }
    let length = text.chars().count();
    if length > MAX_SMS_CHARS {
        return Err(Error::usage(format!(
            "--text: {length} characters; an SMS may have {MAX_SMS_CHARS} at most"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::usage(format!(
            "--text: contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(text.to_string())
}

/// `--at` ('YYYY-MM-DD HH:MM[:SS]' in `tz`) as upstream's `schedule`: UTC
/// 'YYYY-MM-DD HH:MM:SS'. It must be in the future.
pub fn schedule(at: &str, tz: Tz, now: chrono::DateTime<Utc>) -> Result<String> {
    let wall = NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%d %H:%M"))
        .map_err(|_| {
            Error::usage(format!(
                "--at {at:?}: not a time; use 'YYYY-MM-DD HH:MM:SS' (local time, {tz})"
            ))
        })?;
    // In the hour a clock is turned back, the earlier of the two instants.
    let instant = tz.from_local_datetime(&wall).earliest().ok_or_else(|| {
        Error::usage(format!(
            "--at {at:?}: that time does not exist in {tz} (the clocks skip it)"
        ))
    })?;
    let utc = instant.with_timezone(&Utc);
    if utc <= now {
        return Err(Error::usage(format!(
            "--at {at:?}: that is in the past ({tz}); leave --at out to send at once"
        )));
    }
    Ok(utc.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// A scheduled message lies within `max_days` ahead, as far as `api` takes a schedule;
/// refused before anything is queued.
pub fn within_schedule(schedule: Option<&str>, max_days: Option<i64>, api: &str) -> Result<()> {
    let (Some(at), Some(days)) = (schedule, max_days) else {
        return Ok(());
    };
    let latest = (Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    if at > latest.as_str() {
        return Err(Error::usage(format!(
            "--at: {api} schedules a message at most {days} days ahead ({at} UTC is later)"
        )));
    }
    Ok(())
}

/// The checked request of an SMS.
pub fn sms(
    to: &[String],
    text: &str,
    from: Option<&str>,
    at: Option<&str>,
    country_code: &str,
    tz: Tz,
) -> Result<SendRequest> {
    Ok(SendRequest {
        targets: recipients(to, country_code)?,
        source: from
            .map(|f| phone_number(f, "--from", country_code))
            .transpose()?,
        schedule: at.map(|a| schedule(a, tz, Utc::now())).transpose()?,
        text: Some(sms_text(text)?),
        file_name: None,
        pages: None,
    })
}

/// A fax ready to queue: the request and the document it carries.
pub struct Fax {
    pub request: SendRequest,
    pub file_name: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

impl Fax {
    pub fn document(&self) -> Document<'_> {
        Document {
            file_name: &self.file_name,
            pages: self.request.pages.unwrap_or(0),
            sha256: &self.sha256,
            content: &self.content,
        }
    }
}

/// A fax to `to` of the PDF at `file`, from the fax extension `from` (checked for its form
/// here; whether the account has it, the caller checks against the mirror).
pub fn fax(
    to: &[String],
    from: Option<&str>,
    at: Option<&str>,
    file: &Path,
    country_code: &str,
    tz: Tz,
) -> Result<Fax> {
    let targets = recipients(to, country_code)?;
    let source = from
        .map(|f| crate::validate::path_id(f, "--from"))
        .transpose()?;
    let schedule = at.map(|a| schedule(a, tz, Utc::now())).transpose()?;
    // At most one byte more than a fax may hold: a pipe or a device (`/dev/zero`) has no size
    // to check first.
    let mut content = Vec::new();
    {
        use std::io::Read;
        std::fs::File::open(file)
            .and_then(|f| {
                f.take(crate::pdf::MAX_FAX_BYTES as u64 + 1)
                    .read_to_end(&mut content)
            })
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", file.display())))?;
    }
    let pages = crate::pdf::fax_pages(&content)
        .map_err(|why| Error::usage(format!("{}: {why}", file.display())))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fax.pdf".to_string());
    Ok(Fax {
        request: SendRequest {
            targets,
            source,
            schedule,
            text: None,
            file_name: Some(file_name.clone()),
            pages: Some(pages),
        },
        sha256: crate::fsutil::sha256_hex(&content),
        file_name,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_deduplicated() {
        assert_eq!(
            recipients(&["+4930123456".into(), "030 123456".into()], "49").unwrap(),
            vec!["+4930123456"]
        );
    }

    #[test]
    fn texts_are_checked() {
        assert_eq!(sms_text("Hallo\n").unwrap(), "Hallo");
        assert!(sms_text("  \n").is_err());
        assert!(sms_text(&"ä".repeat(460)).is_ok());
        assert!(sms_text(&"ä".repeat(461)).is_err());
        assert!(sms_text("a\u{0}b").is_err());
        assert!(sms_text("two\nlines\ttab").is_ok());
    }

    #[test]
    fn schedules_are_local_future_times() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            schedule("2026-03-01 14:30", berlin, now).unwrap(),
            "2026-03-01 13:30:00"
        );
        assert!(schedule("2026-03-01 12:59:59", berlin, now).is_err());
        assert!(schedule("tomorrow", berlin, now).is_err());
        // 02:30 on the day clocks go forward does not exist in Berlin.
        assert!(schedule("2026-03-29 02:30:00", berlin, now).is_err());
    }
}
