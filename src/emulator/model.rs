//! The emulator's data: events, contacts, settings, balance and call sessions.
//!
//! These types are the emulator's own. The client in `api/` has separate types for the same
//! wire shapes: if both used one struct, a mistake in it would pass every test.

use std::collections::HashMap;

/// The four event types, with the names the API uses for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Call,
    Fax,
    Sms,
    Voicemail,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Call, Kind::Fax, Kind::Sms, Kind::Voicemail];

    /// The path segment and list key: `calls`, `faxes`, `sms`, `voicemails`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Call => "calls",
            Kind::Fax => "faxes",
            Kind::Sms => "sms",
            Kind::Voicemail => "voicemails",
        }
    }

    /// The single-resource key: `call`, `fax`, `sms`, `voicemail`.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Fax => "fax",
            Kind::Sms => "sms",
            Kind::Voicemail => "voicemail",
        }
    }

    pub fn from_plural(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    Outgoing,
    MissedIncoming,
    MissedOutgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
            Direction::MissedIncoming => "missed_incoming",
            Direction::MissedOutgoing => "missed_outgoing",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sent,
    Failed,
    Pending,
    Scheduled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Pending => "pending",
            Status::Scheduled => "scheduled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Inbox,
    Sent,
    Archive,
    Trash,
}

impl Location {
    pub const ALL: [Location; 4] = [
        Location::Inbox,
        Location::Sent,
        Location::Archive,
        Location::Trash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Location::Inbox => "inbox",
            Location::Sent => "sent",
            Location::Archive => "archive",
            Location::Trash => "trash",
        }
    }

    pub fn parse(s: &str) -> Option<Location> {
        Location::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A phone number as the API shows it in sources and targets.
#[derive(Debug, Clone)]
pub struct PhoneNumber {
    /// Digits only, country code first, no `+` (as upstream sends `numberE164`). Empty for an
    /// anonymous caller.
    pub e164: Box<str>,
    pub pretty: Box<str>,
}

/// Numbers are shared by many events; events hold indexes into this pool.
#[derive(Debug, Default)]
pub struct NumberPool {
    numbers: Vec<PhoneNumber>,
    index: HashMap<Box<str>, u32>,
}

impl NumberPool {
    pub fn intern(&mut self, number: PhoneNumber) -> u32 {
        if let Some(&i) = self.index.get(&number.e164) {
            return i;
        }
        let i = self.numbers.len() as u32;
        self.index.insert(number.e164.clone(), i);
        self.numbers.push(number);
        i
    }

    pub fn get(&self, i: u32) -> &PhoneNumber {
        &self.numbers[i as usize]
    }
}

#[derive(Debug, Clone)]
pub enum Detail {
    Call {
        duration_s: Option<u32>,
        recordings: u8,
    },
    Fax {
        pages: u8,
        sent_ms: Option<i64>,
        fail_reason: Option<&'static str>,
    },
    Sms {
        sent_ms: Option<i64>,
        text: Box<str>,
    },
    Voicemail {
        duration_s: u32,
        transcription: Option<Box<str>>,
    },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: u64,
    pub created_ms: i64,
    pub kind: Kind,
    pub direction: Direction,
    pub status: Option<Status>,
    pub location: Location,
    pub read: bool,
    pub starred: bool,
    /// Comma-separated; empty for none.
    pub labels: Box<str>,
    pub comment: Option<Box<str>>,
    pub scheduled_ms: Option<i64>,
    pub sources: Box<[u32]>,
    pub targets: Box<[u32]>,
    /// Index into the account's extensions.
    pub extension: Option<u16>,
    pub detail: Detail,
}

/// Events ordered by id (and so by creation time), with a per-type index, so that a page at
/// any offset of any window is found by binary search.
#[derive(Debug, Default)]
pub struct EventStore {
    events: Vec<Event>,
    by_kind: [Vec<u32>; 4],
}

impl EventStore {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.by_kind[kind.index()].len()
    }

    pub fn last(&self) -> Option<&Event> {
        self.events.last()
    }

    /// Appends an event; its id and creation time must not be older than the last one's.
    pub fn push(&mut self, event: Event) {
        debug_assert!(
            self.events
                .last()
                .is_none_or(|l| l.id < event.id && l.created_ms <= event.created_ms)
        );
        self.by_kind[event.kind.index()].push(self.events.len() as u32);
        self.events.push(event);
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.events.binary_search_by_key(&id, |e| e.id).ok()
    }

    /// Every event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    pub fn get(&self, id: u64) -> Option<&Event> {
        self.position(id).map(|i| &self.events[i])
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Event> {
        self.position(id).map(|i| &mut self.events[i])
    }

    /// Removes an event for good (as if it never existed).
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(i) = self.position(id) else {
            return false;
        };
        self.events.remove(i);
        self.by_kind = Default::default();
        for (i, e) in self.events.iter().enumerate() {
            self.by_kind[e.kind.index()].push(i as u32);
        }
        true
    }

    /// One page of a listing, newest first: the total in the window and the page's events.
    /// `start_ms` is inclusive, `end_ms` exclusive.
    pub fn page(
        &self,
        kind: Option<Kind>,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<&Event>) {
        let created = |pos: usize| -> i64 {
            match kind {
                Some(k) => self.events[self.by_kind[k.index()][pos] as usize].created_ms,
                None => self.events[pos].created_ms,
            }
        };
        let len = match kind {
            Some(k) => self.by_kind[k.index()].len(),
            None => self.events.len(),
        };
        let lo = start_ms.map_or(0, |s| partition_point(len, |p| created(p) < s));
        let hi = end_ms.map_or(len, |e| partition_point(len, |p| created(p) < e));
        let total = hi.saturating_sub(lo);
        let page = (offset..total.min(offset.saturating_add(limit)))
            .map(|i| {
                let pos = hi - 1 - i;
                match kind {
                    Some(k) => &self.events[self.by_kind[k.index()][pos] as usize],
                    None => &self.events[pos],
                }
            })
            .collect();
        (total, page)
    }
}

