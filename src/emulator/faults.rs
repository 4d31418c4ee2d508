//! Faults the emulator can inject, to prove that the client survives a bad network and a
//! struggling upstream. Set with `PUT /_emulator/faults`, the command line, or
//! [`super::Emulator::set_faults`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::prng::Prng;

/// Fault settings. Rates are probabilities per request, from 0 to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Added delay before answering.
    pub latency_ms: u64,
    /// Random extra delay, uniform in 0..=jitter_ms.
    pub jitter_ms: u64,
    /// Answer with this status instead of serving, e.g. {"500": 0.2, "429": 0.05}.
    pub status_rates: BTreeMap<u16, f64>,
    /// `Retry-After` seconds sent with 429 and 503 (default 1).
    pub retry_after_s: Option<u64>,
    /// Close the connection without answering, before doing anything.
    pub reset_rate: f64,
    /// Send the headers and only part of the body, then close the connection.
    pub truncate_rate: f64,
    /// Send a complete body that is not valid JSON/XML.
    pub malformed_rate: f64,
    /// Send a well-formed body with a field of the wrong type (the first `"id":"123"` becomes
    /// `"id":123`).
    pub wrong_type_rate: f64,
    /// Delay between body chunks (slow body).
    pub slow_body_ms: u64,
    /// Serve the request (it takes effect) and then close the connection without answering:
    /// the case that makes a naive client send an SMS twice.
    pub lose_response_rate: f64,
    /// Event listings report this `overallCount` (v2: `totalCount`) instead of the true one (a
    /// broken upstream).
    pub overall_count: Option<u64>,
    /// No page of an event or contact listing holds more than this many items, whatever
    /// `limit` asks for (a server-side cap, a proxy, a changed default).
    pub page_cap: Option<u64>,
    /// Event pages hold this many items more than `limit` asks for (a server that ignores it).
    pub page_extra: usize,
    /// The cap spares the first page of each listing (offset 0): to a client it looks like a
    /// cap that appears in the middle of a run.
    pub page_cap_spares_first: bool,
    /// Once this many requests have been served (counted as in the stats), the newest calls
    /// are deleted, as on the website while a sync pages: `[requests, calls]`. Happens once.
    pub delete_newest_calls_after: Option<[u64; 2]>,
    /// Every voicemail recording is served this many bytes long (a WAV header and silence):
    /// an upstream, or a proxy, that sends far more than a recording should be.
    pub media_size: Option<u64>,
    /// v2: every event whose id ends in 7 is served with a history id that is not a number
    /// (`h` and the digits), as v2's string ids allow.
    pub text_ids: bool,
    /// Where content and preview resources redirect instead of the emulator's own file URL:
    /// another base URL (`http://elsewhere.example`), or `"loop"` for a redirect back to the
    /// resource itself. Clients must refuse both.
    pub media_redirect: Option<String>,
    /// The account has no credit left: sends and calls are refused with 402.
    pub no_credit: bool,
    /// Changes to the world made at chosen requests, as on the website while a client pages:
    /// each is made once, when that many requests have been served (counted as in the stats).
    pub changes_after: Vec<WorldChange>,
    /// Requests whose path and query contain a text fail with a status, after a number of
    /// them were served: a fault on one listing only.
    pub fail_matching: Option<FailMatching>,
    /// Requests whose path and query contain a text are served and their answers lost, after
    /// a number of them were answered: one chosen lost answer.
    pub lose_matching: Option<LoseMatching>,
    /// The rate faults (statuses, resets, cut, garbled, wrongly typed and lost answers) spare
    /// the first this many requests: a run gets some good pages before the bad ones.
    pub rates_after: u64,
    /// Upstream's clock is this many seconds ahead of the machine's: the `Date` of every
    /// answer, and the creation time of events added through the control API, say so.
    pub clock_ahead_s: i64,
}

/// One change to an event at a chosen request (see [`Faults::changes_after`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldChange {
    /// Made once this many requests have been served.
    pub after: u64,
    /// The event changed.
    pub event: u64,
    #[serde(default)]
    pub read: Option<bool>,
    #[serde(default)]
    pub starred: Option<bool>,
    /// `archive` archives it (v2 `archived`), `inbox` brings it back.
    #[serde(default)]
    pub location: Option<String>,
}

/// Lost answers for the requests that match (see [`Faults::lose_matching`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoseMatching {
    /// A text the request's method, path and query contain, e.g. `POST /v2/sessions/sms`.
    pub contains: String,
    /// How many matching requests are answered before the answers are lost.
    #[serde(default)]
    pub after: u64,
    /// How many answers are lost then (at least one).
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

/// A fault on the requests that match (see [`Faults::fail_matching`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailMatching {
    /// A text the request's path and query contain, e.g. `archived=false`.
    pub contains: String,
    /// The status they get, 400-599.
    pub status: u16,
    /// How many matching requests are served before they fail.
    #[serde(default)]
    pub after: u64,
}

impl Faults {
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("reset_rate", self.reset_rate),
            ("truncate_rate", self.truncate_rate),
            ("malformed_rate", self.malformed_rate),
            ("wrong_type_rate", self.wrong_type_rate),
            ("lose_response_rate", self.lose_response_rate),
        ];
        for (name, rate) in rates
            .iter()
            .copied()
            .chain(self.status_rates.values().map(|r| ("status_rates", *r)))
        {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if let Some(code) = self.status_rates.keys().find(|c| !(400..=599).contains(*c)) {
            return Err(format!(
                "status_rates: {code} is not an error status (400-599)"
            ));
        }
        if let Some(fail) = &self.fail_matching
            && !(400..=599).contains(&fail.status)
        {
            return Err(format!(
                "fail_matching: {} is not an error status (400-599)",
                fail.status
            ));
        }
        if self.page_cap == Some(0) {
            return Err("page_cap must be at least 1".to_string());
        }
        let total: f64 = self.status_rates.values().sum();
        if total > 1.0 {
            return Err(format!("status_rates add up to {total}, more than 1"));
        }
        Ok(())
    }

    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }
}

