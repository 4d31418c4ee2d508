//! The push API's posts: `application/x-www-form-urlencoded` bodies with `event` = `newCall`,
//! `answer`, `hangup` or `dtmf`. Everything is checked before anything is stored: an unknown
//! event, a missing or malformed field, a field past its size, or too many fields is refused.

pub use crate::records::push::{Call, PushEvent};
const MAX_FIELDS: usize = 64;
const MAX_VALUE: usize = 256;
const CAUSES: [&str; 7] = [
    "normalClearing",
    "busy",
    "cancel",
    "noAnswer",
    "congestion",
    "notFound",
    "forwarded",
];

/// Parses and checks one post's body. The error is a short reason for the 400.
pub fn parse(body: &[u8]) -> Result<PushEvent, String> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    // sipgate sends `user[]`, `userId[]` and `fullUserId[]` once per user of a group: those
    // are bounded by the body's size alone; the other fields by their number.
    let per_user = |key: &str| {
        let name = key.strip_suffix("[]").unwrap_or(key);
        matches!(name, "user" | "userId" | "fullUserId")
    };
    if fields.iter().filter(|(k, _)| !per_user(k)).count() > MAX_FIELDS {
        return Err(format!("more than {MAX_FIELDS} fields"));
    }
    for (key, value) in &fields {
        if value.chars().count() > MAX_VALUE || key.len() > 64 {
            return Err(format!("field {key:?} is too long"));
        }
        if value.chars().any(char::is_control) {
            return Err(format!("field {key:?} holds control characters"));
        }
    }
    let one = |key: &str| -> Option<String> {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let all = |key: &str| -> Vec<String> {
        let bracketed = format!("{key}[]");
        fields
            .iter()
            .filter(|(k, _)| *k == key || *k == bracketed)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let call_id = one("callId").ok_or("no callId")?;
    check_id(&call_id, "callId")?;
    let event = one("event").ok_or("no event")?;
    if event == "dtmf" {
        // Digits may be empty or start with 0: kept as text.
        let digits = fields
            .iter()
            .find(|(k, _)| k == "dtmf")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        {
            return Err("dtmf holds something other than digits, * and #".into());
        }
        return Ok(PushEvent::Dtmf { call_id, digits });
    }
    let call = Call {
        orig_call_id: one("origCallId")
            .map(|id| check_id(&id, "origCallId").map(|()| id))
            .transpose()?,
        direction: one("direction")
            .map(|d| match d.as_str() {
                "in" | "out" => Ok(d),
                _ => Err(format!("direction {d:?} is not in or out")),
            })
            .transpose()?,
        from: one("from").map(|n| number(n, "from")).transpose()?,
        to: one("to").map(|n| number(n, "to")).transpose()?,
        users: all("user"),
        user_ids: all("userId"),
        answering_number: one("answeringNumber")
            .map(|n| number(n, "answeringNumber"))
            .transpose()?,
        diversion: one("diversion")
            .map(|n| number(n, "diversion"))
            .transpose()?,
        cause: one("cause")
            .map(|c| {
                if CAUSES.contains(&c.as_str()) {
                    Ok(c)
                } else {
                    Err(format!("cause {c:?} is not one the push API sends"))
                }
            })
            .transpose()?,
        call_id,
    };
    match event.as_str() {
        "newCall" => Ok(PushEvent::NewCall(call)),
        "answer" => Ok(PushEvent::Answer(call)),
        "hangup" => Ok(PushEvent::Hangup(call)),
        other => Err(format!("unknown event {other:?}")),
    }
}

fn check_id(id: &str, what: &str) -> Result<(), String> {
    if id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        Ok(())
    } else {
        Err(format!("{what} is not an id"))
    }
}

/// Digits (a `+` in front is dropped), or `anonymous`.
fn number(raw: String, what: &str) -> Result<String, String> {
    let digits = raw.strip_prefix('+').unwrap_or(&raw);
    if raw == "anonymous" || (digits.len() <= 32 && digits.chars().all(|c| c.is_ascii_digit())) {
        Ok(if raw == "anonymous" {
            raw
        } else {
            digits.to_string()
        })
    } else {
        Err(format!("{what} is not a number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_events_are_read_and_bad_ones_refused() {
        let new_call = parse(
            b"event=newCall&direction=in&from=4915799912345&to=4930123456&callId=ABC123&origCallId=ABC123&user%5B%5D=Alice&userId%5B%5D=w0&diversion=4930999",
        )
        .expect("newCall");
        let PushEvent::NewCall(call) = new_call else {
            panic!("not newCall")
        };
        assert_eq!(call.users, ["Alice"]);
        assert_eq!(call.user_ids, ["w0"]);
        assert_eq!(call.from.as_deref(), Some("4915799912345"));
        assert!(matches!(
            parse(b"event=hangup&callId=ABC123&cause=normalClearing"),
            Ok(PushEvent::Hangup(_))
        ));
        assert_eq!(
            parse(b"event=dtmf&callId=ABC123&dtmf=0123"),
            Ok(PushEvent::Dtmf {
                call_id: "ABC123".into(),
                digits: "0123".into()
            })
        );
        for bad in [
            &b"event=ring&callId=A"[..],
            b"event=newCall",
            b"event=newCall&callId=a/b",
            b"event=hangup&callId=A&cause=explosion",
            b"event=newCall&callId=A&direction=sideways",
            b"event=newCall&callId=A&from=0800-CALL-ME",
            b"event=newCall&callId=A&user%5B%5D=%07",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let many = (0..70)
            .map(|i| format!("f{i}=x"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(parse(format!("event=newCall&callId=A&{many}").as_bytes()).is_err());
        // A group of 100: three fields per user, all kept.
        let group = (0..100)
            .map(|i| format!("user%5B%5D=U{i}&userId%5B%5D=w{i}&fullUserId%5B%5D=1234567w{i}"))
            .collect::<Vec<_>>()
            .join("&");
        let Ok(PushEvent::NewCall(call)) =
            parse(format!("event=newCall&callId=G&{group}").as_bytes())
        else {
            panic!("a group call is refused")
        };
        assert_eq!((call.users.len(), call.user_ids.len()), (100, 100));
    }
}
