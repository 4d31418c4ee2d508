//! sipgate's REST API v2 (`https://api.sipgate.com/v2`): its wire shapes and how they become
//! the mirror's records. What is known of the API, and what is only inferred, is in
//! `docs/upstream.md`.
//!
//! Conventions: Basic auth with a personal access token (`tokenId:token`), JSON both ways, no
//! `version` parameter, lists as `{items: [...]}` (history and contacts add `totalCount`), ids
//! as strings, times ISO-8601 (`2020-09-14T10:03:20Z`; fractions and offsets accepted).

pub mod account;
pub mod actions;
pub mod contacts;
pub mod history;
mod read_many;

/// The largest `limit` `/history` takes; more is refused with 400.
pub const MAX_HISTORY_LIMIT: u64 = 1000;

/// The scope a token needs for a request to `path` (the path below the base URL, without the
/// query), as sipgate lists them, to say in a 403 which one is missing.
pub fn scope_for(path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let first = segments.first().copied().unwrap_or("");
    // `/{userId}/devices`, `/{userId}/phonelines/...`: the resource is the second segment.
    let resource = match first {
        "history" | "contacts" | "account" | "balance" | "numbers" | "users" | "voicemails"
        | "groups" | "settings" | "sessions" | "calls" | "devices" | "authorization" => first,
        _ => segments.get(1).copied().unwrap_or(first),
    };
    if resource == "sessions" {
        return match segments.get(1).copied() {
            Some("sms") => "sessions:sms:write",
            Some("fax") => "sessions:fax:write",
            Some("calls") => "sessions:calls:write",
            _ => "sessions:write",
        };
    }
    match resource {
        "history" => "history:read (history:write to change entries)",
        "contacts" => "contacts:read",
        "account" => "account:read",
        "balance" => "balance:read",
        "numbers" => "numbers:read",
        "users" => "users:read",
        "devices" => "devices:read (devices:write to change them)",
        "phonelines" => "phonelines:read (phonelines:write to change forwardings)",
        "faxlines" => "faxlines:read",
        "sms" => "sms:read",
        "voicemails" => "voicemails:read",
        "groups" => "groups:read",
        "settings" => "settings:sipgateio:read (settings:sipgateio:write to change them)",
        "sessions" => "sessions:write",
        "calls" => "rtcm:read / rtcm:write",
        _ => "all",
    }
}

#[cfg(test)]
mod tests {
    use super::scope_for;

    #[test]
    fn every_mirrored_resource_names_its_scope() {
        assert!(scope_for("/history").starts_with("history:read"));
        assert_eq!(scope_for("/contacts"), "contacts:read");
        assert!(scope_for("/w0/devices").starts_with("devices:read"));
        assert!(scope_for("/w0/phonelines/p0/forwardings").starts_with("phonelines:read"));
        assert_eq!(scope_for("/balance"), "balance:read");
        assert_eq!(scope_for("/groups"), "groups:read");
        assert_eq!(scope_for("sessions/sms"), "sessions:sms:write");
        assert_eq!(scope_for("/sessions/fax"), "sessions:fax:write");
    }
}
