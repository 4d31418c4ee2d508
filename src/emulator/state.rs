//! The emulator's mutable state, and every change a client or the control interface can make.

use std::collections::HashMap;

use super::generate::Generator;
use super::model::*;

/// What the emulator serves. See [`super::EmulatorConfig`] for how it is generated.
#[derive(Debug)]
pub struct State {
    pub user_id: String,
    pub numbers: NumberPool,
    pub events: EventStore,
    pub contacts: Vec<Contact>,
    pub account: Account,
    pub sessions: Vec<Session>,
    /// Faxes sent through v2 that are not done yet: `false` while PENDING, `true` while
    /// SENDING. Each read of the fax's history entry moves it on: PENDING, SENDING, then SENT
    /// (or FAILED for an unreachable number).
    pub faxes_in_progress: std::collections::HashMap<u64, bool>,
    /// v2 `/settings/sipgateio`: where the push API posts the account's calls.
    pub sipgateio: serde_json::Value,
    /// Calls played through the push API (`POST /_emulator/calls`) that have not hung up.
    pub push_calls: HashMap<String, super::push_call::PushCall>,
    /// v2: the emergency address of each device whose address was taken away (by a
    /// `PUT /devices/{id}` without `emergencyAddressId`); every other device has address 1.
    pub emergency_address_cleared: std::collections::HashSet<String>,
    /// The push API's `callId` of calls played through it, by their history event: v2's
    /// history names the same `callId`.
    pub push_call_ids: HashMap<u64, String>,
    generator: Generator,
    next_event_id: u64,
    next_session: u64,
    next_contact: usize,
    /// Contact names by `numberE164`, for `contactFN` in sources and targets.
    names_by_number: HashMap<String, (String, String)>,
}

/// A change "as on the website" to an event (control interface).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    pub read: Option<bool>,
    pub starred: Option<bool>,
    pub labels: Option<String>,
    pub location: Option<String>,
    /// The event's note (v2 `note`, classic `comment`); `""` removes it.
    pub comment: Option<String>,
}

/// A change to a contact (control interface). `numbers` replaces all TEL entries.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub given: Option<String>,
    pub family: Option<String>,
    pub organization: Option<String>,
    pub numbers: Option<Vec<String>>,
}

