//! What the desk-phone formats have in common: numbers in the style the phone matches calls
//! with, fax numbers left out, each number once across the whole book (a duplicate makes snom
//! phones delete the older contact), and a cap on entries that says what it left out.

use std::collections::HashSet;
use std::ops::Range;

use super::contact::{Contact, Number};
use super::texts::{Span, Texts};

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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneNumber<'a> {
    pub text: &'a str,
    pub kind: Kind,
}

/// A contact as a phone book shows it: its names and the numbers it keeps.
#[derive(Debug, Clone)]
pub struct PhoneContact<'a> {
    pub uuid: &'a str,
    /// [`display_name`]: one line, never empty.
    pub display: &'a str,
    pub given: &'a str,
    pub family: &'a str,
    pub organization: &'a str,
    pub emails: Vec<&'a str>,
    pub numbers: Vec<PhoneNumber<'a>>,
}

/// A contact as a [`Collector`] holds it: only what a phone book shows, as spans of one text
/// buffer, and the ranges of its numbers and e-mails in the collector's lists.
#[derive(Debug, Clone)]
struct Held {
    sort_key: Span,
    uuid: Span,
    display: Span,
    given: Span,
    family: Span,
    organization: Span,
    emails: Range<usize>,
    numbers: Range<usize>,
}

#[derive(Debug, Clone, Copy)]
struct HeldNumber {
    text: Span,
    /// What makes two numbers the same across contacts: the normalized number where there is
    /// one, else the text.
    identity: Span,
    kind: Kind,
    /// False once an earlier contact turned out to have the same number.
    kept: bool,
}

/// Appends `number` with only `0-9 + * #`: spaces, `-`, `/`, brackets and anything else go.
fn clean_into(number: &str, out: &mut String) {
    out.extend(
        number
            .chars()
            .filter(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#')),
    );
}

/// Appends `number` in `style` to `out`.
fn styled_into(number: &Number, style: NumberStyle, country_code: &str, out: &mut String) {
    let key = number.key.as_deref().filter(|k| !k.is_empty());
    let local = number.local.as_deref().filter(|l| {
        l.chars()
            .any(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#'))
    });
    match (style, key, local) {
        (NumberStyle::E164, Some(key), _) => {
            out.push('+');
            out.push_str(key);
        }
        (NumberStyle::Digits, Some(key), _) => out.push_str(key),
        (NumberStyle::National, _, Some(local)) => clean_into(local, out),
        (NumberStyle::National, Some(key), None) => match key.strip_prefix(country_code) {
            Some(rest) => {
                out.push('0');
                out.push_str(rest);
            }
            None => {
                out.push_str("00");
                out.push_str(key);
            }
        },
        // A number that could not be read (a short extension, letters): as written, cleaned.
        _ => clean_into(&number.value, out),
    }
}

/// Contacts ready for a phone format, in export order, and what was left out on the way.
#[derive(Debug)]
pub struct Prepared {
    texts: Texts,
    /// The contacts that keep at least one number, in export order.
    contacts: Vec<Held>,
    numbers: Vec<HeldNumber>,
    emails: Vec<Span>,
    pub notes: Vec<String>,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// The contacts in export order, with the numbers each keeps.
    pub fn contacts(&self) -> impl Iterator<Item = PhoneContact<'_>> {
        self.contacts.iter().map(|held| self.view(held))
    }

    fn view(&self, held: &Held) -> PhoneContact<'_> {
        let text = |span| self.texts.get(span);
        PhoneContact {
            uuid: text(held.uuid),
            display: text(held.display),
            given: text(held.given),
            family: text(held.family),
            organization: text(held.organization),
            emails: self.emails[held.emails.clone()]
                .iter()
                .map(|&span| text(span))
                .collect(),
            numbers: self
                .kept_numbers(held)
                .map(|n| PhoneNumber {
                    text: text(n.text),
                    kind: n.kind,
                })
                .collect(),
        }
    }

    fn kept_numbers(&self, held: &Held) -> impl Iterator<Item = &HeldNumber> {
        self.numbers[held.numbers.clone()].iter().filter(|n| n.kept)
    }

    /// Keeps contacts while their records fit in `max` and says who did not fit. `records`
    /// counts what a contact with that many numbers costs in the format (snom's master/member
    /// form: numbers + 1).
    pub fn cap(&mut self, max: usize, records: impl Fn(usize) -> usize) {
        let mut used = 0;
        let mut keep = 0;
        for held in &self.contacts {
            let cost = records(self.kept_numbers(held).count());
            if used + cost > max {
                break;
            }
            used += cost;
            keep += 1;
        }
        if keep < self.contacts.len() {
            let left: Vec<String> = self.contacts[keep..]
                .iter()
                .map(|held| self.texts.get(held.display).to_string())
                .collect();
            self.notes.push(format!(
                "left out {} contacts beyond the limit of {max} entries (--max-entries): {}",
                left.len(),
                sample(&left)
            ));
            self.contacts.truncate(keep);
        }
    }
}

