//! Structure-aware inputs: the fuzzer's bytes read as choices that build a JSON record or a
//! config file of the shapes sipmirror reads, so almost every input reaches the parsers and
//! their conversions instead of failing at the first byte as random bytes do.

/// The fuzzer's bytes, taken one choice at a time; when they run out every choice is the
/// first, so any input builds a finite value.
pub struct Choices<'a> {
    data: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u8]) -> Choices<'a> {
        Choices { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A short text of the bytes that follow, as far as they are UTF-8.
    fn raw_text(&mut self) -> String {
        let len = self.below(24);
        let take = len.min(self.data.len());
        let (text, rest) = self.data.split_at(take);
        self.data = rest;
        String::from_utf8_lossy(text).into_owned()
    }
}

/// Field names of upstream's events and contacts, both dialects.
const FIELDS: &[&str] = &[
    "id",
    "type",
    "created",
    "lastModified",
    "read",
    "starred",
    "archived",
    "labels",
    "location",
    "direction",
    "status",
    "source",
    "target",
    "sourceAlias",
    "targetAlias",
    "note",
    "comment",
    "duration",
    "recordings",
    "callId",
    "callStatus",
    "recordingUrl",
    "transcription",
    "smsContent",
    "text",
    "sent",
    "content",
    "faxStatusType",
    "reportUrl",
    "documentUrl",
    "previews",
    "pageCount",
    "failReason",
    "caller",
    "endpoints",
    "connectionIds",
    "responder",
    "responderAlias",
    "extension",
    "numberE164",
    "numberPretty",
    "contact",
    "value",
    "modify",
    "entries",
    "entryName",
    "types",
    "group",
    "contactMeta",
    "UUID",
    "validFrom",
    "owner",
    "name",
    "picture",
    "emails",
    "numbers",
    "addresses",
    "organization",
    "scope",
    "number",
    "email",
    "postalCode",
    "streetAddress",
    "locality",
    "country",
    "url",
    "endpoint",
    "alias",
];

/// Values that have broken parsers before, or that sit on a boundary.
const TEXTS: &[&str] = &[
    "",
    "2024-01-01T10:00:00.000+0100",
    "2020-09-14T09:00:00Z",
    "2020-09-14T09:00:00.5+02:00",
    "2020-02-30T25:61:61Z",
    "not a time",
    "12",
    "-1",
    "99999999999999999999999",
    "h7",
    "CALL",
    "FAX",
    "SMS",
    "VOICEMAIL",
    "PICKUP",
    "NOPICKUP",
    "SENDING",
    "FAILED",
    "incoming",
    "missed_incoming",
    "trash",
    "archive",
    "+49 30 1234567",
    "0049301234567",
    "anonymous",
    "TEL",
    "FN",
    "N",
    "ADR",
    "WORK",
    "FAX",
    "PRIVATE",
    "a,b",
    "x\ny",
    "\r",
    "\u{0}",
    "\u{1b}[2J",
    "\u{202e}",
    "\u{FEFF}Zähler",
    "<&>\"'",
    "https://api.sipgate.com/v2/download/x",
];

const NUMBERS: &[f64] = &[0.0, 1.0, -1.0, 1.5, 1e308, -1e308, 9.3e18, 86_400.0];

/// A JSON value of depth at most `depth`.
fn value(c: &mut Choices<'_>, depth: usize) -> serde_json::Value {
    use serde_json::Value;
    let kinds = if depth == 0 { 5 } else { 7 };
    match c.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(c.byte() % 2 == 1),
        2 => serde_json::Number::from_f64(c.pick(NUMBERS)).map_or(Value::Null, Value::Number),
        3 => Value::String(c.pick(TEXTS).to_string()),
        4 => Value::String(c.raw_text()),
        5 => Value::Array((0..c.below(4)).map(|_| value(c, depth - 1)).collect()),
        _ => object(c, depth - 1),
    }
}

fn object(c: &mut Choices<'_>, depth: usize) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for _ in 0..c.below(14) {
        let name = if c.below(8) == 0 {
            c.raw_text()
        } else {
            c.pick(FIELDS).to_string()
        };
        map.insert(name, value(c, depth));
    }
    serde_json::Value::Object(map)
}