impl State {
    /// A device's emergency address id (v2), if it has one.
    pub fn emergency_address(&self, device: &str) -> Option<&'static str> {
        (!self.emergency_address_cleared.contains(device)).then_some("1")
    }

    pub fn generate(config: &super::EmulatorConfig) -> State {
        let (seed, events, contacts) = (config.seed, config.events, config.contacts);
        let (user_id, anchor_ms, span_days) =
            (config.user_id.as_str(), config.anchor_ms, config.span_days);
        let mut generator = Generator::new(seed);
        let mut numbers = NumberPool::default();
        let account = generator.account(&mut numbers, seed);
        let mut state = State {
            user_id: user_id.to_string(),
            numbers,
            events: EventStore::default(),
            contacts: Vec::new(),
            account,
            sessions: Vec::new(),
            faxes_in_progress: std::collections::HashMap::new(),
            sipgateio: serde_json::json!({
                "incomingUrl": "", "outgoingUrl": "", "log": false, "whitelist": []
            }),
            push_calls: HashMap::new(),
            emergency_address_cleared: std::collections::HashSet::new(),
            push_call_ids: HashMap::new(),
            generator,
            next_event_id: 100_000_000,
            next_session: 1,
            next_contact: 0,
            names_by_number: HashMap::new(),
        };
        state.add_contacts(contacts);
        let strangers = (events / 50).clamp(20, 5_000);
        state.generator.strangers(&mut state.numbers, strangers);
        // Walk backwards from the anchor so the newest event is just before it.
        let mut times = Vec::with_capacity(events);
        let mut t = anchor_ms;
        for _ in 0..events {
            t -= state.generator.gap_ms(events, span_days);
            times.push(t);
        }
        for created_ms in times.into_iter().rev() {
            let kind = state.generator.kind();
            state.push_generated(kind, created_ms);
        }
        state
    }

    fn push_generated(&mut self, kind: Kind, created_ms: i64) -> u64 {
        self.next_event_id += self.generator.id_step();
        let id = self.next_event_id;
        let event = self.generator.event(&self.account, kind, id, created_ms);
        self.events.push(event);
        id
    }

    /// The time for a new event: now, but never before the newest event.
    fn next_created(&self, now_ms: i64) -> i64 {
        self.events
            .last()
            .map_or(now_ms, |e| now_ms.max(e.created_ms + 1))
    }

    /// Adds `count` new events of `kind`, newer than all others. Returns their ids.
    pub fn add_events(&mut self, kind: Kind, count: usize, now_ms: i64) -> Vec<u64> {
        (0..count)
            .map(|_| {
                let created = self.next_created(now_ms);
                self.push_generated(kind, created)
            })
            .collect()
    }

    pub fn patch_event(&mut self, id: u64, patch: &EventPatch) -> Result<(), String> {
        let location = match &patch.location {
            Some(l) => Some(Location::parse(l).ok_or_else(|| format!("unknown location {l:?}"))?),
            None => None,
        };
        if let Some(labels) = &patch.labels {
            validate_labels(labels)?;
        }
        let event = self
            .events
            .get_mut(id)
            .ok_or_else(|| format!("no event {id}"))?;
        if let Some(v) = patch.read {
            event.read = v;
        }
        if let Some(v) = patch.starred {
            event.starred = v;
        }
        if let Some(labels) = &patch.labels {
            event.labels = normalize_labels(labels).into();
        }
        if let Some(l) = location {
            event.location = l;
        }
        if let Some(note) = &patch.comment {
            event.comment = (!note.is_empty()).then(|| note.as_str().into());
        }
        Ok(())
    }

    pub fn remove_event(&mut self, id: u64) -> bool {
        self.events.remove(id)
    }

    /// Deletes the `count` newest events of `kind` that are not in the trash.
    pub fn remove_newest(&mut self, kind: Kind, count: u64) {
        let newest: Vec<u64> = self
            .events
            .window(&[kind], None, None)
            .rev()
            .filter(|e| e.location != Location::Trash)
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|e| e.id)
            .collect();
        for id in newest {
            self.events.remove(id);
        }
    }

    pub fn add_contacts(&mut self, count: usize) -> Vec<String> {
        let mut uuids = Vec::with_capacity(count);
        for _ in 0..count {
            let contact = self.generator.contact(
                self.next_contact,
                &mut self.numbers,
                &self.contacts,
                &self.user_id,
            );
            self.next_contact += 1;
            uuids.push(contact.uuid.clone());
            self.contacts.push(contact);
        }
        self.rebuild_names();
        uuids
    }

    pub fn contact(&self, uuid: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.uuid == uuid)
    }

    pub fn patch_contact(&mut self, uuid: &str, patch: &ContactPatch) -> Result<(), String> {
        let contact = self
            .contacts
            .iter_mut()
            .find(|c| c.uuid == uuid)
            .ok_or_else(|| format!("no contact {uuid}"))?;
        if patch.given.is_some() || patch.family.is_some() {
            let n = match contact.entries.iter_mut().position(|e| e.name == "N") {
                Some(i) => &mut contact.entries[i],
                None => {
                    contact.entries.push(Entry {
                        name: "N".into(),
                        group: None,
                        types: Vec::new(),
                        value: None,
                        local_value: None,
                        parts: Vec::new(),
                        units: Vec::new(),
                    });
                    contact.entries.last_mut().expect("just pushed")
                }
            };
            for (key, value) in [("given", &patch.given), ("family", &patch.family)] {
                if let Some(value) = value {
                    n.parts.retain(|(k, _)| *k != key);
                    n.parts.push((key, value.clone()));
                }
            }
            let name = [n.part("given"), n.part("family")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            contact.entries.retain(|e| e.name != "FN");
            contact.entries.insert(0, Entry::simple("FN", &name));
        }
        if let Some(org) = &patch.organization {
            contact.entries.retain(|e| e.name != "ORG");
            let mut entry = Entry::simple("ORG", "");
            entry.value = None;
            entry.parts = vec![("name", org.clone())];
            contact.entries.push(entry);
        }
        if let Some(numbers) = &patch.numbers {
            contact.entries.retain(|e| e.name != "TEL");
            for number in numbers {
                let mut entry = Entry::simple("TEL", number);
                entry.types = vec!["WORK".into()];
                contact.entries.push(entry);
            }
        }
        contact.valid_from_ms += 1;
        self.rebuild_names();
        Ok(())
    }

    pub fn remove_contact(&mut self, uuid: &str) -> bool {
        let before = self.contacts.len();
        self.contacts.retain(|c| c.uuid != uuid);
        let removed = self.contacts.len() != before;
        if removed {
            self.rebuild_names();
        }
        removed
    }

    fn rebuild_names(&mut self) {
        self.names_by_number.clear();
        for contact in &self.contacts {
            let name = contact.formatted_name();
            for number in contact.e164_numbers() {
                // The first contact with a number wins, as upstream's lookup did.
                self.names_by_number
                    .entry(number)
                    .or_insert_with(|| (name.clone(), contact.uuid.clone()));
            }
        }
    }

    /// The name and UUID of the first contact with this number, as upstream's `contactFN`.
    pub fn name_for_number(&self, e164: &str) -> Option<(&str, &str)> {
        self.names_by_number
            .get(e164)
            .map(|(name, uuid)| (name.as_str(), uuid.as_str()))
    }

    fn intern_number(&mut self, e164: &str) -> u32 {
        let pretty = format!("+{e164}");
        self.numbers.intern(PhoneNumber {
            e164: e164.into(),
            pretty: pretty.into(),
        })
    }

    fn own_number(&mut self, source: Option<&str>) -> u32 {
        let e164 = source
            .map(str::to_string)
            .or_else(|| self.account.numbers.first().map(|n| n.e164.clone()))
            .unwrap_or_default();
        self.intern_number(&e164)
    }

    /// Records an SMS sent through the API as a new outgoing event. Numbers are E.164 digits.
    pub fn send_sms(
        &mut self,
        targets: &[String],
        source: Option<&str>,
        text: &str,
        scheduled_ms: Option<i64>,
        now_ms: i64,
    ) -> u64 {
        let detail = Detail::Sms {
            sent_ms: scheduled_ms.is_none().then_some(now_ms),
            text: text.into(),
        };
        self.push_sent(Kind::Sms, targets, source, scheduled_ms, detail, now_ms)
    }

    /// Records a fax sent through the API as a new outgoing event.
    pub fn send_fax(
        &mut self,
        targets: &[String],
        source: Option<&str>,
        pages: u8,
        scheduled_ms: Option<i64>,
        now_ms: i64,
    ) -> u64 {
        let detail = Detail::Fax {
            pages,
            sent_ms: scheduled_ms.is_none().then_some(now_ms),
            fail_reason: None,
        };
        self.push_sent(Kind::Fax, targets, source, scheduled_ms, detail, now_ms)
    }

    fn push_sent(
        &mut self,
        kind: Kind,
        targets: &[String],
        source: Option<&str>,
        scheduled_ms: Option<i64>,
        detail: Detail,
        now_ms: i64,
    ) -> u64 {
        let sources = vec![self.own_number(source)];
        let targets: Vec<u32> = targets.iter().map(|t| self.intern_number(t)).collect();
        let extension = self.extension_of_kind(if kind == Kind::Sms { "sms" } else { "fax" });
        let (id, created_ms) = self.next_event(now_ms);
        self.events.push(Event {
            id,
            created_ms,
            kind,
            direction: Direction::Outgoing,
            status: Some(if scheduled_ms.is_some() {
                Status::Scheduled
            } else {
                Status::Sent
            }),
            location: Location::Sent,
            read: true,
            starred: false,
            labels: "".into(),
            comment: None,
            scheduled_ms,
            sources: sources.into(),
            targets: targets.into(),
            extension,
            detail,
        });
        id
    }

    /// Records a fax sent through v2: a new outgoing event, PENDING until it is read (see
    /// `faxes_in_progress`).
    pub fn send_fax_in_progress(&mut self, target: &str, pages: u8, now_ms: i64) -> u64 {
        let id = self.send_fax(&[target.to_string()], None, pages, None, now_ms);
        if let Some(event) = self.events.get_mut(id) {
            event.status = Some(Status::Pending);
        }
        self.faxes_in_progress.insert(id, false);
        id
    }

    /// One read of a fax in progress: PENDING becomes SENDING, SENDING becomes SENT, or FAILED
    /// when its number is one the world cannot reach (see [`unreachable`]).
    pub fn advance_fax(&mut self, id: u64) {
        let Some(sending) = self.faxes_in_progress.get(&id).copied() else {
            return;
        };
        if !sending {
            self.faxes_in_progress.insert(id, true);
            return;
        }
        self.faxes_in_progress.remove(&id);
        let target = self
            .events
            .get(id)
            .and_then(|e| e.targets.first().copied())
            .map(|n| self.numbers.get(n).e164.to_string())
            .unwrap_or_default();
        if let Some(event) = self.events.get_mut(id) {
            event.status = Some(if unreachable(&target) {
                Status::Failed
            } else {
                Status::Sent
            });
        }
    }

    /// The index of the account's first extension of `kind`, as events refer to it.
    fn extension_of_kind(&self, kind: &str) -> Option<u16> {
        self.account
            .extensions
            .iter()
            .position(|e| e.kind == kind)
            .map(|i| i as u16)
    }

    /// The id and creation time of a new event made now.
    fn next_event(&mut self, now_ms: i64) -> (u64, i64) {
        let created_ms = self.next_created(now_ms);
        self.next_event_id += 1;
        (self.next_event_id, created_ms)
    }

    /// Records a finished call (played through the push API) in the history. Numbers are
    /// E.164 digits.
    pub fn add_finished_call(
        &mut self,
        from: &str,
        to: &str,
        incoming: bool,
        answered: bool,
        duration_s: u32,
        now_ms: i64,
    ) -> u64 {
        let sources = vec![self.intern_number(from)];
        let targets = vec![self.intern_number(to)];
        let direction = match (incoming, answered) {
            (true, true) => Direction::Incoming,
            (true, false) => Direction::MissedIncoming,
            (false, true) => Direction::Outgoing,
            (false, false) => Direction::MissedOutgoing,
        };
        let extension = self.extension_of_kind("register");
        let (id, created_ms) = self.next_event(now_ms);
        self.events.push(Event {
            id,
            created_ms,
            kind: Kind::Call,
            direction,
            status: None,
            location: if incoming {
                Location::Inbox
            } else {
                Location::Sent
            },
            read: !incoming || answered,
            starred: false,
            labels: "".into(),
            comment: None,
            scheduled_ms: None,
            sources: sources.into(),
            targets: targets.into(),
            extension,
            detail: Detail::Call {
                duration_s: Some(if answered { duration_s } else { 0 }),
                recordings: 0,
            },
        });
        id
    }

    pub fn dial(&mut self, caller: &str, callee: &str) -> &Session {
        let id = format!("s{:06}", self.next_session);
        self.next_session += 1;
        self.sessions.push(Session {
            id: id.clone(),
            status: "ringing",
            caller: caller.to_string(),
            callee: callee.to_string(),
            recording: false,
            members: vec![
                SessionMember {
                    id: format!("{id}m0"),
                    number: caller.to_string(),
                    parked: false,
                },
                SessionMember {
                    id: format!("{id}m1"),
                    number: callee.to_string(),
                    parked: false,
                },
            ],
            muted: false,
            hold: false,
            dtmf: String::new(),
        });
        self.sessions.last().expect("just pushed")
    }

    pub fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }
}

/// Numbers the emulator's world cannot reach: every number ending in 999 (a fax to one
/// fails).
pub fn unreachable(e164: &str) -> bool {
    e164.ends_with("999")
}

/// Labels the API accepts: comma-separated, each 1–64 characters without control characters.
pub fn validate_labels(labels: &str) -> Result<(), String> {
    if labels.is_empty() {
        return Ok(());
    }
    for label in labels.split(',') {
        let label = label.trim();
        if label.is_empty() {
            return Err("labels must not contain empty entries".into());
        }
        if label.chars().count() > 64 {
            return Err(format!("label too long (64 characters at most): {label:?}"));
        }
        if label.chars().any(char::is_control) {
            return Err("labels must not contain control characters".into());
        }
    }
    Ok(())
}

/// Trims each label; the list keeps its order.
pub fn normalize_labels(labels: &str) -> String {
    if labels.trim().is_empty() {
        return String::new();
    }
    labels
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}
