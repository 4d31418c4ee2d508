//! Settings (numbers, extensions, devices) and the balance: small, fetched whole every run.

use super::{Context, StreamFailure};
use crate::error::{Error, ErrorKind};
use crate::records::settings::UnreadResource;
use crate::store::runs::{self, StreamCounts};
use crate::store::settings::{self as store, BalanceChange};
use crate::store::{Mirror, now_utc};

pub async fn pull_settings(
    context: &Context<'_>,
    mirror: &mut Mirror,
) -> Result<StreamCounts, StreamFailure> {
    let mut counts = StreamCounts::default();
    let (record, failure) = context
        .client
        .settings_record(&context.settings.sync.skip_settings)
        .await
        .map_err(|e| StreamFailure::from_api(&counts, e))?;
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| StreamFailure::new(&counts, e))?;
    let (new, changed, deleted) =
        store::store_settings(&tx, &record, &now).map_err(|e| StreamFailure::new(&counts, e))?;
    runs::finish_stream(&tx, "settings", true, &now, None)
        .map_err(|e| StreamFailure::new(&counts, e))?;
    crate::crashpoint::commit(tx, "sync:settings").map_err(|e| StreamFailure::new(&counts, e))?;
    counts.fetched = record.extensions.len() as u64 + record.numbers.len() as u64;
    counts.new = new;
    counts.changed = changed;
    counts.deleted = deleted;
    counts.pages = 1;
    if let Some(error) = failure {
        return Err(StreamFailure::from_api(&counts, error));
    }
    match refused(&record.unread) {
        Some(message) => Err(StreamFailure::new(
            &counts,
            Error::new(ErrorKind::Partial, message),
        )),
        None => Ok(counts),
    }
}

/// One line for the resources the token may not read: each scope named once, then the
/// resources; `None` when none was refused (resources the account lacks are no error).
fn refused(unread: &[UnreadResource]) -> Option<String> {
    let refused: Vec<&UnreadResource> = unread.iter().filter(|u| !u.absent).collect();
    if refused.is_empty() {
        return None;
    }
    let mut scopes: Vec<&str> = refused.iter().filter_map(|u| u.scope.as_deref()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let resources: Vec<&str> = refused.iter().map(|u| u.resource.as_str()).collect();
    let why = if scopes.is_empty() {
        refused[0].reason.clone()
    } else {
        format!("the token lacks the scope {}", scopes.join(", "))
    };
    Some(format!(
        "could not read {} ({why}); the rest is mirrored and their rows are kept as last mirrored (give the token the scope, or leave them out with [sync] skip_settings)",
        resources.join(", ")
    ))
}

pub async fn pull_balance(
    context: &Context<'_>,
    mirror: &mut Mirror,
) -> Result<StreamCounts, StreamFailure> {
    let mut counts = StreamCounts::default();
    let record = context
        .client
        .balance_record()
        .await
        .map_err(|e| StreamFailure::from_api(&counts, e))?;
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| StreamFailure::new(&counts, e))?;
    let changed =
        store::store_balance(&tx, &record, &now).map_err(|e| StreamFailure::new(&counts, e))?;
    runs::finish_stream(&tx, "balance", true, &now, None)
        .map_err(|e| StreamFailure::new(&counts, e))?;
    crate::crashpoint::commit(tx, "sync:balance").map_err(|e| StreamFailure::new(&counts, e))?;
    counts.fetched = 1;
    counts.pages = 1;
    match changed {
        BalanceChange::First => counts.new = 1,
        BalanceChange::Changed => counts.changed = 1,
        BalanceChange::Unchanged => {}
    }
    Ok(counts)
}
