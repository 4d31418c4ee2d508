//! The bulk read of the push: many edited events' fields from a few listings of `/history`
//! instead of one `GET /history/{id}` each. The push decides from the mirror whether a window
//! is worth listing (`push/prefetch.rs`); this lists it.

use std::collections::HashMap;

use crate::api::Client;
use crate::records::writes::EventFields;

impl Client {
    /// Lists the history created between `from` and `to` (ISO-8601), archived entries and
    /// the others side by side: each entry's fields by its upstream id. Stops at an error, or
    /// after `max_pages` of a part (a total that lies), with what it has: an event it does not
    /// return is read alone, so a bad listing costs requests, never correctness.
    pub async fn read_many(
        &self,
        from: &str,
        to: &str,
        max_pages: usize,
    ) -> HashMap<String, EventFields> {
        let (a, b) = tokio::join!(
            self.read_part(from, to, false, max_pages),
            self.read_part(from, to, true, max_pages)
        );
        a.into_iter().chain(b).collect()
    }

    async fn read_part(
        &self,
        from: &str,
        to: &str,
        archived: bool,
        max_pages: usize,
    ) -> Vec<(String, EventFields)> {
        let mut found = Vec::new();
        let mut offset = 0u64;
        for _ in 0..max_pages {
            match self.history_fields_page(from, to, archived, offset).await {
                Ok((page, total)) => {
                    let served = page.len() as u64;
                    found.extend(page);
                    offset += served;
                    if served == 0 || offset >= total {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "listing edited events failed; reading them one by one");
                    break;
                }
            }
        }
        found
    }
}
