//! What the desk-phone formats have in common: numbers in the style the phone matches calls
//! with, fax numbers left out, each number once across the whole book (a duplicate makes snom
//! phones delete the older contact), and a cap on entries that says what it left out.

use std::collections::HashSet;

use super::contact::{Contact, Number};

/// How numbers are written for the phone. The phone shows a caller's name only when the
/// number it receives matches the book's, so pick what your PBX delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NumberStyle {
    /// International with +: +49301234567
    E164,
    /// National: 0301234567 (upstream's local form, or derived with the country code)
    National,
    /// International digits without +: 49301234567
    Digits,
}

/// The kind of a number as the phone formats name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Work,
    Home,
    Mobile,
    Fax,
    Other,
}

impl Kind {
    fn of(number: &Number) -> Kind {
        let has = |t: &str| number.types.iter().any(|x| x == t);
        if has("FAX") {
            Kind::Fax
        } else if has("CELL") {
            Kind::Mobile
        } else if has("HOME") {
            Kind::Home
        } else if has("WORK") {
            Kind::Work
        } else {
            Kind::Other
        }
    }
}

#[derive(Debug, Clone)]
pub struct PhoneOptions {
    pub style: NumberStyle,
    pub include_fax: bool,
    pub max_entries: usize,
    pub country_code: String,
}

/// A number ready for a phone book.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumber {
    pub text: String,
    pub kind: Kind,
}

/// A contact with the numbers it keeps.
#[derive(Debug, Clone)]
pub struct PhoneContact<'a> {
    pub contact: &'a Contact,
    pub numbers: Vec<PhoneNumber>,
}

/// Contacts ready for a phone format, and what was left out on the way.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub contacts: Vec<PhoneContact<'a>>,
    pub notes: Vec<String>,
}

/// Only `0-9 + * #`: spaces, `-`, `/`, brackets and anything else go.
pub fn clean(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#'))
        .collect()
}

/// `number` in `style`.
pub fn styled(number: &Number, style: NumberStyle, country_code: &str) -> String {
    let key = number.key.as_deref().filter(|k| !k.is_empty());
    match (style, key) {
        (NumberStyle::E164, Some(key)) => format!("+{key}"),
        (NumberStyle::Digits, Some(key)) => key.to_string(),
        (NumberStyle::National, _)
            if number
                .local
                .as_deref()
                .is_some_and(|l| !clean(l).is_empty()) =>
        {
            clean(number.local.as_deref().unwrap_or(""))
        }
        (NumberStyle::National, Some(key)) => match key.strip_prefix(country_code) {
            Some(rest) => format!("0{rest}"),
            None => format!("00{key}"),
        },
        // A number that could not be read (a short extension, letters): as written, cleaned.
        _ => clean(&number.value),
    }
}

/// Applies the number rules to `contacts` (already in export order).
pub fn prepare<'a>(contacts: &'a [Contact], options: &PhoneOptions) -> Prepared<'a> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut duplicates = 0usize;
    let mut faxes = 0usize;
    let mut without = Vec::new();
    let mut prepared = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let mut numbers = Vec::new();
        for number in &contact.numbers {
            let kind = Kind::of(number);
            if kind == Kind::Fax && !options.include_fax {
                faxes += 1;
                continue;
            }
            let text = styled(number, options.style, &options.country_code);
            if text.is_empty() {
                continue;
            }
            // The first contact in export order keeps a number; the identity is the
            // normalized number where there is one.
            let identity = number.key.clone().unwrap_or_else(|| text.clone());
            if !seen.insert(identity) {
                duplicates += 1;
                continue;
            }
            numbers.push(PhoneNumber { text, kind });
        }
        if numbers.is_empty() {
            without.push(display_name(contact));
        } else {
            prepared.push(PhoneContact { contact, numbers });
        }
    }
    let mut notes = Vec::new();
    if faxes > 0 {
        notes.push(format!(
            "left out {faxes} fax numbers (--include-fax keeps them)"
        ));
    }
    if duplicates > 0 {
        notes.push(format!(
            "left out {duplicates} numbers that an earlier contact already has"
        ));
    }
    if !without.is_empty() {
        notes.push(format!(
            "left out {} contacts without a number to dial: {}",
            without.len(),
            sample(&without)
        ));
    }
    Prepared {
        contacts: prepared,
        notes,
    }
}

