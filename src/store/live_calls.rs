//! `mirror_live_calls`: what the push API says of calls while they happen (migration V8).
//! Each post fills only what is still empty, so duplicates change nothing and a late post
//! does not undo a later one.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::numbers::number_key;
use crate::records::push::Call;
use crate::records::push::PushEvent;

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
            // A repeat of the last post (a retry) appends nothing (migration V9).
            tx.execute(
                "UPDATE mirror_live_calls
                    SET dtmf = coalesce(dtmf, '') || ?2, dtmf_last_post = ?2, updated_at = ?3
                  WHERE call_id = ?1 AND dtmf_last_post IS NOT ?2",
                params![call_id, digits, now],
            )?;
        }
    }
    crate::crashpoint::commit(tx, "webhook:post")?;
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
    // The users of a call are the union of what its posts name (an `answer` that came first
    // names only who answered; the `newCall` after it names the whole group).
    let (known_users, known_ids): (Option<String>, Option<String>) = tx.query_row(
        "SELECT users, user_ids FROM mirror_live_calls WHERE call_id = ?1",
        [&call.call_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let list = |known: Option<String>, items: &[String]| union(known.as_deref(), items);
    tx.execute(
        &format!(
            "UPDATE mirror_live_calls SET
                orig_call_id = coalesce(orig_call_id, ?2),
                direction = coalesce(direction, ?3),
                from_number = coalesce(from_number, ?4),
                from_number_key = coalesce(from_number_key, ?5),
                to_number = coalesce(to_number, ?6),
                to_number_key = coalesce(to_number_key, ?7),
                users = ?8,
                user_ids = ?9,
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
            list(known_users, &call.users),
            list(known_ids, &call.user_ids),
            call.answering_number,
            call.diversion,
            call.cause,
            now
        ],
    )?;
    Ok(())
}

/// The JSON array `known` with the `items` it lacks appended, in order; `None` when both are
/// empty. A stored value that is not a JSON array of strings is replaced.
fn union(known: Option<&str>, items: &[String]) -> Option<String> {
    let mut all: Vec<String> = known
        .and_then(|k| serde_json::from_str(k).ok())
        .unwrap_or_default();
    for item in items {
        if !all.contains(item) {
            all.push(item.clone());
        }
    }
    (!all.is_empty()).then(|| serde_json::Value::from(all).to_string())
}

#[cfg(test)]
mod tests {
    use super::union;

    #[test]
    fn the_users_of_a_call_are_the_union_of_its_posts() {
        let a = union(None, &["Ann".into()]);
        assert_eq!(a.as_deref(), Some(r#"["Ann"]"#));
        let ab = union(a.as_deref(), &["Bob".into(), "Ann".into()]);
        assert_eq!(ab.as_deref(), Some(r#"["Ann","Bob"]"#));
        assert_eq!(union(ab.as_deref(), &[]), ab);
        assert_eq!(union(None, &[]), None);
        assert_eq!(
            union(Some("nonsense"), &["C".into()]).as_deref(),
            Some(r#"["C"]"#)
        );
    }
}
