//! Phone numbers in one comparable form, so a call from `0301234567` finds the contact saved
//! as `+49 30 1234567`.

/// The lookup key of a number: digits only, international, without `+` or `00`
/// (`+49 (30) 123-45` → `493012345`). National numbers (`030 ...`) get `country_code`; short
/// internal numbers (no leading 0, under 7 digits) are kept as they are. `*` and `#` codes and
/// anything with letters have no key.
pub fn number_key(raw: &str, country_code: &str) -> Option<String> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix("tel:").unwrap_or(trimmed);
    let mut cleaned = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            '0'..='9' | '+' => cleaned.push(c),
            ' ' | '-' | '/' | '(' | ')' | '.' | '\u{a0}' => {}
            _ => return None,
        }
    }
    if cleaned.is_empty() || cleaned[1..].contains('+') {
        return None;
    }
    let key = if let Some(international) = cleaned.strip_prefix('+') {
        international.to_string()
    } else if let Some(international) = cleaned.strip_prefix("00") {
        international.to_string()
    } else if let Some(national) = cleaned.strip_prefix('0') {
        format!("{country_code}{national}")
    } else {
        cleaned
    };
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::number_key;

    #[test]
    fn forms_of_one_number_share_a_key() {
        for form in [
            "+49 30 1234567",
            "030 1234567",
            "0049301234567",
            "49301234567",
            "+49 (30) 123-45-67",
            "tel:+49301234567",
            "030/1234567",
        ] {
            assert_eq!(
                number_key(form, "49").as_deref(),
                Some("49301234567"),
                "{form}"
            );
        }
    }

    #[test]
    fn other_countries_and_short_numbers() {
        assert_eq!(
            number_key("0044 20 7946 0000", "49").as_deref(),
            Some("442079460000")
        );
        assert_eq!(
            number_key("01 23 45 67 89", "33").as_deref(),
            Some("33123456789")
        );
        assert_eq!(number_key("21", "49").as_deref(), Some("21"));
    }

    #[test]
    fn garbage_has_no_key() {
        for bad in ["", "anonymous", "+", "*21#", "12+34", "0800-FLOWERS"] {
            assert_eq!(number_key(bad, "49"), None, "{bad}");
        }
    }
}
