//! Cheap reads that show what the credentials may do, for `sipmirror doctor`: one small GET
//! per read scope (or, classic, per resource), each answered with what it tells.

use super::{ApiError, ApiErrorKind, Client};
use crate::config::Api;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probed {
    Allowed,
    /// 403: the token lacks the scope.
    MissingScope,
    /// 403 "Feature not booked" or 404: the account has no such thing.
    NotBooked,
    /// 401: the credentials are refused; no other probe can tell anything.
    Unauthorized(String),
    /// Upstream could not be reached or answered 5xx (DNS, TLS, a proxy): the message says which.
    Unreachable(String),
    Failed(String),
}

/// A scope (or, classic, a resource), the read that shows it, and what needs it.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub scope: &'static str,
    pub path: &'static str,
    pub needed_by: &'static str,
}

const V2_PROBES: &[Probe] = &[
    Probe {
        scope: "history:read",
        path: "history?limit=1",
        needed_by: "sync (calls, faxes, SMS, voicemails), media, push",
    },
    Probe {
        scope: "contacts:read",
        path: "contacts?limit=1",
        needed_by: "sync (contacts), export, serve-phonebook",
    },
    Probe {
        scope: "account:read",
        path: "account",
        needed_by: "sync (settings)",
    },
    Probe {
        scope: "numbers:read",
        path: "numbers",
        needed_by: "sync (settings)",
    },
    Probe {
        scope: "users:read",
        path: "users",
        needed_by: "sync (settings), settings dnd",
    },
    Probe {
        scope: "balance:read",
        path: "balance",
        needed_by: "sync (balance)",
    },
];

const CLASSIC_PROBES: &[Probe] = &[
    Probe {
        scope: "events",
        path: "events/calls/?limit=1",
        needed_by: "sync (events), media, push",
    },
    Probe {
        scope: "contacts",
        path: "contacts/?limit=1",
        needed_by: "sync (contacts), export, serve-phonebook",
    },
    Probe {
        scope: "settings",
        path: "settings/extensions/",
        needed_by: "sync (settings)",
    },
    Probe {
        scope: "balance",
        path: "billing/balance/",
        needed_by: "sync (balance)",
    },
];

impl Client {
    /// The probes of this dialect: v2's read scopes, or the classic API's resources.
    pub fn probes(&self) -> &'static [Probe] {
        match self.api() {
            Api::V2 => V2_PROBES,
            Api::Classic => CLASSIC_PROBES,
        }
    }

    /// Runs one probe.
    pub async fn probe(&self, probe: &Probe) -> Probed {
        let (path, query) = match probe.path.split_once("?limit=") {
            Some((path, limit)) => (path, vec![("limit", limit.to_string())]),
            None => (probe.path, Vec::new()),
        };
        match self.get_json::<serde_json::Value>(path, &query).await {
            Ok(_) => Probed::Allowed,
            Err(error) => classify(error),
        }
    }
}

fn classify(error: ApiError) -> Probed {
    match (error.kind, error.status) {
        (ApiErrorKind::Unauthorized, _) => Probed::Unauthorized(error.message),
        _ if error.is_not_booked() => Probed::NotBooked,
        (_, Some(403)) => Probed::MissingScope,
        (ApiErrorKind::Transient, _) => Probed::Unreachable(error.message),
        _ => Probed::Failed(error.message),
    }
}