impl EventStore {
    /// Events of the given kinds (all when empty) created in `[start_ms, end_ms]` (both
    /// inclusive: v2's `from` and `to`), oldest first; iterate `.rev()` for newest first.
    pub fn window<'a>(
        &'a self,
        kinds: &'a [Kind],
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    ) -> Box<dyn DoubleEndedIterator<Item = &'a Event> + 'a> {
        if let [kind] = kinds {
            // One kind: its index, so a page does not walk the other kinds' events.
            let index = &self.by_kind[kind.index()];
            let created = |p: usize| self.events[index[p] as usize].created_ms;
            let lo = start_ms.map_or(0, |s| partition_point(index.len(), |p| created(p) < s));
            let hi = end_ms.map_or(index.len(), |e| {
                partition_point(index.len(), |p| created(p) <= e)
            });
            return Box::new(
                index[lo..hi.max(lo)]
                    .iter()
                    .map(|&i| &self.events[i as usize]),
            );
        }
        let lo = start_ms.map_or(0, |s| {
            partition_point(self.events.len(), |p| self.events[p].created_ms < s)
        });
        let hi = end_ms.map_or(self.events.len(), |e| {
            partition_point(self.events.len(), |p| self.events[p].created_ms <= e)
        });
        Box::new(
            self.events[lo..hi.max(lo)]
                .iter()
                .filter(move |e| kinds.is_empty() || kinds.contains(&e.kind)),
        )
    }
}

