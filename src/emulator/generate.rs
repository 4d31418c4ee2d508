//! Deterministic generated data: the same seed gives the same account, byte for byte.
//!
//! Small accounts still cover every case: the first contacts are one of each special kind
//! (hostile names, company-only, no number, shared number, every entry type), and every event
//! type gets every direction, status and location by construction.

use super::model::*;
use super::prng::Prng;
use super::vocab::*;

/// Builds numbers, contacts and events. Kept inside the emulator's state after start-up so
/// that events added later ("arriving") look like the generated ones.
#[derive(Debug)]
pub struct Generator {
    rng: Prng,
    /// Numbers of people outside the account (callers, callees), as pool indexes.
    external: Vec<u32>,
    /// The account's own numbers, as pool indexes.
    own: Vec<u32>,
    contact_rng: Prng,
}

const DAY_MS: i64 = 86_400_000;

impl Generator {
    pub fn new(seed: u64) -> Generator {
        let root = Prng::new(seed);
        Generator {
            rng: root.fork(1),
            external: Vec::new(),
            own: Vec::new(),
            contact_rng: root.fork(2),
        }
    }

    /// The account: numbers, extensions of every type, devices and balance.
    pub fn account(&mut self, pool: &mut NumberPool, seed: u64) -> Account {
        let mut rng = Prng::new(seed).fork(3);
        let block = format!("49211{}", rng.digits(4));
        let own: Vec<String> = (0..6).map(|i| format!("{block}{i}")).collect();
        for e164 in &own {
            let pretty = format!("+49 211 {}", &e164[5..]);
            self.own.push(pool.intern(PhoneNumber {
                e164: e164.as_str().into(),
                pretty: pretty.into(),
            }));
        }
        let mobile = format!("49176{}", rng.digits(8));
        let aliases = [
            ("e0", "register", "Büro Jürgen"),
            ("e1", "register", "Empfang & Zentrale"),
            ("e2", "register", "Lager <Halle 2>"),
            ("f0", "fax", "Fax"),
            ("v0", "voicemail", "Mailbox \"Zentrale\""),
            ("s0", "sms", "SMS"),
            ("x0", "external", "Handy Jürgen"),
        ];
        let extensions = aliases
            .iter()
            .enumerate()
            .map(|(i, (id, kind, alias))| {
                let specifics: Vec<(&'static str, serde_json::Value)> = match *kind {
                    "register" => vec![
                        ("sipPassword", format!("sip-{}", rng.digits(10)).into()),
                        ("registerUrl", "sipgate.de".into()),
                        ("outboundProxyUrl", "sipgate.de".into()),
                    ],
                    "fax" => vec![("faxIn", true.into())],
                    "voicemail" => vec![
                        ("pin", rng.digits(4).into()),
                        ("timezone", "Europe/Berlin".into()),
                        (
                            "announcementUrl",
                            format!("https://static.example.invalid/announcement/{id}.wav").into(),
                        ),
                    ],
                    "external" => vec![
                        ("provider", "Telekom".into()),
                        ("externalPhonenumber", mobile.clone().into()),
                    ],
                    _ => Vec::new(),
                };
                Extension {
                    id: id.to_string(),
                    alias: alias.to_string(),
                    kind,
                    incoming_numbers: if *kind == "sms" {
                        Vec::new()
                    } else {
                        vec![own[i % own.len()].clone()]
                    },
                    direct_dial_numbers: if *kind == "register" {
                        vec![own[(i + 3) % own.len()].clone()]
                    } else {
                        Vec::new()
                    },
                    dnd: i == 2,
                    outgoing_number: (*kind != "voicemail").then(|| own[0].clone()),
                    devices: if *kind == "register" {
                        (0..=i).map(|d| format!("{id}d{d}")).collect()
                    } else {
                        Vec::new()
                    },
                    specifics,
                }
            })
            .collect();
        let numbers = own
            .iter()
            .enumerate()
            .map(|(i, e164)| AccountNumber {
                e164: e164.clone(),
                pretty: format!("+49 211 {}", &e164[5..]),
                kind: "landline",
                extension_id: (i < aliases.len()).then(|| aliases[i].0.to_string()),
            })
            .chain(std::iter::once(AccountNumber {
                e164: mobile.clone(),
                pretty: format!("+49 176 {}", &mobile[5..]),
                kind: "mobile",
                extension_id: Some("x0".into()),
            }))
            .collect::<Vec<_>>();
        let voucher = |rng: &mut Prng, init: u64| {
            let used = rng.below(init + 1);
            Voucher {
                redeem_date: format!("2025-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
                end_of_validity: format!("2027-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28)),
                credits_init: init.to_string(),
                credits_used: used.to_string(),
                credits_left: (init - used).to_string(),
            }
        };
        let balance = Balance {
            currency: "EUR".into(),
            total_including_vat: (rng.range(0, 100_000) as f64) / 100.0,
            vat_percent: 19.0,
            vouchers: vec![
                ("smsVouchers", vec![voucher(&mut rng, 100)]),
                (
                    "minuteVouchers",
                    vec![voucher(&mut rng, 1000), voucher(&mut rng, 500)],
                ),
                ("faxVouchers", Vec::new()),
            ],
        };
        Account {
            allow_add: true,
            allow_empty_oadc: false,
            base_product_type: "sipgate team".into(),
            number_list: numbers.iter().map(|n| n.e164.clone()).collect(),
            numbers,
            extensions,
            mobile_devices: vec![MobileDevice {
                id: "md0".into(),
                phone_number: mobile.clone(),
                model: "Pixel 8".into(),
                vendor: "Google".into(),
                firmware: "Android 15".into(),
            }],
            phonelines: vec![Phoneline {
                id: "p0".into(),
                alias: "Jürgen".into(),
                forwardings: vec![Forwarding {
                    destination: format!("+{mobile}"),
                    timeout_s: 20,
                    active: false,
                }],
            }],
            mobile_extensions: vec![MobileDevice {
                id: "m0".into(),
                phone_number: mobile,
                model: "iPhone 15".into(),
                vendor: "Apple".into(),
                firmware: "iOS 18.1".into(),
            }],
            balance,
        }
    }

    /// `count` external numbers that no contact has (strangers, repeat callers).
    pub fn strangers(&mut self, pool: &mut NumberPool, count: usize) {
        for _ in 0..count {
            let (number, _) = random_number(&mut self.rng);
            self.external.push(pool.intern(number));
        }
    }

    /// Contact number `i`; the first ones are one of each special kind, and every tenth has a
    /// hostile name.
    pub fn contact(
        &mut self,
        i: usize,
        pool: &mut NumberPool,
        existing: &[Contact],
        owner: &str,
    ) -> Contact {
        let rng = &mut self.contact_rng;
        let uuid = uuid(rng);
        let valid_from_ms = 1_262_304_000_000 + rng.below(15 * 365) as i64 * DAY_MS;
        let mut entries = Vec::new();
        let special = i % 40;
        let company_only = special == 1 || (special > 12 && rng.chance(0.08));
        let org = (company_only || rng.chance(0.4)).then(|| rng.pick(COMPANIES).to_string());
        if !company_only {
            let given = rng.pick(GIVEN_NAMES).to_string();
            let mut family = rng.pick(FAMILY_NAMES).to_string();
            if i.is_multiple_of(10) {
                family = HOSTILE_NAMES[(i / 10) % HOSTILE_NAMES.len()].to_string();
            } else if special == 3 {
                family = LONG_WORD.repeat(7).trim_end().to_string();
            }
            let mut n = Entry {
                name: "N".into(),
                group: None,
                types: Vec::new(),
                value: None,
                local_value: None,
                parts: vec![("family", family.clone()), ("given", given.clone())],
                units: Vec::new(),
            };
            let mut prefix = None;
            if special == 4 || rng.chance(0.05) {
                let p = rng.pick(PREFIXES).to_string();
                n.parts.push(("prefixes", p.clone()));
                prefix = Some(p);
            }
            if special == 4 {
                n.parts.push(("middle", "M.".into()));
                n.parts.push(("suffixes", "MdB".into()));
            }
            let fn_value = [
                prefix.as_deref(),
                Some(given.as_str()),
                Some(family.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if special != 5 {
                // Contact 5 has no FN: clients must build the name from N.
                entries.push(Entry::simple("FN", &fn_value));
            }
            entries.push(n);
        } else if let Some(org) = &org {
            entries.push(Entry::simple("FN", org));
        }
        if let Some(org) = &org {
            let units = if rng.chance(0.5) {
                vec![rng.pick(UNITS).to_string()]
            } else {
                Vec::new()
            };
            entries.push(Entry {
                name: "ORG".into(),
                group: None,
                types: Vec::new(),
                value: None,
                local_value: None,
                parts: vec![("name", org.clone())],
                units,
            });
        }
        // Numbers: none for contact 2, many for contact 6, one shared with an earlier contact
        // for contact 7, otherwise one to three.
        let phone_count = match special {
            2 => 0,
            6 => 12,
            _ => rng.range(1, 3) as usize,
        };
        for k in 0..phone_count {
            let (number, local) = if special == 7 && k == 0 {
                shared_number(rng, existing)
            } else {
                random_number(rng)
            };
            let types: &[&str] = match rng.below(5) {
                0 => &["HOME"],
                1 => &["CELL"],
                2 => &["WORK", "FAX"],
                _ => &["WORK"],
            };
            let idx = pool.intern(number.clone());
            if !types.contains(&"FAX") {
                self.external.push(idx);
            }
            entries.push(Entry {
                name: "TEL".into(),
                group: (special == 8 && k == 0).then(|| "item1".to_string()),
                types: types.iter().map(|t| t.to_string()).collect(),
                value: Some(number.pretty.to_string()),
                local_value: local,
                parts: Vec::new(),
                units: Vec::new(),
            });
        }
        if special == 8 || rng.chance(0.5) {
            let local = ascii_fold(
                &entries
                    .first()
                    .and_then(|e| e.value.clone())
                    .unwrap_or_default(),
            );
            let mut email = Entry::simple("EMAIL", &format!("{}{}@example.com", local, i));
            email.types = vec!["WORK".into()];
            email.group = (special == 8).then(|| "item1".to_string());
            entries.push(email);
        }
        if special == 8 || rng.chance(0.3) {
            let (city, region, country) = *rng.pick(CITIES);
            // Not drawn from the random stream: the rest of the world stays as it was.
            let code = CITIES
                .iter()
                .position(|c| c.0 == city)
                .and_then(|i| super::vocab::POSTAL_CODES.get(i))
                .copied()
                .unwrap_or("");
            let mut parts = vec![
                ("street", rng.pick(STREETS).to_string()),
                ("postal_code", code.to_string()),
                ("city", city.to_string()),
                ("region", region.to_string()),
                ("country", country.to_string()),
            ];
            if special == 8 {
                parts.push(("po_box", "Postfach 12 34".into()));
                parts.push(("extended", "c/o Hinterhaus, 3. OG".into()));
            }
            entries.push(Entry {
                name: "ADR".into(),
                group: None,
                types: vec![if rng.chance(0.5) { "WORK" } else { "HOME" }.into()],
                value: None,
                local_value: None,
                parts,
                units: Vec::new(),
            });
        }
        if special == 8 || rng.chance(0.1) {
            let lat = 47.0 + rng.below(60_000) as f64 / 10_000.0;
            let long = 6.0 + rng.below(90_000) as f64 / 10_000.0;
            entries.push(Entry {
                name: "GEO".into(),
                group: None,
                types: Vec::new(),
                value: None,
                local_value: None,
                parts: vec![("lat", format!("{lat:.6}")), ("long", format!("{long:.6}"))],
                units: Vec::new(),
            });
        }
        if special == 9 || rng.chance(0.1) {
            let note = *rng.pick(NOTES);
            entries.push(Entry::simple("NOTE", note));
        }
        if special == 8 {
            entries.push(Entry::simple("URL", "https://example.com/?a=1&b=<2>"));
        }
        Contact {
            uuid,
            valid_from_ms,
            owner: owner.to_string(),
            entries,
        }
    }

    /// The kind of the next generated event: mostly calls, as in a real office.
    pub fn kind(&mut self) -> Kind {
        match self.rng.below(100) {
            0..=69 => Kind::Call,
            70..=81 => Kind::Voicemail,
            82..=91 => Kind::Sms,
            _ => Kind::Fax,
        }
    }

    /// A plausible gap to the next event so that `count` events span about `span_days`.
    pub fn gap_ms(&mut self, count: usize, span_days: u32) -> i64 {
        let mean = (i64::from(span_days.max(1)) * DAY_MS) / count.max(1) as i64;
        1 + self.rng.below((2 * mean).max(1) as u64) as i64
    }

    pub fn id_step(&mut self) -> u64 {
        self.rng.range(1, 5)
    }

    pub fn event(&mut self, account: &Account, kind: Kind, id: u64, created_ms: i64) -> Event {
        let rng = &mut self.rng;
        let outgoing_share = match kind {
            Kind::Call => 40,
            Kind::Fax => 50,
            Kind::Sms => 60,
            Kind::Voicemail => 0,
        };
        let outgoing = rng.below(100) < outgoing_share;
        let direction = match (kind, outgoing) {
            (Kind::Call, true) if rng.chance(0.12) => Direction::MissedOutgoing,
            (Kind::Call, false) if rng.chance(0.25) => Direction::MissedIncoming,
            (_, true) => Direction::Outgoing,
            (_, false) => Direction::Incoming,
        };
        let status = match (kind, outgoing, rng.below(100)) {
            (Kind::Call, _, 0..=49) => None,
            (Kind::Fax | Kind::Sms, true, 0..=7) => Some(Status::Failed),
            (Kind::Fax | Kind::Sms, true, 8..=10) => Some(Status::Pending),
            (Kind::Fax | Kind::Sms, true, 11..=13) => Some(Status::Scheduled),
            _ => Some(Status::Sent),
        };
        let location = match rng.below(100) {
            0..=7 => Location::Trash,
            8..=17 => Location::Archive,
            _ if outgoing => Location::Sent,
            _ => Location::Inbox,
        };
        let own = *rng.pick(&self.own);
        let external = if !outgoing && rng.chance(0.05) {
            None // anonymous caller
        } else {
            Some(*rng.pick(&self.external))
        };
        let (sources, targets): (Vec<u32>, Vec<u32>) = if outgoing {
            let mut targets = vec![external.unwrap_or(own)];
            if matches!(kind, Kind::Sms | Kind::Fax) && rng.chance(0.1) {
                targets.push(*rng.pick(&self.external));
            }
            (vec![own], targets)
        } else {
            (external.map(|e| vec![e]).unwrap_or_default(), vec![own])
        };
        let ext_kind = match kind {
            Kind::Call => "register",
            Kind::Fax => "fax",
            Kind::Sms => "sms",
            Kind::Voicemail => "voicemail",
        };
        let candidates: Vec<u16> = account
            .extensions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == ext_kind)
            .map(|(i, _)| i as u16)
            .collect();
        let extension =
            (!candidates.is_empty() && rng.chance(0.85)).then(|| *rng.pick(&candidates));
        let scheduled_ms = (status == Some(Status::Scheduled))
            .then(|| created_ms + rng.range(1, 72) as i64 * 3_600_000);
        let sent_ms = (outgoing && status == Some(Status::Sent))
            .then(|| created_ms + rng.range(1, 90) as i64 * 1000);
        let detail = match kind {
            Kind::Call => Detail::Call {
                duration_s: match direction {
                    Direction::Incoming | Direction::Outgoing => {
                        rng.chance(0.9).then(|| rng.range(5, 3600) as u32)
                    }
                    _ => rng.chance(0.5).then_some(0),
                },
                recordings: u8::from(rng.chance(0.03)),
            },
            Kind::Fax => Detail::Fax {
                pages: rng.range(1, 6) as u8,
                sent_ms,
                fail_reason: (status == Some(Status::Failed)).then(|| *rng.pick(FAX_FAIL_REASONS)),
            },
            Kind::Sms => Detail::Sms {
                sent_ms,
                text: if rng.chance(0.03) {
                    // Close to the 460-character limit.
                    "Sehr geehrte Damen und Herren, "
                        .repeat(14)
                        .trim_end()
                        .into()
                } else {
                    (*rng.pick(SMS_TEXTS)).into()
                },
            },
            Kind::Voicemail => Detail::Voicemail {
                duration_s: rng.range(2, 180) as u32,
                transcription: rng.chance(0.7).then(|| (*rng.pick(TRANSCRIPTIONS)).into()),
            },
        };
        Event {
            id,
            created_ms,
            kind,
            direction,
            status,
            location,
            read: rng.chance(0.8),
            starred: rng.chance(0.05),
            labels: if rng.chance(0.15) {
                let mut labels = vec![*rng.pick(LABELS)];
                if rng.chance(0.3) {
                    let second = *rng.pick(LABELS);
                    if second != labels[0] {
                        labels.push(second);
                    }
                }
                labels.join(",").into()
            } else {
                "".into()
            },
            comment: rng
                .chance(0.03)
                .then(|| "Kunde ruft wegen Angebot & Lieferung an".into()),
            scheduled_ms,
            sources: sources.into(),
            targets: targets.into(),
            extension,
            detail,
        }
    }
}

/// A random external number and its national ("local") form.
fn random_number(rng: &mut Prng) -> (PhoneNumber, Option<String>) {
    if rng.chance(0.35) {
        let prefix = *rng.pick(MOBILE_PREFIXES);
        let sub = rng.digits(if prefix.len() == 4 { 7 } else { 8 });
        let number = PhoneNumber {
            e164: format!("49{prefix}{sub}").into(),
            pretty: format!("+49 {prefix} {sub}").into(),
        };
        return (number, Some(format!("0{prefix} {sub}")));
    }
    let (cc, area, len) = *rng.pick(AREAS);
    let sub = rng.digits(len);
    let number = PhoneNumber {
        e164: format!("{cc}{area}{sub}").into(),
        pretty: format!("+{cc} {area} {sub}").into(),
    };
    let local = if cc == "49" {
        format!("0{area} {sub}")
    } else {
        format!("00{cc} {area} {sub}")
    };
    (number, Some(local))
}

/// The first number of an earlier contact (a shared switchboard), or a new one.
fn shared_number(rng: &mut Prng, existing: &[Contact]) -> (PhoneNumber, Option<String>) {
    let tel = existing
        .iter()
        .rev()
        .flat_map(|c| c.entries.iter())
        .find(|e| e.name == "TEL" && !e.has_type("FAX"));
    match tel {
        Some(e) => {
            let pretty = e.value.clone().unwrap_or_default();
            let e164: String = pretty.chars().filter(char::is_ascii_digit).collect();
            (
                PhoneNumber {
                    e164: e164.into(),
                    pretty: pretty.into(),
                },
                e.local_value.clone(),
            )
        }
        None => random_number(rng),
    }
}

fn uuid(rng: &mut Prng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-{}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        ["8", "9", "a", "b"][(b & 3) as usize],
        &hex[17..20],
        &hex[20..32]
    )
}

/// A lower-case ASCII form of a name for e-mail addresses.
fn ascii_fold(name: &str) -> String {
    let folded: String = name
        .chars()
        .filter_map(|c| match c {
            'ä' | 'Ä' => Some('a'),
            'ö' | 'Ö' => Some('o'),
            'ü' | 'Ü' => Some('u'),
            'ß' => Some('s'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .take(20)
        .collect();
    if folded.is_empty() {
        "contact".into()
    } else {
        folded
    }
}
