//! SMS and faxes queued in the outbox (`sipmirror send`), and the state changes that make
//! them go out exactly once. The rules are in the comment of `migrations/V3__sends.sql`; the
//! sending itself is `push::sends`.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::records::EventKind;

/// The request of a send, as `outbox.payload_json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    /// Recipients in E.164 (`+4930...`), in the order given.
    pub targets: Vec<String>,
    /// Own number or extension to send from; `None` for the account's default.
    pub source: Option<String>,
    /// When upstream should send it, UTC `YYYY-MM-DD HH:MM:SS`; `None` for at once.
    pub schedule: Option<String>,
    /// SMS: the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Fax: the document's file name and page count (the content is in `outbox_documents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

/// A fax document to queue with its send.
pub struct Document<'a> {
    pub file_name: &'a str,
    pub pages: u32,
    pub sha256: &'a str,
    pub content: &'a [u8],
}

/// A send waiting in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct Send {
    pub id: i64,
    /// `sms` or `fax`.
    pub kind: &'static str,
    pub client_token: String,
    pub request: SendRequest,
    /// pending, in_flight (an attempt began and its outcome is not recorded), failed.
    pub state: String,
    pub attempts: i64,
    /// Set while an earlier attempt may have reached upstream: look before sending.
    pub attempt_started_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
}

impl Send {
    pub fn event_kind(&self) -> EventKind {
        if self.kind == "sms" {
            EventKind::Sms
        } else {
            EventKind::Fax
        }
    }
}

fn op_name(kind: EventKind) -> &'static str {
    if kind == EventKind::Sms {
        "send_sms"
    } else {
        "send_fax"
    }
}

/// Queues sends (one per recipient through v2), each fax with its document, all in one
/// transaction: either every recipient is queued or none is.
pub fn queue(
    conn: &mut Connection,
    kind: EventKind,
    requests: &[SendRequest],
    document: Option<&Document<'_>>,
    now: &str,
) -> Result<Vec<Send>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut queued = Vec::with_capacity(requests.len());
    for request in requests {
        let payload = serde_json::to_string(request)
            .map_err(|e| Error::store(format!("cannot encode the send: {e}")))?;
        let token: String =
            tx.query_row("SELECT lower(hex(randomblob(16)))", [], |row| row.get(0))?;
        tx.execute(
            "INSERT INTO outbox (op, payload_json, client_token, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![op_name(kind), payload, token, now],
        )?;
        // Not last_insert_rowid(): a trigger may have moved the entry to a fresh id.
        let id: i64 = tx.query_row(
            "SELECT id FROM outbox WHERE client_token = ?1",
            [&token],
            |row| row.get(0),
        )?;
        if let Some(doc) = document {
            tx.execute(
                "INSERT INTO outbox_documents (outbox_id, file_name, size, sha256, pages, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    doc.file_name,
                    doc.content.len() as i64,
                    doc.sha256,
                    doc.pages,
                    doc.content
                ],
            )?;
        }
        queued.push(find(&tx, id)?.ok_or_else(|| Error::store("the queued send vanished"))?);
    }
    crate::crashpoint::commit(tx, "send:queued")?;
    Ok(queued)
}

const SELECT_SENDS: &str = "
SELECT id, op, client_token, payload_json, state, attempts, attempt_started_at,
       next_attempt_at, last_error, created_at
FROM outbox WHERE op IN ('send_sms', 'send_fax')";

fn send_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Send> {
    let op: String = row.get(1)?;
    let payload: String = row.get(3)?;
    let request = serde_json::from_str(&payload).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Send {
        id: row.get(0)?,
        kind: if op == "send_sms" { "sms" } else { "fax" },
        client_token: row.get(2)?,
        request,
        state: row.get(4)?,
        attempts: row.get(5)?,
        attempt_started_at: row.get(6)?,
        next_attempt_at: row.get(7)?,
        last_error: row.get(8)?,
        created_at: row.get(9)?,
    })
}

fn query(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Send>> {
    let mut stmt = conn.prepare(&format!("{SELECT_SENDS} {filter} ORDER BY id"))?;
    let sends = stmt
        .query_map(args, send_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| Error::store(format!("an outbox send cannot be read: {e}")))?;
    Ok(sends)
}

/// Every send waiting in the outbox, in order.
pub fn all(conn: &Connection) -> Result<Vec<Send>> {
    query(conn, "", [])
}

/// The sends `push` should try now: pending and due, and any left `in_flight` by a run that
/// was killed (only one run holds the writer lock, so nobody else is sending them).
pub fn due(conn: &Connection, now: &str) -> Result<Vec<Send>> {
    query(
        conn,
        "AND (state = 'in_flight'
              OR (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)))",
        [now],
    )
}

/// Keeps a send for later in the outbox until `until` (a message whose time upstream cannot
/// be told): `due` leaves it out until then.
pub fn hold(conn: &Connection, id: i64, until: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'",
        params![id, until],
    )?;
    Ok(())
}

pub fn find(conn: &Connection, id: i64) -> Result<Option<Send>> {
    Ok(query(conn, "AND id = ?1", [id])?.into_iter().next())
}

/// A fax that went out but whose upstream status is not final yet (neither sent nor failed),
/// with the status seen last (from the mirror's copy of its event).
#[derive(Debug, Clone, Serialize)]
pub struct FaxInProgress {
    pub id: i64,
    pub recipients: String,
    pub upstream_event_id: Option<i64>,
    pub status: Option<String>,
}

