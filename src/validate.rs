//! Checks of the identifiers and numbers a user types for commands that act upstream, so a
//! mistake is one clear line before anything is sent, and nothing typed can reach a URL path
//! it does not belong in.

use crate::error::{Error, Result};
use crate::numbers::number_key;

/// A recipient or sender number in E.164 (`+4930123456`). National numbers get the
/// configured country code; `*`/`#` codes, letters and short internal numbers are refused.
pub fn phone_number(raw: &str, what: &str, country_code: &str) -> Result<String> {
    let refuse = |why: &str| {
        Error::usage(format!(
            "{what} {raw:?}: {why}; use E.164 like +4930123456 or a national number like 030 123456"
        ))
    };
    let key = number_key(raw, country_code).ok_or_else(|| refuse("not a phone number"))?;
    let national_or_international = {
        let trimmed = raw.trim().trim_start_matches("tel:");
        trimmed.starts_with('+') || trimmed.starts_with('0')
    };
    if !national_or_international {
        return Err(refuse("give the full number with its area or country code"));
    }
    if !(6..=15).contains(&key.len()) || key.starts_with('0') {
        return Err(refuse(
            "a phone number has 6 to 15 digits after the country code",
        ));
    }
    Ok(format!("+{key}"))
}

/// An upstream id that goes into a URL path (extension `e0`, call session, member): letters,
/// digits, `-` and `_`, so that `../` or `?` cannot change the request.
pub fn path_id(raw: &str, what: &str) -> Result<String> {
    let id = raw.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::usage(format!(
            "{what} {raw:?}: not an id; ids are letters, digits, - and _ (e.g. e0)"
        )));
    }
    Ok(id.to_string())
}

/// A call endpoint: `tel:` with a phone number, or `sip:` with an extension id. A bare phone
/// number is taken as `tel:`.
pub fn endpoint(raw: &str, what: &str, country_code: &str) -> Result<String> {
    let raw = raw.trim();
    if let Some(extension) = raw.strip_prefix("sip:") {
        return Ok(format!("sip:{}", path_id(extension, what)?));
    }
    let number = raw.strip_prefix("tel:").unwrap_or(raw);
    phone_number(number, what, country_code)
        .map(|n| format!("tel:{n}"))
        .map_err(|_| {
            Error::usage(format!(
                "{what} {raw:?}: use tel:+4930123456 (a phone) or sip:e0 (an extension)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_or_refused() {
        assert_eq!(
            phone_number("+49 30 123456", "--to", "49").unwrap(),
            "+4930123456"
        );
        assert_eq!(
            phone_number("030/123456", "--to", "49").unwrap(),
            "+4930123456"
        );
        for bad in [
            "",
            "abc",
            "*21#",
            "12",
            "123456",
            "+49",
            "+1234567890123456",
        ] {
            assert!(phone_number(bad, "--to", "49").is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_and_endpoints() {
        assert_eq!(path_id(" e0 ", "x").unwrap(), "e0");
        for bad in ["", "../x", "a/b", "a?b", "a b", "ä"] {
            assert!(path_id(bad, "x").is_err(), "{bad}");
        }
        assert_eq!(endpoint("sip:e0", "x", "49").unwrap(), "sip:e0");
        assert_eq!(
            endpoint("tel:030 123456", "x", "49").unwrap(),
            "tel:+4930123456"
        );
        assert_eq!(
            endpoint("+4930123456", "x", "49").unwrap(),
            "tel:+4930123456"
        );
        for bad in ["sip:", "sip:../a", "tel:abc", "mailto:x"] {
            assert!(endpoint(bad, "x", "49").is_err(), "{bad}");
        }
    }
}