/// An upstream item: an object of upstream's field names, with nested objects and lists.
pub fn json_item(data: &[u8]) -> String {
    object(&mut Choices::new(data), 3).to_string()
}

/// Config keys by section (`""`: the top level).
const KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "api",
            "base_url",
            "username",
            "password",
            "password_command",
            "token_id",
            "token",
            "token_command",
            "db",
            "timezone",
            "country_code",
            "unknown_key",
        ],
    ),
    (
        "sync",
        &[
            "lookback",
            "full_every",
            "stale_after",
            "skip_settings",
            "max_deletes",
        ],
    ),
    ("http", &["timeout", "retry_base", "max_attempts"]),
    (
        "push",
        &[
            "conflict",
            "concurrency",
            "max_deletes",
            "fax_poll",
            "fax_wait",
        ],
    ),
    ("media", &["dir", "fetch", "max_age", "max_size"]),
    (
        "webhook",
        &["key", "allow", "proxy_header", "public_key_file"],
    ),
    (
        "phonebook",
        &["password", "style", "include_fax", "max_entries"],
    ),
];

const TOML_VALUES: &[&str] = &[
    "\"\"",
    "\"1d\"",
    "\"-1d\"",
    "\"0s\"",
    "\"99999999999999999d\"",
    "\"1ms\"",
    "\"classic\"",
    "\"v2\"",
    "\"Europe/Berlin\"",
    "\"Mars/Olympus\"",
    "\"49\"",
    "\"all\"",
    "\"upstream-wins\"",
    "\"http://127.0.0.1:1\"",
    "\"ftp://x\"",
    "0",
    "-1",
    "18446744073709551615",
    "true",
    "[\"balance\", \"devices\"]",
    "[]",
    "{ a = 1 }",
];

/// A config file: sections of known keys (and the odd unknown one) with values of every type.
pub fn toml_config(data: &[u8]) -> String {
    let mut c = Choices::new(data);
    let mut text = String::new();
    let mut sections: Vec<(&str, &[&str])> = KEYS.to_vec();
    sections.truncate(1 + c.below(KEYS.len()));
    for (section, keys) in sections {
        if !section.is_empty() {
            text += &format!("[{section}]\n");
        }
        let mut used = Vec::new();
        for _ in 0..c.below(5) {
            let key = c.pick(keys);
            // A key twice is a TOML error before sipmirror sees the file: once each.
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            let value = if c.below(6) == 0 {
                // JSON's string escapes are TOML's too.
                serde_json::to_string(&c.raw_text()).unwrap_or_default()
            } else {
                c.pick(TOML_VALUES).to_string()
            };
            text += &format!("{key} = {value}\n");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random bytes as structured inputs get past the parsers into the conversions: some
    /// become whole records and settings, which random bytes as text almost never do.
    #[test]
    fn structured_inputs_reach_the_conversions() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut bytes = || {
            (0..200)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect::<Vec<u8>>()
        };
        let (mut records, mut configs) = (0, 0);
        for _ in 0..3000 {
            let data = bytes();
            let item = json_item(&data);
            if let Ok(raw) = serde_json::from_str::<Box<serde_json::value::RawValue>>(&item) {
                let kind = crate::records::EventKind::Call;
                records +=
                    usize::from(crate::api::v2::history::to_record(kind, &raw, 0, "49").is_ok());
                records += usize::from(crate::api::v2::contacts::to_record(&raw, 0, "49").is_ok());
            }
            configs += usize::from(crate::config::settings_from_text(&toml_config(&data)).is_ok());
        }
        eprintln!("of 3000 inputs: {records} records, {configs} settings");
        assert!(records >= 30, "{records} records");
        assert!(configs >= 30, "{configs} settings");
    }

    #[test]
    fn any_bytes_build_valid_json_and_toml() {
        for data in [
            &b""[..],
            b"\x00\x01\x02",
            b"\xff\xfe\xfd\xfc\xfb\xfa\xf9",
            b"sipgate",
        ] {
            let item = json_item(data);
            assert!(
                serde_json::from_str::<serde_json::Value>(&item).is_ok(),
                "{item}"
            );
            let config = toml_config(data);
            assert!(config.parse::<toml::Table>().is_ok(), "{config}");
        }
    }
}