pub fn faxes_in_progress(conn: &Connection) -> Result<Vec<FaxInProgress>> {
    let mut stmt = conn.prepare(
        "SELECT id, recipients, upstream_event_id, coalesce(fax_status, upstream_status)
         FROM sends
         WHERE kind = 'fax' AND state = 'sent'
           AND coalesce(upstream_status, 'pending') NOT IN ('sent', 'failed')
         ORDER BY id",
    )?;
    let faxes = stmt
        .query_map([], |row| {
            Ok(FaxInProgress {
                id: row.get(0)?,
                recipients: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                upstream_event_id: row.get(2)?,
                status: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(faxes)
}

/// The queued PDF of a fax.
pub fn document(conn: &Connection, id: i64) -> Result<Vec<u8>> {
    conn.query_row(
        "SELECT content FROM outbox_documents WHERE outbox_id = ?1",
        [id],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::store(format!("outbox entry {id}: its fax document is missing")))
}

/// Upstream events already claimed by a send, which no other send may claim.
pub fn claimed_event_ids(conn: &Connection) -> Result<std::collections::HashSet<i64>> {
    let mut stmt = conn
        .prepare("SELECT upstream_event_id FROM outbox_log WHERE upstream_event_id IS NOT NULL")?;
    let ids = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Records that an attempt is about to go out. Committed before the request is sent, so a
/// crash or a lost answer leaves the mark, and the next attempt looks upstream first. The
/// earliest unresolved attempt's time is kept: the lookup window starts there.
pub fn begin_attempt(conn: &Connection, id: i64, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1,
                attempt_started_at = coalesce(attempt_started_at, ?2), updated_at = ?2
         WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// How a send was closed, as `outbox_log.result` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendClosed {
    /// Upstream answered the send with the new event.
    Sent,
    /// An earlier attempt's answer was lost; the message was found upstream.
    FoundUpstream,
    /// `outbox drop`.
    Dropped,
}

impl SendClosed {
    fn as_str(self) -> &'static str {
        match self {
            SendClosed::Sent => "sent",
            SendClosed::FoundUpstream => "found_upstream",
            SendClosed::Dropped => "dropped",
        }
    }
}

/// Closes a send: the entry (and its document) leave the outbox and the log keeps the request,
/// the token and the upstream event, in one transaction.
pub fn close(
    tx: &Transaction<'_>,
    send: &Send,
    closed: SendClosed,
    upstream_event_id: Option<i64>,
    detail: Option<&str>,
    now: &str,
) -> Result<()> {
    let mut record = serde_json::to_value(&send.request)
        .map_err(|e| Error::store(format!("cannot encode the send: {e}")))?;
    record["client_token"] = send.client_token.clone().into();
    record["queued_at"] = send.created_at.clone().into();
    tx.execute(
        "INSERT INTO outbox_log (outbox_id, op, value, result, detail, upstream_event_id, closed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            send.id,
            op_name(send.event_kind()),
            record.to_string(),
            closed.as_str(),
            detail,
            upstream_event_id,
            now
        ],
    )?;
    tx.execute("DELETE FROM outbox WHERE id = ?1", [send.id])?;
    Ok(())
}

/// After an attempt upstream certainly did not act on: the lookup mark goes (every earlier
/// attempt was looked for and not found before this one went out). `next_attempt_at` = None
/// with `failed` = true keeps the entry failed until `outbox retry`.
pub fn not_delivered(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: Option<&str>,
    failed: bool,
    now: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = ?2, attempt_started_at = NULL, last_error = ?3,
                next_attempt_at = ?4, updated_at = ?5
         WHERE id = ?1",
        params![
            id,
            if failed { "failed" } else { "pending" },
            error,
            next_attempt_at,
            now
        ],
    )?;
    Ok(())
}

/// After an attempt whose outcome is unknown: the lookup mark stays, so the next attempt looks
/// for the message upstream before sending.
pub fn outcome_unknown(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'pending', last_error = ?2, next_attempt_at = ?3,
                updated_at = ?4
         WHERE id = ?1",
        params![id, error, next_attempt_at, now],
    )?;
    Ok(())
}

/// `outbox drop ID` for a send: it is not sent. If an attempt may have reached upstream, the
/// message may have gone out all the same; the caller says so.
pub fn drop_send(conn: &mut Connection, send: &Send, now: &str) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    close(&tx, send, SendClosed::Dropped, None, None, now)?;
    crate::crashpoint::commit(tx, "send:dropped")?;
    Ok(())
}

/// `send sms: to +4930..., "Hello ..."` or `send fax: to +4930..., offer.pdf (3 pages)`.
pub fn describe(send: &Send) -> String {
    let to = send.request.targets.join(", ");
    let what = match (&send.request.text, &send.request.file_name) {
        (Some(text), _) => {
            let short: String = text.chars().take(40).collect();
            let more = if short.len() < text.len() { "…" } else { "" };
            format!("{:?}", format!("{short}{more}"))
        }
        (None, Some(file)) => format!("{file} ({} pages)", send.request.pages.unwrap_or(0)),
        (None, None) => String::new(),
    };
    let when = send
        .request
        .schedule
        .as_deref()
        .map(|s| format!(", at {s} UTC"))
        .unwrap_or_default();
    format!("send {}: to {to}, {what}{when}", send.kind)
}

/// The upstream event a send became, once the push has found it.
pub fn sent_event(conn: &Connection, outbox_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT upstream_event_id FROM outbox_log WHERE outbox_id = ?1 ORDER BY id DESC LIMIT 1",
            [outbox_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten())
}

/// The account's SMS extensions or fax lines the mirror knows, to send from.
pub fn extensions(conn: &Connection, kind: EventKind) -> Result<Vec<String>> {
    let kind = if kind == EventKind::Sms { "sms" } else { "fax" };
    Ok(conn
        .prepare(
            "SELECT extension_id FROM mirror_extensions WHERE type = ?1 ORDER BY extension_id",
        )?
        .query_map([kind], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}
