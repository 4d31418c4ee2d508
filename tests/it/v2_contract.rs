//! Every request sipmirror sends to v2 is one sipgate documents. The table below is written
//! from sipgate's API description (`swagger.yaml`, Swagger 2.0, host api.sipgate.com, basePath
//! `/v2`, as published in the repository `benjaminawad/sipgateio-openapi-go`): for each path and
//! method, the query parameters and the body fields the description lists. The test runs every
//! command that talks to v2 against the emulator, which logs what each request named, and
//! fails on any request, query parameter or body field the table does not allow.

use crate::common;

use common::Synced;

/// (method, path with `{}` for a path parameter, query parameters, body fields).
type Documented = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const DOCUMENTED: &[Documented] = &[
    ("GET", "/v2/authorization/userinfo", &[], &[]),
    (
        "GET",
        "/v2/history",
        &[
            "connectionIds",
            "types",
            "directions",
            "offset",
            "limit",
            "archived",
            "starred",
            "from",
            "to",
            "phonenumber",
        ],
        &[],
    ),
    (
        "PUT",
        "/v2/history",
        &[],
        &["id", "archived", "read", "starred"],
    ),
    ("DELETE", "/v2/history", &["id"], &[]),
    ("GET", "/v2/history/{}", &[], &[]),
    (
        "PUT",
        "/v2/history/{}",
        &[],
        &["note", "archived", "read", "starred"],
    ),
    ("DELETE", "/v2/history/{}", &[], &[]),
    (
        "GET",
        "/v2/contacts",
        &["phonenumbers", "limit", "offset"],
        &[],
    ),
    ("GET", "/v2/account", &[], &[]),
    ("GET", "/v2/balance", &[], &[]),
    ("GET", "/v2/numbers", &["offset", "limit"], &[]),
    ("GET", "/v2/users", &[], &[]),
    ("GET", "/v2/groups", &["userId"], &[]),
    ("GET", "/v2/voicemails", &[], &[]),
    ("GET", "/v2/{}/devices", &[], &[]),
    ("GET", "/v2/{}/phonelines", &[], &[]),
    ("GET", "/v2/{}/phonelines/{}/forwardings", &[], &[]),
    (
        "PUT",
        "/v2/{}/phonelines/{}/forwardings",
        &[],
        &["forwardings"],
    ),
    ("GET", "/v2/{}/faxlines", &[], &[]),
    ("GET", "/v2/{}/sms", &[], &[]),
    ("GET", "/v2/devices/{}", &[], &[]),
    ("PUT", "/v2/devices/{}", &[], &["dnd", "emergencyAddressId"]),
    (
        "POST",
        "/v2/sessions/sms",
        &[],
        &["smsId", "recipient", "message", "sendAt"],
    ),
    (
        "POST",
        "/v2/sessions/fax",
        &[],
        &["faxlineId", "recipient", "filename", "base64Content"],
    ),
    (
        "POST",
        "/v2/sessions/calls",
        &[],
        &["deviceId", "caller", "callee", "callerId"],
    ),
    ("GET", "/v2/calls", &[], &[]),
    ("DELETE", "/v2/calls/{}", &[], &[]),
    ("PUT", "/v2/calls/{}/muted", &[], &["value"]),
    ("PUT", "/v2/calls/{}/hold", &[], &["value"]),
    (
        "PUT",
        "/v2/calls/{}/recording",
        &[],
        &["announcement", "value"],
    ),
    (
        "POST",
        "/v2/calls/{}/transfer",
        &[],
        &["attended", "phoneNumber", "callerId"],
    ),
    ("POST", "/v2/calls/{}/dtmf", &[], &["sequence"]),
    ("GET", "/v2/settings/sipgateio", &[], &[]),
    (
        "PUT",
        "/v2/settings/sipgateio",
        &[],
        &["incomingUrl", "outgoingUrl", "log", "whitelist"],
    ),
];

/// Whether `path` fits `pattern` (`{}` stands for one segment). Fixed segments win over a
/// parameter: `/v2/history/{}` does not take `/v2/{}/devices`.
fn fits(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len() && pattern.iter().zip(&path).all(|(p, s)| *p == "{}" || p == s)
}