/// Collects contacts (in any order, one at a time) for a phone book, keeping only what the
/// book shows; [`Collector::finish`] puts them in export order and applies the rules that need
/// that order (each number once: the first contact keeps it).
pub struct Collector {
    options: PhoneOptions,
    texts: Texts,
    contacts: Vec<Held>,
    numbers: Vec<HeldNumber>,
    emails: Vec<Span>,
    faxes: usize,
}

impl Collector {
    pub fn new(options: PhoneOptions) -> Collector {
        Collector {
            options,
            texts: Texts::default(),
            contacts: Vec::new(),
            numbers: Vec::new(),
            emails: Vec::new(),
            faxes: 0,
        }
    }

    /// Keeps what the book needs of `contact`: its names, e-mails and the numbers a phone can
    /// dial, in the options' style (fax numbers only if asked for).
    pub fn add(&mut self, contact: &Contact) {
        let (options, texts) = (&self.options, &mut self.texts);
        let first_number = self.numbers.len();
        for number in &contact.numbers {
            let kind = Kind::of(number);
            if kind == Kind::Fax && !options.include_fax {
                self.faxes += 1;
                continue;
            }
            let text = texts
                .push_with(|out| styled_into(number, options.style, &options.country_code, out));
            if text.is_empty() {
                continue;
            }
            let identity = match number.key.as_deref().filter(|k| !k.is_empty()) {
                Some(key) if key != texts.get(text) => texts.push(key),
                _ => text,
            };
            self.numbers.push(HeldNumber {
                text,
                identity,
                kind,
                kept: true,
            });
        }
        let first_email = self.emails.len();
        for (_, email) in &contact.emails {
            self.emails.push(texts.push(email));
        }
        self.contacts.push(Held {
            sort_key: texts.push_with(|out| contact.write_sort_key(out)),
            uuid: texts.push(&contact.uuid),
            display: texts.push(&display_name(contact)),
            given: texts.push(&contact.given),
            family: texts.push(&contact.family),
            organization: texts.push(&contact.organization),
            emails: first_email..self.emails.len(),
            numbers: first_number..self.numbers.len(),
        });
    }

    pub fn finish(self) -> Prepared {
        let Collector {
            texts,
            contacts,
            mut numbers,
            emails,
            faxes,
            ..
        } = self;
        let keys: Vec<Span> = contacts.iter().map(|held| held.sort_key).collect();
        let order = texts.sorted_order(&keys);
        let mut seen: HashSet<&str> = HashSet::with_capacity(numbers.len());
        let mut duplicates = 0usize;
        let mut without = Vec::new();
        let mut kept = Vec::with_capacity(contacts.len());
        for index in order {
            let held = &contacts[index];
            let mut any = false;
            for number in &mut numbers[held.numbers.clone()] {
                number.kept = seen.insert(texts.get(number.identity));
                duplicates += usize::from(!number.kept);
                any |= number.kept;
            }
            if any {
                kept.push(held.clone());
            } else {
                without.push(texts.get(held.display).to_string());
            }
        }
        drop(seen);
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
            texts,
            contacts: kept,
            numbers,
            emails,
            notes,
        }
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
/// Up to five names, each once (a name several contacts share is counted: "Ólafur Bäcker
/// (3 contacts)"), and how many contacts are not named.
fn sample(names: &[String]) -> String {
    let mut distinct: Vec<(&str, usize)> = Vec::new();
    for name in names {
        if let Some((_, count)) = distinct.iter_mut().find(|(seen, _)| *seen == name.as_str()) {
            *count += 1;
        } else if distinct.len() < 5 {
            distinct.push((name, 1));
        }
    }
    let named: usize = distinct.iter().map(|(_, count)| count).sum();
    let shown: Vec<String> = distinct
        .iter()
        .map(|(name, count)| match count {
            1 => (*name).to_string(),
            n => format!("{name} ({n} contacts)"),
        })
        .collect();
    match names.len() - named {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_of_names_says_each_name_once() {
        let names: Vec<String> = ["Ólafur Bäcker", "Ólafur Bäcker", "Ann", "Ólafur Bäcker"]
            .map(String::from)
            .to_vec();
        assert_eq!(sample(&names), "Ólafur Bäcker (3 contacts), Ann");
        let many: Vec<String> = (0..8).map(|i| format!("N{i}")).collect();
        assert_eq!(sample(&many), "N0, N1, N2, N3, N4, and 3 more");
    }

    fn styled(number: &Number, style: NumberStyle, country_code: &str) -> String {
        let mut text = String::new();
        styled_into(number, style, country_code, &mut text);
        text
    }

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
        let contacts = [
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
        let mut collector = Collector::new(options);
        contacts.iter().for_each(|c| collector.add(c));
        let mut prepared = collector.finish();
        let kept: Vec<PhoneContact> = prepared.contacts().collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].display, "A");
        assert_eq!(
            kept[0].numbers,
            [PhoneNumber {
                text: "+49301",
                kind: Kind::Work
            }]
        );
        assert_eq!(prepared.notes.len(), 3, "{:?}", prepared.notes);
        prepared.cap(0, |_| 1);
        assert!(prepared.is_empty());
        assert!(prepared.notes.last().unwrap().contains("limit of 0"));
    }
}
