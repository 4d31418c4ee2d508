//! v2's account resources and contacts, from the same world the classic settings and contacts
//! routes serve: who am I, the account, the balance, numbers, users, and per user its devices,
//! phonelines (and forwardings), fax lines and SMS extensions; voicemail boxes, groups.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::{Query, Shr, V2Error, V2Result, items, ok};
use crate::emulator::model::{Contact, Extension as Ext};
use crate::emulator::state::State as World;

/// `/contacts` without `limit` lists this many.
const DEFAULT_CONTACTS_LIMIT: usize = 5000;

pub fn routes() -> Router<Shr> {
    Router::new()
        .route("/authorization/userinfo", get(userinfo))
        .route("/account", get(account))
        .route("/balance", get(balance))
        .route("/numbers", get(numbers))
        .route("/users", get(users))
        .route("/voicemails", get(voicemails))
        .route("/groups", get(groups))
        .route("/contacts", get(contacts))
        .route("/{user}/devices", get(devices))
        .route("/{user}/phonelines", get(phonelines))
        .route("/{user}/phonelines/{line}/forwardings", get(forwardings))
        .route("/{user}/faxlines", get(faxlines))
        .route("/{user}/sms", get(sms))
        .route("/settings/sipgateio", get(sipgateio).put(set_sipgateio))
}

async fn userinfo(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    ok(
        &json!({"sub": world.user_id, "domain": "sipgate.de", "masterSipId": "1234567",
               "locale": "de_DE"}),
    )
}

async fn account(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    ok(&json!({
        "company": "sipmirror Demo GmbH",
        "mainProductType": product_type(&world.account.base_product_type),
        "logoUrl": "",
        "verified": true,
        "historyLifeTime": "UNLIMITED",
    }))
}

/// The classic product name ("sipgate team") as one of the names v2's description lists
/// (`TEAM`, `BASIC`, ...).
fn product_type(classic: &str) -> String {
    classic
        .trim()
        .strip_prefix("sipgate ")
        .unwrap_or(classic)
        .to_ascii_uppercase()
        .replace(' ', "_")
}

/// The classic balance in 1/10,000 of the currency, an integer as v2 sends it.
async fn balance(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    let b = &world.account.balance;
    ok(
        &json!({"amount": (b.total_including_vat * 10_000.0).round() as i64, "currency": b.currency}),
    )
}

async fn numbers(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    let list = world
        .account
        .numbers
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let endpoint = n.extension_id.clone().unwrap_or_default();
            let alias = world
                .account
                .extension(&endpoint)
                .map(|x| x.alias.clone())
                .unwrap_or_default();
            json!({"id": (9_104_380 + i).to_string(), "number": format!("+{}", n.e164),
                   "localized": n.pretty, "type": n.kind.to_ascii_uppercase(),
                   "endpointId": endpoint, "endpointAlias": alias})
        })
        .collect();
    items(list)
}

/// The organisation's second user: one device of the account's, no lines of their own, and no
/// fax booked (`/w1/faxlines` answers 403 "Feature not booked", as sipgate's description has
/// it for accounts without the feature).
pub const SECOND_USER: &str = "w1";

/// The device of the second user's.
const SECOND_USERS_DEVICE: &str = "e2";

async fn users(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    items(vec![
        json!({
            "id": world.user_id, "firstname": "Jürgen", "lastname": "Demo",
            "email": "juergen@example.com", "defaultDevice": "e0", "busyOnBusy": false,
            "addressId": "1", "directDialIds": [], "timezone": "Europe/Berlin", "admin": true,
        }),
        json!({
            "id": SECOND_USER, "firstname": "Ada", "lastname": "Demo",
            "email": "ada@example.com", "defaultDevice": SECOND_USERS_DEVICE, "busyOnBusy": false,
            "addressId": "1", "directDialIds": [], "timezone": "Europe/Berlin", "admin": false,
        }),
    ])
}

/// Which of the account's users `user` is: the own one (true) or the second (false).
fn own_user(world: &World, user: &str) -> Result<bool, V2Error> {
    if user == world.user_id {
        Ok(true)
    } else if user == SECOND_USER {
        Ok(false)
    } else {
        Err(V2Error::not_found(format!("no user {user:?}")))
    }
}

