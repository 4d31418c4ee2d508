//! An event as the mirror stores it, built from what upstream sent in either dialect; fields
//! only one dialect has are `None` for the other.

/// A source or target of an event.
#[derive(Debug, Clone)]
pub struct EndpointRecord {
    pub role: &'static str,
    pub number_e164: Option<String>,
    pub number_pretty: Option<String>,
    pub contact_fn: Option<String>,
    pub contact_url: Option<String>,
    pub number_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Detail {
    Call {
        duration_s: Option<u32>,
        recordings: Vec<String>,
        /// v2 `callStatus`.
        call_status: Option<String>,
    },
    Fax {
        page_count: Option<u32>,
        sent: Option<String>,
        content_url: Option<String>,
        fail_reason: Option<String>,
        /// (page number, small preview URL, big preview URL)
        pages: Vec<(u32, Option<String>, Option<String>)>,
        /// v2 `faxStatusType` and `reportUrl`.
        status_type: Option<String>,
        report_url: Option<String>,
    },
    Sms {
        sent: Option<String>,
        text: Option<String>,
    },
    Voicemail {
        duration_s: Option<u32>,
        caller: Option<String>,
        content_url: Option<String>,
        transcription: Option<String>,
    },
}

/// An event as the mirror stores it, built from what upstream sent in either dialect (see
/// `api::classic` and `api::v2`); fields only one dialect has are `None` for the other.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Upstream's id as an integer (see [`event_key`]).
    pub id: i64,
    /// Upstream's id as sent, when it is not the plain integer `id`.
    pub upstream_id: Option<String>,
    pub last_modified: Option<String>,
    /// v2 `status`: NOPICKUP, BUSY, PICKUP, FORWARD.
    pub connection_status: Option<String>,
    /// v2 `connectionIds`, comma-separated.
    pub connection_ids: Option<String>,
    /// v2 `endpoints` as JSON.
    pub routing_json: Option<String>,
    pub kind: &'static str,
    pub created_upstream: String,
    pub created_utc: String,
    pub scheduled_upstream: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    pub comment: Option<String>,
    pub extension_id: Option<String>,
    pub extension_alias: Option<String>,
    pub extension_url: Option<String>,
    pub read: bool,
    pub starred: bool,
    pub labels: String,
    pub location: Option<String>,
    pub content_url: Option<String>,
    pub modify_url: Option<String>,
    pub endpoints: Vec<EndpointRecord>,
    pub detail: Detail,
    pub raw_json: String,
}