/// What to do to one request before serving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    Serve,
    Status(u16),
    Reset,
}

/// What to do to the answer after serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Deliver,
    LoseResponse,
    Truncate,
    Malformed,
    WrongType,
}

/// The faults in force and the random stream that decides them.
#[derive(Debug)]
pub struct FaultState {
    pub faults: Faults,
    rng: Prng,
    /// Requests the rate faults have spared so far (see [`Faults::rates_after`]).
    spared: u64,
}

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> FaultState {
        FaultState {
            faults,
            rng: Prng::new(seed).fork(99),
            spared: 0,
        }
    }

    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
        self.spared = 0;
    }

    /// Whether the rate faults leave this request alone (decided once per request).
    pub fn spares(&mut self) -> bool {
        if self.spared < self.faults.rates_after {
            self.spared += 1;
            return true;
        }
        false
    }

    /// How many items a page of events holds when `limit` asks for `limit`.
    pub fn page_size(&self, offset: usize, limit: usize) -> usize {
        let size = limit.saturating_add(self.faults.page_extra);
        self.page_cap(offset).map_or(size, |cap| size.min(cap))
    }

    /// The cap on a page at `offset`, if one applies.
    pub fn page_cap(&self, offset: usize) -> Option<usize> {
        let spared = self.faults.page_cap_spares_first && offset == 0;
        self.faults
            .page_cap
            .filter(|_| !spared)
            .map(|cap| usize::try_from(cap).unwrap_or(usize::MAX))
    }

    /// The world changes due now that `served` requests were served (each once).
    pub fn due_changes(&mut self, served: u64) -> Vec<WorldChange> {
        let (due, later) = std::mem::take(&mut self.faults.changes_after)
            .into_iter()
            .partition(|c| c.after <= served);
        self.faults.changes_after = later;
        due
    }

    /// The status a request for `path_and_query` fails with, if it matches
    /// [`Faults::fail_matching`] and its allowance is used up.
    pub fn failing(&mut self, path_and_query: &str) -> Option<u16> {
        let fail = self.faults.fail_matching.as_mut()?;
        if !path_and_query.contains(&fail.contains) {
            return None;
        }
        if fail.after > 0 {
            fail.after -= 1;
            return None;
        }
        Some(fail.status)
    }

    /// Whether the answer to `request` (`METHOD path?query`) is to be lost, by
    /// [`Faults::lose_matching`].
    pub fn losing(&mut self, request: &str) -> bool {
        let Some(lose) = self.faults.lose_matching.as_mut() else {
            return false;
        };
        if !request.contains(&lose.contains) || lose.count == 0 {
            return false;
        }
        if lose.after > 0 {
            lose.after -= 1;
            return false;
        }
        lose.count -= 1;
        true
    }

    /// How many calls to delete now that `served` requests were served (once).
    pub fn due_deletion(&mut self, served: u64) -> Option<u64> {
        match self.faults.delete_newest_calls_after {
            Some([after, count]) if served >= after => {
                self.faults.delete_newest_calls_after = None;
                Some(count)
            }
            _ => None,
        }
    }

    pub fn delay_ms(&mut self) -> u64 {
        let jitter = if self.faults.jitter_ms > 0 {
            self.rng.range(0, self.faults.jitter_ms)
        } else {
            0
        };
        self.faults.latency_ms + jitter
    }

    pub fn before(&mut self) -> Before {
        if self.faults.reset_rate > 0.0 && self.rng.chance(self.faults.reset_rate) {
            return Before::Reset;
        }
        let roll = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mut acc = 0.0;
        for (&code, &rate) in &self.faults.status_rates {
            acc += rate;
            if roll < acc {
                return Before::Status(code);
            }
        }
        Before::Serve
    }

    pub fn after(&mut self) -> After {
        let f = &self.faults;
        let (lose, truncate, malformed, wrong) = (
            f.lose_response_rate,
            f.truncate_rate,
            f.malformed_rate,
            f.wrong_type_rate,
        );
        if lose > 0.0 && self.rng.chance(lose) {
            After::LoseResponse
        } else if truncate > 0.0 && self.rng.chance(truncate) {
            After::Truncate
        } else if malformed > 0.0 && self.rng.chance(malformed) {
            After::Malformed
        } else if wrong > 0.0 && self.rng.chance(wrong) {
            After::WrongType
        } else {
            After::Deliver
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_validated() {
        let mut f = Faults {
            reset_rate: 1.5,
            ..Faults::default()
        };
        assert!(f.validate().is_err());
        f.reset_rate = 0.1;
        f.status_rates.insert(200, 0.1);
        assert!(f.validate().unwrap_err().contains("200"));
        f.status_rates.clear();
        f.status_rates.insert(500, 0.7);
        f.status_rates.insert(503, 0.7);
        assert!(f.validate().unwrap_err().contains("add up"));
    }

    #[test]
    fn status_rates_are_roughly_honoured() {
        let mut f = Faults::default();
        f.status_rates.insert(500, 0.25);
        let mut state = FaultState::new(f, 1);
        let hits = (0..4000)
            .filter(|_| state.before() == Before::Status(500))
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
