//! The one upstream interface the sync uses: whatever the dialect, events, contacts, settings
//! and the balance come back as the mirror's records. Each dialect turns its own wire into
//! them (`classic::*`, `v2::*`).

use super::events::PageRequest;
use super::{ApiError, Client};
use crate::config::Api;
use crate::records::EventKind;
use crate::records::contact::ContactRecord;
use crate::records::event::EventRecord;
use crate::records::settings::BalanceRecord;
use crate::records::settings::SettingsRecord;

/// classic lists each event type once; v2 lists archived entries only when asked, so each
/// type is listed twice, without and with `archived`.
const CLASSIC_PARTS: [Option<bool>; 1] = [None];
const V2_PARTS: [Option<bool>; 2] = [Some(false), Some(true)];

impl Client {
    /// The listings that together hold every event of a type (see [`PageRequest::archived`]).
    pub fn listing_parts(&self) -> &'static [Option<bool>] {
        match self.api() {
            Api::Classic => &CLASSIC_PARTS,
            Api::V2 => &V2_PARTS,
        }
    }

    /// One page of one type's events, newest first, and the listing's total.
    pub async fn event_records(
        &self,
        kind: EventKind,
        request: &PageRequest,
        country_code: &str,
    ) -> Result<(Vec<EventRecord>, u64), ApiError> {
        match self.api() {
            Api::Classic => {
                let page = self.event_page(kind, request).await?;
                let records = page
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, raw)| {
                        super::event_record::to_record(
                            kind,
                            raw,
                            request.offset + i as u64,
                            country_code,
                        )
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Ok((records, page.overall_count))
            }
            Api::V2 => self.history_page(kind, request, country_code).await,
        }
    }

    /// One page of contacts and the total.
    pub async fn contact_records(
        &self,
        offset: u64,
        limit: u64,
        country_code: &str,
    ) -> Result<(Vec<ContactRecord>, u64), ApiError> {
        match self.api() {
            Api::Classic => {
                let page = self.contact_page(offset, limit).await?;
                let records = page
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, raw)| {
                        super::contact_record::to_record(raw, offset + i as u64, country_code)
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                Ok((records, page.overall_matches))
            }
            Api::V2 => self.v2_contact_page(offset, limit, country_code).await,
        }
    }

    /// The account's numbers, extensions, devices and users.
    /// Each resource is read alone: what could not be read is named in the record's
    /// `unread` and its rows kept; a failure that was not a refusal comes back beside the
    /// record. `skip`: resources not to read (`[sync] skip_settings`; classic reads its
    /// settings in one piece and has none to skip).
    pub async fn settings_record(
        &self,
        skip: &[String],
    ) -> Result<(SettingsRecord, Option<ApiError>), ApiError> {
        match self.api() {
            Api::Classic => Ok((super::classic::settings::settings(self).await?, None)),
            Api::V2 => super::v2::account::settings(self, skip).await,
        }
    }

    /// The balance.
    pub async fn balance_record(&self) -> Result<BalanceRecord, ApiError> {
        match self.api() {
            Api::Classic => super::classic::settings::balance(self).await,
            Api::V2 => super::v2::account::balance(self).await,
        }
    }
}