/// Keeps contacts while their records fit in `max` and says who did not fit. `records` counts
/// what one contact costs in the format (snom's master/member form: numbers + 1).
pub fn cap<'a>(
    prepared: &mut Prepared<'a>,
    max: usize,
    records: impl Fn(&PhoneContact<'a>) -> usize,
) {
    let mut used = 0;
    let mut keep = 0;
    for contact in &prepared.contacts {
        let cost = records(contact);
        if used + cost > max {
            break;
        }
        used += cost;
        keep += 1;
    }
    if keep < prepared.contacts.len() {
        let left: Vec<String> = prepared.contacts[keep..]
            .iter()
            .map(|c| display_name(c.contact))
            .collect();
        prepared.notes.push(format!(
            "left out {} contacts beyond the limit of {max} entries (--max-entries): {}",
            left.len(),
            sample(&left)
        ));
        prepared.contacts.truncate(keep);
    }
}

/// Whether a text shows anything: a name of only spaces or control characters does not.
pub fn is_visible(text: &str) -> bool {
    text.chars().any(|c| !c.is_control() && !c.is_whitespace())
}

pub fn display_name(contact: &Contact) -> String {
    let name = [&contact.name, &contact.organization]
        .into_iter()
        .find(|n| is_visible(n))
        .cloned()
        .or_else(|| {
            contact
                .numbers
                .iter()
                .map(|n| &n.value)
                .find(|v| is_visible(v))
                .cloned()
        })
        .unwrap_or_else(|| "(no name)".to_string());
    // One line with single spaces; characters a format cannot hold are its writer's business.
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first few names of a list, for a warning.
fn sample(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    match names.len() {
        n if n > 5 => format!("{}, and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(value: &str, local: Option<&str>, key: Option<&str>, types: &[&str]) -> Number {
        Number {
            value: value.into(),
            local: local.map(Into::into),
            key: key.map(Into::into),
            types: types.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn styles() {
        let n = number("+49 (30) 123-45/67", None, Some("49301234567"), &["WORK"]);
        assert_eq!(styled(&n, NumberStyle::E164, "49"), "+49301234567");
        assert_eq!(styled(&n, NumberStyle::Digits, "49"), "49301234567");
        assert_eq!(styled(&n, NumberStyle::National, "49"), "0301234567");
        assert_eq!(styled(&n, NumberStyle::National, "43"), "0049301234567");
        let local = number(
            "+49 30 1234567",
            Some("030 / 1234567"),
            Some("49301234567"),
            &[],
        );
        assert_eq!(styled(&local, NumberStyle::National, "49"), "0301234567");
        let short = number("**21#", None, None, &[]);
        assert_eq!(styled(&short, NumberStyle::E164, "49"), "**21#");
    }

    #[test]
    fn faxes_duplicates_and_empty_contacts_are_left_out_with_notes() {
        let contacts = vec![
            Contact {
                uuid: "a".into(),
                name: "A".into(),
                numbers: vec![
                    number("+49 30 1", None, Some("49301"), &["WORK"]),
                    number("+49 30 2", None, Some("49302"), &["FAX"]),
                ],
                ..Contact::default()
            },
            Contact {
                uuid: "b".into(),
                name: "B".into(),
                numbers: vec![number("030 1", None, Some("49301"), &["HOME"])],
                ..Contact::default()
            },
        ];
        let options = PhoneOptions {
            style: NumberStyle::E164,
            include_fax: false,
            max_entries: 1000,
            country_code: "49".into(),
        };
        let mut prepared = prepare(&contacts, &options);
        assert_eq!(prepared.contacts.len(), 1);
        assert_eq!(prepared.contacts[0].numbers.len(), 1);
        assert_eq!(prepared.notes.len(), 3, "{:?}", prepared.notes);
        cap(&mut prepared, 0, |_| 1);
        assert!(prepared.contacts.is_empty());
        assert!(prepared.notes.last().unwrap().contains("limit of 0"));
    }
}
