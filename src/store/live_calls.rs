//! `mirror_live_calls`: what the push API says of calls while they happen (migration V8).
//! Each post fills only what is still empty, so duplicates change nothing and a late post
//! does not undo a later one.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::numbers::number_key;
use crate::webhook::event::{Call, PushEvent};

/// Records one post, received at `now` (UTC).
pub fn record(
    conn: &mut Connection,
    event: &PushEvent,
    now: &str,
    country_code: &str,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO mirror_live_calls (call_id, updated_at) VALUES (?1, ?2)
         ON CONFLICT (call_id) DO NOTHING",
        params![event.call_id(), now],
    )?;
    match event {
        PushEvent::NewCall(call) => fill(&tx, call, "rung_at", now, country_code)?,
        PushEvent::Answer(call) => fill(&tx, call, "answered_at", now, country_code)?,
        PushEvent::Hangup(call) => fill(&tx, call, "ended_at", now, country_code)?,
        PushEvent::Dtmf { call_id, digits } => {
            tx.execute(
                "UPDATE mirror_live_calls SET dtmf = coalesce(dtmf, '') || ?2, updated_at = ?3
                 WHERE call_id = ?1",
                params![call_id, digits, now],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn fill(
    tx: &rusqlite::Transaction<'_>,
    call: &Call,
    time_column: &str,
    now: &str,
    country_code: &str,
) -> Result<()> {
    let key = |n: &Option<String>| n.as_deref().and_then(|n| number_key(n, country_code));
    let list = |items: &[String]| {
        (!items.is_empty()).then(|| serde_json::Value::from(items.to_vec()).to_string())
    };
    tx.execute(
        &format!(
            "UPDATE mirror_live_calls SET
                orig_call_id = coalesce(orig_call_id, ?2),
                direction = coalesce(direction, ?3),
                from_number = coalesce(from_number, ?4),
                from_number_key = coalesce(from_number_key, ?5),
                to_number = coalesce(to_number, ?6),
                to_number_key = coalesce(to_number_key, ?7),
                users = coalesce(users, ?8),
                user_ids = coalesce(user_ids, ?9),
                answering_number = coalesce(answering_number, ?10),
                diversion = coalesce(diversion, ?11),
                hangup_cause = coalesce(hangup_cause, ?12),
                {time_column} = coalesce({time_column}, ?13),
                updated_at = ?13
             WHERE call_id = ?1"
        ),
        params![
            call.call_id,
            call.orig_call_id,
            call.direction,
            call.from,
            key(&call.from),
            call.to,
            key(&call.to),
            list(&call.users),
            list(&call.user_ids),
            call.answering_number,
            call.diversion,
            call.cause,
            now
        ],
    )?;
    Ok(())
}
