//! What each dialect of sipgate's API can do, asked as questions so that code outside `api/`
//! branches on a capability and never on the dialect.
//!
//! Two kinds of answers live here: differences of behaviour (does a delete end an event for
//! good, how many recipients one send takes, whether the push reads in bulk first), and
//! features one dialect lacks, which come from one table ([`REFUSALS`]) and are refused up
//! front with one message and exit code 2, before anything is sent.

use crate::config::Api;
use crate::error::{Error, Result};

/// A thing a command may ask for that one dialect has and the other has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Callthrough,
    /// Reading and changing the push API's URLs (`webhook setup`).
    PushApiSettings,
    Forwardings,
    GsmCode,
    OutgoingNumber,
    MobileExtensionAdd,
    CallDialDevice,
    CallDialCallerId,
    CallDialRegisterSip,
    CallRecordAnnounce,
    CallHold,
    CallMute,
    CallTransfer,
    CallDtmf,
    CallPark,
}

/// A feature, how the user asks for it, and which dialect lacks it and why.
struct Refusal {
    feature: Feature,
    what: &'static str,
    lacking: Api,
    why: &'static str,
}

const CLASSIC_HAD: &str = "it has no such setting (the classic API had)";
const V2_HAS_CALLS: &str = "it has no such call control (sipgate's API v2 has)";

/// Every feature one dialect lacks. Features not listed here are the same in both.
const REFUSALS: &[Refusal] = &[
    Refusal {
        feature: Feature::Callthrough,
        what: "callthrough",
        lacking: Api::V2,
        why: "it has no callthrough",
    },
    Refusal {
        feature: Feature::PushApiSettings,
        what: "webhook setup",
        lacking: Api::Classic,
        why: "its push API settings are not reachable (sipgate's API v2 has /settings/sipgateio)",
    },
    Refusal {
        feature: Feature::Forwardings,
        what: "settings forwarding",
        lacking: Api::Classic,
        why: "it has no forwardings (sipgate's API v2 has)",
    },
    Refusal {
        feature: Feature::GsmCode,
        what: "settings gsm-code",
        lacking: Api::V2,
        why: CLASSIC_HAD,
    },
    Refusal {
        feature: Feature::OutgoingNumber,
        what: "settings outgoing-number",
        lacking: Api::V2,
        why: CLASSIC_HAD,
    },
    Refusal {
        feature: Feature::MobileExtensionAdd,
        what: "settings mobile-extension add",
        lacking: Api::V2,
        why: CLASSIC_HAD,
    },
    Refusal {
        feature: Feature::CallDialDevice,
        what: "call dial --device",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallDialCallerId,
        what: "call dial --caller-id",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallDialRegisterSip,
        what: "call dial --register-sip",
        lacking: Api::V2,
        why: "it has no registerSip; name the device that rings first with --device",
    },
    Refusal {
        feature: Feature::CallRecordAnnounce,
        what: "call record --announce",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallHold,
        what: "call hold",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallMute,
        what: "call mute",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallTransfer,
        what: "call transfer",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallDtmf,
        what: "call dtmf",
        lacking: Api::Classic,
        why: V2_HAS_CALLS,
    },
    Refusal {
        feature: Feature::CallPark,
        what: "call park",
        lacking: Api::V2,
        why: "it has no parking (hold is `call hold`)",
    },
];

/// How many recipients one send request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipients {
    /// All of them in one request.
    All,
    /// One request per recipient.
    One,
}

/// What `--from` of a send names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A number of the account, sent with the request.
    Number,
    /// Nothing upstream takes: the sending extension decides the number shown.
    Extension,
}

/// Who a click-to-dial call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialParties {
    /// Caller and callee are any endpoint: a `sip:` id or a number.
    Endpoints,
    /// The caller is a device id or a number (a number names the device that rings first);
    /// the callee is a number.
    DeviceThenNumber,
}

/// The answers of one dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    api: Api,
}

