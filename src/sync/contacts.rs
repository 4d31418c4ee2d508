//! Contacts: listed completely on every run, in pages; unchanged ones are not rewritten.

use std::collections::HashSet;

use super::{Context, StreamFailure};
use crate::error::Result;
use crate::records::contact::ContactRecord;
use crate::store::contacts as store;
use crate::store::events::Upserted;
use crate::store::runs::{self, StreamCounts};
use crate::store::{Mirror, now_utc};

const PAGE_SIZE: u64 = 1000;

pub async fn pull(
    context: &Context<'_>,
    mirror: &mut Mirror,
) -> Result<StreamCounts, StreamFailure> {
    let mut counts = StreamCounts::default();
    let bar = context.progress.bar("contacts", "contacts");
    let mut seen = HashSet::new();
    let mut offset = 0;
    let mut total = None;
    let mut consistent = true;
    loop {
        let (records, page_total) = context
            .client
            .contact_records(offset, PAGE_SIZE, &context.settings.country_code)
            .await
            .map_err(|e| StreamFailure::from_api(&counts, e))?;
        bar.set_total(page_total);
        consistent &= total.is_none_or(|t| t == page_total);
        total = Some(page_total);
        commit(mirror, &records, &mut counts, &mut seen)
            .map_err(|e| StreamFailure::new(&counts, e))?;
        bar.advance(records.len() as u64);
        offset += records.len() as u64;
        if records.is_empty() || offset >= page_total {
            break;
        }
    }
    if consistent && total == Some(seen.len() as u64) {
        let present =
            store::present_uuids(mirror.conn()).map_err(|e| StreamFailure::new(&counts, e))?;
        counts.deleted += super::sweep(
            context,
            mirror,
            "contacts",
            present,
            &seen,
            store::mark_deleted,
        )
        .map_err(|e| StreamFailure::new(&counts, e))?;
    } else {
        tracing::warn!(
            seen = seen.len(),
            ?total,
            "contact listing changed while paging; deletions not applied"
        );
    }
    runs::finish_stream(mirror.conn(), "contacts", true, &now_utc(), None)
        .map_err(|e| StreamFailure::new(&counts, e))?;
    bar.finish(&format!(
        "+{} ~{} -{}",
        counts.new, counts.changed, counts.deleted
    ));
    Ok(counts)
}

fn commit(
    mirror: &mut Mirror,
    records: &[ContactRecord],
    counts: &mut StreamCounts,
    seen: &mut HashSet<String>,
) -> Result<()> {
    let now = now_utc();
    let tx = mirror
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for record in records {
        // The same UUID twice in one listing: the first one wins.
        if !seen.insert(record.uuid.clone()) {
            continue;
        }
        match store::upsert_contact(&tx, record, &now)? {
            Upserted::New => counts.new += 1,
            Upserted::Changed => counts.changed += 1,
            Upserted::Unchanged => {}
        }
    }
    crate::crashpoint::commit(tx, "sync:contacts_page")?;
    counts.fetched += records.len() as u64;
    counts.pages += 1;
    Ok(())
}
