//! Nothing upstream calls a secret reaches the mirror: SIP passwords, PINs, PUKs, tokens. The
//! settings' `raw_json` keeps what upstream sent for everything else, so a field sipgate adds
//! later is mirrored without a code change; a field named like a secret is dropped wherever it
//! sits, and devices (whose answers carry SIP and SIM credentials) keep only the fields named
//! in an allow-list.

use serde_json::{Map, Value};

/// Whether a field's name says it holds a secret (`hasPin`, `hasSipPassword` only say whether
/// one is set).
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.starts_with("has") {
        return false;
    }
    ["password", "secret", "credential", "token", "puk", "passwd"]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with("pin")
}

fn scrub_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| !is_secret(key));
            map.values_mut().for_each(scrub_value);
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        _ => {}
    }
}

/// `raw` (JSON) without any field named like a secret, at any depth; `{}` for what is not
/// JSON.
pub fn scrub(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(mut value) => {
            scrub_value(&mut value);
            value.to_string()
        }
        Err(_) => "{}".to_string(),
    }
}

/// `raw` (a JSON object) with only the `kept` fields (themselves scrubbed); `{}` otherwise.
pub fn keep_only(raw: &str, kept: &[&str]) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => {
            let mut value = Value::Object(
                map.into_iter()
                    .filter(|(key, _)| kept.contains(&key.as_str()))
                    .collect::<Map<_, _>>(),
            );
            scrub_value(&mut value);
            value.to_string()
        }
        _ => "{}".to_string(),
    }
}

/// What the mirror keeps of a v2 device (sipgate's `DeviceResponse` and its register and
/// mobile forms, less `credentials`).
pub const DEVICE_FIELDS: [&str; 11] = [
    "id",
    "alias",
    "type",
    "online",
    "dnd",
    "activePhonelines",
    "activeGroups",
    "simState",
    "esim",
    "emergencyAddressId",
    "addressUrl",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_dropped_at_any_depth_and_devices_keep_their_list() {
        let raw = r#"{"id":"e0","sipPassword":"x","pin":"1234","nested":{"puk1":"5","keep":1},
                      "list":[{"token":"t","alias":"a"}],"ping":true,"hasPin":true}"#;
        assert_eq!(
            scrub(raw),
            r#"{"hasPin":true,"id":"e0","list":[{"alias":"a"}],"nested":{"keep":1},"ping":true}"#
        );
        let device = r#"{"id":"e0","dnd":false,"credentials":{"password":"p"},"registered":[]}"#;
        assert_eq!(
            keep_only(device, &DEVICE_FIELDS),
            r#"{"dnd":false,"id":"e0"}"#
        );
        assert_eq!(scrub("not json"), "{}");
    }
}