/// The documented entry a request matches: the one with the most fixed segments.
fn documented(method: &str, path: &str) -> Option<&'static Documented> {
    DOCUMENTED
        .iter()
        .filter(|(m, p, _, _)| *m == method && fits(p, path))
        .max_by_key(|(_, p, _, _)| p.split('/').filter(|s| *s != "{}").count())
}

fn ok(s: &Synced, args: &[&str]) -> String {
    let output = s.v2_cmd(args).output().expect("run");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_table_reads_paths_as_sipgate_describes_them() {
    assert!(documented("GET", "/v2/history/123").is_some());
    assert!(documented("GET", "/v2/w0/devices").is_some());
    assert_eq!(
        documented("PUT", "/v2/w0/phonelines/p0/forwardings").map(|d| d.1),
        Some("/v2/{}/phonelines/{}/forwardings")
    );
    assert!(documented("PATCH", "/v2/history/1").is_none());
    assert!(documented("GET", "/v2/history/1/extra").is_none());
}

#[test]
fn every_request_sipmirror_sends_is_one_sipgate_documents() {
    let s = Synced::start(600, 30);
    let pdf = s.home.path().join("fax.pdf");
    std::fs::write(&pdf, sipmirror::emulator::sample_pdf(7, 1)).expect("pdf");
    let pdf = pdf.to_string_lossy().into_owned();
    s.v2_sync_ok(&[]);
    s.v2_sync_ok(&["--full", "--media"]);
    let ids: Vec<String> = {
        let db = s.db();
        let mut stmt = db
            .prepare("SELECT id FROM events ORDER BY id LIMIT 60")
            .expect("prepare");
        stmt.query_map([], |r| r.get::<_, i64>(0))
            .expect("ids")
            .map(|id| id.expect("id").to_string())
            .collect()
    };
    // Edits one at a time and in bulk, a note, deletions one and several.
    ok(&s, &["doctor"]);
    ok(&s, &["event", "read", &ids[0]]);
    ok(&s, &["event", "note", &ids[1], "call back"]);
    ok(&s, &["push"]);
    for id in &ids[2..50] {
        ok(&s, &["event", "star", id]);
    }
    ok(&s, &["event", "archive", &ids[50]]);
    ok(&s, &["push"]);
    ok(&s, &["event", "delete", &ids[51]]);
    ok(&s, &["push"]);
    for id in &ids[52..56] {
        ok(&s, &["event", "delete", id]);
    }
    ok(&s, &["push"]);
    // Sends, now and later.
    ok(
        &s,
        &["send", "sms", "--to", "+4915799912345", "--text", "hello"],
    );
    let later = (chrono::Local::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    ok(
        &s,
        &[
            "send",
            "sms",
            "--to",
            "+4915799912345",
            "--text",
            "later",
            "--at",
            &later,
        ],
    );
    ok(
        &s,
        &["send", "fax", "--from", "f0", "--to", "+4930123456", &pdf],
    );
    // Calls and their verbs.
    ok(
        &s,
        &[
            "call",
            "dial",
            "--caller",
            "e0",
            "--callee",
            "+4915799912345",
        ],
    );
    ok(&s, &["call", "list"]);
    let call = s
        .emulator
        .with_state(|w| w.sessions.last().map(|c| c.id.clone()));
    let call = call.expect("a running call");
    for verb in [
        &["call", "hold", &call, "on"][..],
        &["call", "mute", &call, "on"],
        &["call", "record", &call, "on", "--announce"],
        &["call", "dtmf", &call, "12#"],
        &["call", "transfer", &call, "030 123456", "--attended"],
        &["call", "hangup", &call],
    ] {
        ok(&s, verb);
    }
    // Settings and the push API's URLs.
    ok(&s, &["settings", "dnd", "e0", "on"]);
    ok(&s, &["settings", "forwarding", "p0"]);
    ok(
        &s,
        &[
            "settings",
            "forwarding",
            "p0",
            "set",
            "+4915799912345:20",
            "voicemail:30",
        ],
    );
    ok(&s, &["webhook", "setup"]);
    ok(
        &s,
        &[
            "webhook",
            "setup",
            "--incoming",
            "https://pbx.example.com/in",
            "--outgoing",
            "https://pbx.example.com/out",
        ],
    );

    let log = s.emulator.stats().wire_log;
    assert!(
        log.len() > 50,
        "the commands talked to v2 ({} requests)",
        log.len()
    );
    let mut refused = Vec::new();
    for request in &log {
        let Some((_, pattern, query, body)) = documented(&request.method, &request.path) else {
            refused.push(format!(
                "{} {}: not documented",
                request.method, request.path
            ));
            continue;
        };
        for key in request
            .query
            .iter()
            .filter(|k| !query.contains(&k.as_str()))
        {
            refused.push(format!(
                "{} {pattern}: query parameter {key:?}",
                request.method
            ));
        }
        for key in request.body.iter().filter(|k| !body.contains(&k.as_str())) {
            refused.push(format!("{} {pattern}: body field {key:?}", request.method));
        }
    }
    refused.sort();
    refused.dedup();
    assert!(
        refused.is_empty(),
        "requests sipgate does not document: {refused:#?}"
    );
    // Every kind of request was seen (the test covers what it claims to).
    for (method, pattern) in [
        ("PUT", "/v2/history"),
        ("PUT", "/v2/history/{}"),
        ("DELETE", "/v2/history"),
        ("DELETE", "/v2/history/{}"),
        ("POST", "/v2/sessions/sms"),
        ("POST", "/v2/sessions/fax"),
        ("PUT", "/v2/devices/{}"),
        ("PUT", "/v2/{}/phonelines/{}/forwardings"),
        ("PUT", "/v2/settings/sipgateio"),
        ("POST", "/v2/calls/{}/transfer"),
    ] {
        assert!(
            log.iter().any(|r| r.method == method
                && documented(&r.method, &r.path).map(|d| d.1) == Some(pattern)),
            "no {method} {pattern} was sent"
        );
    }
}

/// The JSON type a described field has: `string`, `boolean`, `integer`, `array`, `object`.
type Field = (&'static str, &'static str);

/// What sipgate's description says a GET answers (HTTP 200): the fields of the object, or of
/// each of its `items`. Fields the description does not list may come too (the schemas do not
/// forbid them, and sipgate sends more, e.g. history's `callId`).
const ANSWERS: &[(&str, &[Field], &[Field])] = &[
    (
        "/authorization/userinfo",
        &[
            ("sub", "string"),
            ("domain", "string"),
            ("masterSipId", "string"),
            ("locale", "string"),
        ],
        &[],
    ),
    (
        "/account",
        &[
            ("company", "string"),
            ("mainProductType", "string"),
            ("logoUrl", "string"),
            ("verified", "boolean"),
            ("historyLifeTime", "string"),
        ],
        &[],
    ),
    (
        "/balance",
        &[("amount", "integer"), ("currency", "string")],
        &[],
    ),
    (
        "/numbers",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("number", "string"),
            ("localized", "string"),
            ("type", "string"),
            ("endpointId", "string"),
            ("endpointAlias", "string"),
            ("endpointUrl", "string"),
        ],
    ),
    (
        "/users",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("firstname", "string"),
            ("lastname", "string"),
            ("email", "string"),
            ("defaultDevice", "string"),
            ("busyOnBusy", "boolean"),
            ("addressId", "string"),
            ("directDialIds", "array"),
            ("timezone", "string"),
            ("admin", "boolean"),
        ],
    ),
    (
        "/groups",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("groupNumbersUrl", "string"),
            ("groupUsersUrl", "string"),
            ("departmentId", "integer"),
        ],
    ),
    (
        "/voicemails",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("belongsToEndpoint", "object"),
        ],
    ),
    (
        "/w0/devices",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("type", "string"),
            ("online", "boolean"),
            ("dnd", "boolean"),
            ("activePhonelines", "array"),
            ("activeGroups", "array"),
        ],
    ),
    (
        "/w1/devices",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("type", "string"),
            ("online", "boolean"),
            ("dnd", "boolean"),
            ("activePhonelines", "array"),
            ("activeGroups", "array"),
        ],
    ),
    (
        "/devices/e0",
        &[
            ("id", "string"),
            ("alias", "string"),
            ("type", "string"),
            ("online", "boolean"),
            ("dnd", "boolean"),
            ("activePhonelines", "array"),
            ("activeGroups", "array"),
        ],
        &[],
    ),
    (
        "/w0/phonelines",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("blockAnonymousUrl", "string"),
            ("devicesUrl", "string"),
            ("forwardingsUrl", "string"),
            ("numbersUrl", "string"),
            ("parallelForwardingsUrl", "string"),
            ("voicemailsUrl", "string"),
        ],
    ),
    (
        "/w0/phonelines/p0/forwardings",
        &[("items", "array")],
        &[
            ("alias", "string"),
            ("destination", "string"),
            ("timeout", "integer"),
            ("active", "boolean"),
        ],
    ),
    (
        "/w0/faxlines",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("tagline", "string"),
            ("canSend", "boolean"),
            ("canReceive", "boolean"),
        ],
    ),
    (
        "/w0/sms",
        &[("items", "array")],
        &[
            ("id", "string"),
            ("alias", "string"),
            ("callerId", "string"),
        ],
    ),
    (
        "/history?limit=1000",
        &[("items", "array"), ("totalCount", "integer")],
        &[
            ("id", "string"),
            ("source", "string"),
            ("target", "string"),
            ("sourceAlias", "string"),
            ("targetAlias", "string"),
            ("type", "string"),
            ("created", "string"),
            ("lastModified", "string"),
            ("direction", "string"),
            ("incoming", "boolean"),
            ("status", "string"),
            ("connectionIds", "array"),
            ("read", "boolean"),
            ("archived", "boolean"),
            ("note", "string"),
            ("endpoints", "array"),
            ("starred", "boolean"),
            ("labels", "array"),
        ],
    ),
    (
        "/contacts?limit=1000",
        &[("items", "array"), ("totalCount", "integer")],
        &[
            ("id", "string"),
            ("name", "string"),
            ("picture", "string"),
            ("emails", "array"),
            ("numbers", "array"),
            ("addresses", "array"),
            ("organization", "array"),
            ("scope", "string"),
        ],
    ),
    (
        "/settings/sipgateio",
        &[
            ("incomingUrl", "string"),
            ("outgoingUrl", "string"),
            ("log", "boolean"),
            ("whitelist", "array"),
        ],
        &[],
    ),
];