/// A register device's SIP credentials, as v2 sends them with its devices: the test that no
/// secret reaches the mirror looks for these.
fn credentials(x: &Ext) -> Value {
    let password = x
        .specifics
        .iter()
        .find(|(name, _)| *name == "sipPassword")
        .map_or(Value::Null, |(_, v)| v.clone());
    json!({"username": format!("{}-sip", x.id), "password": password,
           "sipServer": "sipgate.de", "outboundProxy": "sipgate.de",
           "sipServerWebsocketUrl": "wss://sipgate.de"})
}

fn with_kind<'w>(world: &'w World, kinds: &'w [&str]) -> impl Iterator<Item = &'w Ext> + 'w {
    world
        .account
        .extensions
        .iter()
        .filter(move |x| kinds.contains(&x.kind))
}

async fn devices(State(shared): State<Shr>, Path(user): Path<String>) -> V2Result {
    let world = shared.read();
    let own = own_user(&world, &user)?;
    let list = with_kind(&world, &["register", "external"])
        .filter(|x| (x.id == SECOND_USERS_DEVICE) != own)
        .map(|x| device(&world, x))
        .collect();
    items(list)
}

/// A device as v2 answers it, in a user's list and alone (`GET /devices/{id}`); a register
/// device with its SIP credentials, as sipgate sends them.
pub fn device(world: &World, x: &Ext) -> Value {
    let mut device = json!({"id": x.id, "alias": x.alias, "type": x.kind.to_ascii_uppercase(),
           "online": x.kind == "register", "dnd": x.dnd,
           "activePhonelines": [{"id": "p0", "alias": "Jürgen"}], "activeGroups": [],
           "emergencyAddressId": world.emergency_address(&x.id),
           "addressUrl": "/addresses/1"});
    if x.kind == "register" {
        device["credentials"] = credentials(x);
        device["registered"] = json!([]);
    }
    device
}

async fn phonelines(State(shared): State<Shr>, Path(user): Path<String>) -> V2Result {
    let world = shared.read();
    if !own_user(&world, &user)? {
        return items(Vec::new());
    }
    let base = format!("{}/v2/{user}/phonelines", shared.base_url);
    let list = world
        .account
        .phonelines
        .iter()
        .map(|p| {
            json!({"id": p.id, "alias": p.alias,
                   "forwardingsUrl": format!("{base}/{}/forwardings", p.id),
                   "numbersUrl": format!("{base}/{}/numbers", p.id)})
        })
        .collect();
    items(list)
}

async fn forwardings(
    State(shared): State<Shr>,
    Path((user, line)): Path<(String, String)>,
) -> V2Result {
    let world = shared.read();
    if !own_user(&world, &user)? {
        return Err(V2Error::not_found(format!("no phoneline {line:?}")));
    }
    let phoneline = world
        .account
        .phonelines
        .iter()
        .find(|p| p.id == line)
        .ok_or_else(|| V2Error::not_found(format!("no phoneline {line:?}")))?;
    let list = phoneline
        .forwardings
        .iter()
        .map(|f| {
            json!({"alias": "", "destination": f.destination, "timeout": f.timeout_s,
                   "active": f.active})
        })
        .collect();
    items(list)
}

async fn faxlines(State(shared): State<Shr>, Path(user): Path<String>) -> V2Result {
    let world = shared.read();
    if !own_user(&world, &user)? {
        return Err(V2Error::forbidden("Feature not booked"));
    }
    let list = with_kind(&world, &["fax"])
        .map(|x| json!({"id": x.id, "alias": x.alias, "tagline": "", "canSend": true, "canReceive": true}))
        .collect();
    items(list)
}

async fn sms(State(shared): State<Shr>, Path(user): Path<String>) -> V2Result {
    let world = shared.read();
    if !own_user(&world, &user)? {
        return items(Vec::new());
    }
    let list = with_kind(&world, &["sms"])
        .map(|x| json!({"id": x.id, "alias": x.alias, "callerId": "sipgate"}))
        .collect();
    items(list)
}

async fn voicemails(State(shared): State<Shr>) -> V2Result {
    let world = shared.read();
    let list = with_kind(&world, &["voicemail"])
        .map(|x| {
            json!({"id": x.id, "alias": x.alias,
                   "belongsToEndpoint": {"extension": "p0", "type": "PHONELINE"}})
        })
        .collect();
    items(list)
}

/// The account's one group: the reception's calls ring it (see the history's
/// `connectionIds`).
pub const GROUP: (&str, &str) = ("g0", "Zentrale");

