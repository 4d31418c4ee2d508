//! Settings (numbers, extensions, devices) and the balance: small, fetched whole every run.

use super::{Context, StreamFailure};
use crate::store::runs::{self, StreamCounts};
use crate::store::settings::{self as store, BalanceChange};
use crate::store::{Mirror, now_utc};

pub async fn pull_settings(
    context: &Context<'_>,
    mirror: &mut Mirror,
) -> Result<StreamCounts, StreamFailure> {
    let mut counts = StreamCounts::default();
    let record = context
        .client
        .settings_record()
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
    Ok(counts)
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