/// The enums of the description that the emulator's answers use.
const ENUMS: &[(&str, &[&str])] = &[(
    "mainProductType",
    &[
        "AFFILIATE",
        "BASIC",
        "CLINQ",
        "SATELLITE",
        "SIMQUADRAT",
        "TEAM",
        "TRUNKING",
        "FORMER_AFFILIATE",
        "FORMER_BASIC",
        "FORMER_SATELLITE",
    ],
)];

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// The ways `object` differs from `fields`: a described field of another type (null
/// included: the description has no nullable field), or outside its enum.
fn differences(what: &str, object: &serde_json::Value, fields: &[Field]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, wanted) in fields {
        let Some(value) = object.get(name) else {
            continue;
        };
        let got = json_type(value);
        if got != *wanted {
            found.push(format!("{what}: {name} is {got}, described as {wanted}"));
        }
        if let Some((_, allowed)) = ENUMS.iter().find(|(n, _)| n == name)
            && !value.as_str().is_some_and(|v| allowed.contains(&v))
        {
            found.push(format!(
                "{what}: {name} {value} is not in the description's enum"
            ));
        }
    }
    found
}

#[test]
fn the_emulators_answers_have_the_types_sipgate_describes() {
    let s = Synced::start(300, 40);
    let mut found = Vec::new();
    for (path, fields, item_fields) in ANSWERS {
        let answer = common::v2_json(&s, path);
        found.extend(differences(path, &answer, fields));
        for item in answer["items"].as_array().into_iter().flatten() {
            found.extend(differences(&format!("{path} item"), item, item_fields));
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "answers unlike the description: {found:#?}"
    );
}