/// First position in `0..len` for which `pred` is false (`pred` must be true, then false).
fn partition_point(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// One line of a contact, as the API's `entries[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub group: Option<String>,
    pub types: Vec<String>,
    pub value: Option<String>,
    pub local_value: Option<String>,
    /// Structured parts with their wire names (`street`, `family`, `lat`, `name`, ...).
    pub parts: Vec<(&'static str, String)>,
    /// ORG only: the organisational units.
    pub units: Vec<String>,
}

impl Entry {
    pub fn simple(name: &str, value: &str) -> Entry {
        Entry {
            name: name.to_string(),
            group: None,
            types: Vec::new(),
            value: Some(value.to_string()),
            local_value: None,
            parts: Vec::new(),
            units: Vec::new(),
        }
    }

    pub fn has_type(&self, kind: &str) -> bool {
        self.types.iter().any(|t| t == kind)
    }

    /// The value as a phone dials it: digits and a leading `+` only.
    pub fn dialable(&self) -> String {
        self.value
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    }

    pub fn part(&self, key: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub uuid: String,
    pub valid_from_ms: i64,
    pub owner: String,
    pub entries: Vec<Entry>,
}

impl Contact {
    /// The display name: FN, else N, else ORG.
    pub fn formatted_name(&self) -> String {
        if let Some(fn_) = self
            .entries
            .iter()
            .find(|e| e.name == "FN")
            .and_then(|e| e.value.clone())
        {
            return fn_;
        }
        if let Some(n) = self.entries.iter().find(|e| e.name == "N") {
            let name = [n.part("given"), n.part("family")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !name.is_empty() {
                return name;
            }
        }
        self.entries
            .iter()
            .find(|e| e.name == "ORG")
            .and_then(|e| e.part("name").map(str::to_string))
            .unwrap_or_default()
    }

    /// Digits of every TEL entry in international form (as `numberE164`).
    pub fn e164_numbers(&self) -> impl Iterator<Item = String> + '_ {
        self.entries
            .iter()
            .filter(|e| e.name == "TEL")
            .filter_map(|e| e.value.as_deref())
            .map(|v| v.chars().filter(char::is_ascii_digit).collect())
    }
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub id: String,
    pub alias: String,
    /// sms, fax, voicemail, register, external
    pub kind: &'static str,
    pub incoming_numbers: Vec<String>,
    pub direct_dial_numbers: Vec<String>,
    pub dnd: bool,
    pub outgoing_number: Option<String>,
    pub devices: Vec<String>,
    /// Type-specific fields with their wire names (`registerUrl`, `faxIn`, `pin`, ...).
    pub specifics: Vec<(&'static str, serde_json::Value)>,
}

#[derive(Debug, Clone)]
pub struct AccountNumber {
    pub e164: String,
    pub pretty: String,
    pub kind: &'static str,
    pub extension_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MobileDevice {
    pub id: String,
    pub phone_number: String,
    pub model: String,
    pub vendor: String,
    pub firmware: String,
}

#[derive(Debug, Clone)]
pub struct Voucher {
    pub redeem_date: String,
    pub end_of_validity: String,
    pub credits_init: String,
    pub credits_used: String,
    pub credits_left: String,
}

#[derive(Debug, Clone)]
pub struct Balance {
    pub currency: String,
    pub total_including_vat: f64,
    pub vat_percent: f64,
    /// (`smsVouchers` | `minuteVouchers` | `faxVouchers`, vouchers)
    pub vouchers: Vec<(&'static str, Vec<Voucher>)>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub allow_add: bool,
    pub allow_empty_oadc: bool,
    pub base_product_type: String,
    pub numbers: Vec<AccountNumber>,
    /// Every single number, including the members of number blocks.
    pub number_list: Vec<String>,
    pub extensions: Vec<Extension>,
    pub mobile_devices: Vec<MobileDevice>,
    pub mobile_extensions: Vec<MobileDevice>,
    pub balance: Balance,
    /// v2 only: the user's phonelines and their forwardings (the classic API has neither).
    pub phonelines: Vec<Phoneline>,
}

#[derive(Debug, Clone)]
pub struct Phoneline {
    pub id: String,
    pub alias: String,
    pub forwardings: Vec<Forwarding>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forwarding {
    /// `+` and digits.
    pub destination: String,
    pub timeout_s: u32,
    pub active: bool,
}

impl Account {
    pub fn extension(&self, id: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.id == id)
    }

    pub fn extension_mut(&mut self, id: &str) -> Option<&mut Extension> {
        self.extensions.iter_mut().find(|e| e.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct SessionMember {
    pub id: String,
    pub number: String,
    pub parked: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub status: &'static str,
    pub caller: String,
    pub callee: String,
    pub recording: bool,
    pub members: Vec<SessionMember>,
    /// v2 call controls.
    pub muted: bool,
    pub hold: bool,
    /// DTMF digits sent into the call, in order (for tests to read back).
    pub dtmf: String,
}