impl Capabilities {
    pub fn of(api: Api) -> Capabilities {
        Capabilities { api }
    }

    /// The API, named for people: in messages and `status`.
    pub fn api_name(self) -> &'static str {
        match self.api {
            Api::Classic => "the classic API",
            Api::V2 => "sipgate's API v2",
        }
    }

    pub fn supports(self, feature: Feature) -> bool {
        refusal(feature).is_none_or(|r| r.lacking != self.api)
    }

    /// Refuses a feature this dialect lacks: `what is not possible through API: why`, exit 2.
    pub fn require(self, feature: Feature) -> Result<()> {
        match refusal(feature) {
            Some(r) if r.lacking == self.api => Err(Error::usage(format!(
                "{} is not possible through {}: {}",
                r.what,
                self.api_name(),
                r.why
            ))),
            _ => Ok(()),
        }
    }

    /// Whether upstream forgets a deleted event at once. v2 deletes history entries for good;
    /// the classic API moved them to the trash, from where the user could fetch them back.
    /// Deletes that cannot be undone are held back above `[push] max_deletes`.
    pub fn deletes_are_final(self) -> bool {
        self.api == Api::V2
    }

    /// Whether a push may read the events it writes in bulk (`Client::read_many`), and how
    /// many entries a page of that listing holds. v2 lists its whole history by time, 1,000
    /// entries a page; the classic API read one event per request, inside each event's task.
    pub fn bulk_read_page(self) -> Option<usize> {
        match self.api {
            Api::Classic => None,
            Api::V2 => Some(crate::api::v2::MAX_HISTORY_LIMIT as usize),
        }
    }

    /// Whether a push writes each event in its own request (classic) or in batches (v2's
    /// `PUT /history`).
    pub fn writes_in_batches(self) -> bool {
        self.api == Api::V2
    }

    /// Whether contacts carry a scope (private, shared, internal): v2's do.
    pub fn contacts_have_scopes(self) -> bool {
        self.api == Api::V2
    }

    pub fn recipients_per_send(self) -> Recipients {
        match self.api {
            Api::Classic => Recipients::All,
            Api::V2 => Recipients::One,
        }
    }

    pub fn dial_parties(self) -> DialParties {
        match self.api {
            Api::Classic => DialParties::Endpoints,
            Api::V2 => DialParties::DeviceThenNumber,
        }
    }

    /// How many days ahead a send may be scheduled (`None`: no limit is known). v2 takes
    /// `sendAt` at most 30 days ahead.
    pub fn max_schedule_ahead_days(self) -> Option<i64> {
        match self.api {
            Api::Classic => None,
            Api::V2 => Some(30),
        }
    }

    pub fn sender(self) -> Sender {
        match self.api {
            Api::Classic => Sender::Number,
            Api::V2 => Sender::Extension,
        }
    }
}

fn refusal(feature: Feature) -> Option<&'static Refusal> {
    REFUSALS.iter().find(|r| r.feature == feature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refused_feature_is_refused_by_exactly_one_dialect_with_exit_2() {
        for r in REFUSALS {
            let lacking = Capabilities::of(r.lacking);
            let other = Capabilities::of(match r.lacking {
                Api::Classic => Api::V2,
                Api::V2 => Api::Classic,
            });
            assert!(!lacking.supports(r.feature), "{}", r.what);
            assert!(other.supports(r.feature), "{}", r.what);
            let error = lacking.require(r.feature).expect_err(r.what);
            assert_eq!(
                error.exit_code(),
                crate::error::ExitCode::Usage,
                "{}",
                r.what
            );
            assert!(error.to_string().starts_with(r.what), "{error}");
            assert!(other.require(r.feature).is_ok());
        }
    }

    #[test]
    fn the_table_names_each_feature_once() {
        for (i, r) in REFUSALS.iter().enumerate() {
            assert!(
                REFUSALS[i + 1..].iter().all(|o| o.feature != r.feature),
                "{:?} twice",
                r.feature
            );
        }
    }
}
