//! `/{userId}/contacts/...`: listing with limit/offset/filter, one contact, vendor phonebooks.

use axum::extract::{Extension, Path, State};
use axum::routing::{MethodRouter, get};
use serde_json::json;

use super::{Shr, usize_param};
use crate::emulator::formats;
use crate::emulator::model::Contact;
use crate::emulator::server::{ApiError, ApiResult, Params, Reply};
use crate::emulator::wire;

pub fn routes() -> Vec<(&'static str, MethodRouter<Shr>)> {
    vec![
        ("/{user}/contacts/", get(list)),
        ("/{user}/contacts/{id}/", get(one)),
        ("/{user}/contacts/phonebook/{vendor}/", get(phonebook)),
    ]
}

/// Case-insensitive substring of any name part, or of a number's digits.
fn matches(contact: &Contact, filter: &str) -> bool {
    let needle = filter.to_lowercase();
    let digits: String = filter.chars().filter(char::is_ascii_digit).collect();
    contact.entries.iter().any(|e| {
        let text_hit = matches!(e.name.as_str(), "FN" | "N" | "ORG")
            && (e.value.iter().any(|v| v.to_lowercase().contains(&needle))
                || e.parts
                    .iter()
                    .any(|(_, v)| v.to_lowercase().contains(&needle)));
        let number_hit = e.name == "TEL"
            && !digits.is_empty()
            && e.value.as_deref().is_some_and(|v| {
                v.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .contains(&digits)
            });
        text_hit || number_hit
    })
}

fn reply(contacts: &[&Contact], overall: usize) -> Reply {
    let items: Vec<_> = contacts.iter().map(|c| wire::contact(c)).collect();
    Reply::Contacts(
        json!({ "Contacts": { "items": items, "overallMatches": overall } }),
        formats::vcards(contacts),
    )
}

async fn list(State(shared): State<Shr>, Extension(params): Extension<Params>) -> ApiResult {
    // limit=0 (and no limit) means all, as upstream.
    let limit = usize_param(&params, "limit", 0)?;
    let offset = usize_param(&params, "offset", 0)?;
    let filter = params.get("filter").unwrap_or("");
    let state = shared.read();
    let matching: Vec<&Contact> = state
        .contacts
        .iter()
        .filter(|c| filter.is_empty() || matches(c, filter))
        .collect();
    let take = if limit == 0 { usize::MAX } else { limit };
    let take = shared
        .faults()
        .page_cap(offset)
        .map_or(take, |c| take.min(c));
    let page: Vec<&Contact> = matching.iter().skip(offset).take(take).copied().collect();
    Ok(reply(&page, matching.len()))
}

async fn one(State(shared): State<Shr>, Path((_, id)): Path<(String, String)>) -> ApiResult {
    let state = shared.read();
    let contact = state
        .contact(&id)
        .ok_or_else(|| ApiError::not_found(format!("no contact {id:?}")))?;
    Ok(reply(&[contact], 1))
}

async fn phonebook(
    State(shared): State<Shr>,
    Path((_, vendor)): Path<(String, String)>,
) -> ApiResult {
    let state = shared.read();
    let contacts: Vec<&Contact> = state.contacts.iter().collect();
    let xml = formats::phonebook(&vendor, &contacts).ok_or_else(|| {
        ApiError::not_found(format!(
            "no phonebook for vendor {vendor:?}; use snom or grandstream"
        ))
    })?;
    Ok(Reply::Raw("application/xml; charset=utf-8", xml))
}