/// The device whose calls come in through the group.
pub const GROUP_DEVICE: &str = "e1";

async fn groups(State(shared): State<Shr>) -> V2Result {
    let base = format!("{}/v2/groups/{}", shared.base_url, GROUP.0);
    items(vec![json!({
        "id": GROUP.0, "alias": GROUP.1,
        "groupNumbersUrl": format!("{base}/numbers"), "groupUsersUrl": format!("{base}/users"),
    })])
}

async fn contacts(State(shared): State<Shr>, Extension(query): Extension<Query>) -> V2Result {
    let limit = query.number("limit", DEFAULT_CONTACTS_LIMIT)?;
    let offset = query.number("offset", 0)?;
    let limit = shared
        .faults()
        .page_cap(offset)
        .map_or(limit, |c| limit.min(c));
    let world = shared.read();
    let page: Vec<Value> = world
        .contacts
        .iter()
        .skip(offset)
        .take(limit)
        .map(|c| contact(&world, c))
        .collect();
    ok(&json!({"items": page, "totalCount": world.contacts.len()}))
}

/// v2's `name`: the whole name as one string (FN, else every part of N, else ORG).
fn full_name(c: &Contact) -> String {
    let n = c.entries.iter().find(|e| e.name == "N");
    let fn_ = c
        .entries
        .iter()
        .find(|e| e.name == "FN")
        .and_then(|e| e.value.clone());
    let parts = n.map(|n| {
        ["prefixes", "given", "middle", "family"]
            .into_iter()
            .filter_map(|k| n.part(k))
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    });
    fn_.or(parts.filter(|p| !p.is_empty()))
        .unwrap_or_else(|| c.formatted_name())
}

/// A contact in v2's shape, from the world's vCard-like entries.
fn contact(world: &World, c: &Contact) -> Value {
    let types =
        |t: &[String]| -> Vec<String> { t.iter().map(|t| t.to_ascii_lowercase()).collect() };
    let numbers: Vec<Value> = c
        .entries
        .iter()
        .filter(|e| e.name == "TEL")
        .map(|e| json!({"number": e.value, "type": types(&e.types)}))
        .collect();
    let emails: Vec<Value> = c
        .entries
        .iter()
        .filter(|e| e.name == "EMAIL")
        .map(|e| json!({"email": e.value, "type": types(&e.types)}))
        .collect();
    let addresses: Vec<Value> = c
        .entries
        .iter()
        .filter(|e| e.name == "ADR")
        .map(|e| {
            let part = |k: &str| e.part(k).unwrap_or("");
            json!({"poBox": part("po_box"), "extendedAddress": part("extended"),
                   "streetAddress": part("street"), "locality": part("city"),
                   "region": part("region"), "postalCode": part("postal_code"), "country": part("country")})
        })
        .collect();
    let organization: Vec<Vec<String>> = c
        .entries
        .iter()
        .filter(|e| e.name == "ORG")
        .map(|e| {
            let mut parts = vec![e.part("name").unwrap_or("").to_string()];
            parts.extend(e.units.iter().cloned());
            parts
        })
        .collect();
    // The classic world has one owner for every contact; v2 serves about a third of them as
    // the account's shared phone book (by their UUID, so always the same ones).
    let shared = c.owner != world.user_id || c.uuid.starts_with(['0', '1', '2', '3', '4']);
    let scope = if shared { "SHARED" } else { "PRIVATE" };
    json!({"id": c.uuid, "name": full_name(c), "emails": emails,
           "numbers": numbers, "addresses": addresses, "organization": organization,
           "scope": scope})
}

/// `GET /settings/sipgateio`: where the push API posts.
async fn sipgateio(State(shared): State<Shr>) -> V2Result {
    ok(&shared.read().sipgateio)
}

/// `PUT /settings/sipgateio`: the whole object; `incomingUrl` and `outgoingUrl` required.
async fn set_sipgateio(State(shared): State<Shr>, body: axum::body::Bytes) -> V2Result {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| V2Error::bad_request(format!("invalid JSON: {e}")))?;
    for key in ["incomingUrl", "outgoingUrl"] {
        if !value[key].is_string() {
            return Err(V2Error::bad_request(format!("{key} is required")));
        }
    }
    shared.write().sipgateio = value;
    Ok(axum::response::IntoResponse::into_response(
        axum::http::StatusCode::NO_CONTENT,
    ))
}
