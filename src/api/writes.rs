//! Event writes, the same interface for both dialects: what upstream has for an event's
//! editable fields, and setting them. All writes set target values, so they are idempotent and
//! the client may retry them.
//!
//! | | classic | v2 |
//! |---|---|---|
//! | read the fields | `GET /events/{kind}/{id}/` | `GET /history/{id}` |
//! | read, starred | `PUT .../{read\|starred}/?value=` per field | `PUT /history/{id}` with every field at once, or `PUT /history` for up to 149 events |
//! | labels | `PUT .../{id}/?value=a,b` | cannot (refused before queueing) |
//! | archived, note | cannot (refused before queueing) | as read |
//! | delete | `DELETE .../{id}/`: to the trash | `DELETE /history/{id}` or `DELETE /history?id=..&id=..`: for good |

use serde_json::{Map, Value};

use super::{ApiError, ApiErrorKind, Client, Method};
use crate::config::Api;
use crate::records::Field;
pub use crate::records::writes::{Change, EventFields, EventRef};

/// The most events one bulk `PUT /history` takes: the reference says "less than 150".
pub const MAX_BULK_UPDATE: usize = 149;
/// Ids per `DELETE /history?id=..` request, well inside any URL length limit.
pub const MAX_BULK_DELETE: usize = 50;

/// A v2 history update: `{"read": true, "note": "..."}`, with the id for the bulk form.
fn v2_update(id: Option<&str>, changes: &[Change<'_>]) -> Value {
    let mut body = Map::new();
    if let Some(id) = id {
        body.insert("id".into(), id.into());
    }
    for &(field, value) in changes {
        let json = if field.is_flag() {
            Value::Bool(value == "1")
        } else {
            Value::String(value.to_string())
        };
        body.insert(field.name().into(), json);
    }
    Value::Object(body)
}

fn history_path(upstream_id: &str) -> String {
    format!("history/{}", url_segment(upstream_id))
}

/// An id as one path segment: v2 ids are strings and may hold anything.
pub(crate) fn url_segment(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Client {
    /// The event's editable fields as upstream has them now.
    pub async fn event_fields(&self, event: EventRef<'_>) -> Result<EventFields, ApiError> {
        match self.api() {
            Api::Classic => {
                let (_, wire) = self.event(event.kind, event.id).await?;
                let flag =
                    |f: &Option<super::events::WireFlag>| f.as_ref().is_some_and(|f| f.value);
                Ok(EventFields {
                    read: flag(&wire.read),
                    starred: flag(&wire.starred),
                    labels: wire
                        .labels
                        .as_ref()
                        .and_then(|l| l.value.clone())
                        .unwrap_or_default(),
                    archived: wire.location.as_deref() == Some("archive"),
                    location: wire.location.unwrap_or_default(),
                    note: wire.comment.unwrap_or_default(),
                })
            }
            Api::V2 => {
                let raw: Box<serde_json::value::RawValue> =
                    self.get_json(&history_path(event.upstream_id), &[]).await?;
                super::v2::history::fields(&raw)
            }
        }
    }

    /// Sets the given fields of one event. classic writes them one at a time, in order, and
    /// stops at the first error; v2 writes them all in one request.
    pub async fn write_fields(
        &self,
        event: EventRef<'_>,
        changes: &[Change<'_>],
    ) -> Result<(), ApiError> {
        match self.api() {
            Api::Classic => {
                for &(field, value) in changes {
                    self.classic_write(event, field, value).await?;
                }
                Ok(())
            }
            Api::V2 => {
                let body = v2_update(None, changes);
                self.write_json(
                    Method::PUT,
                    &history_path(event.upstream_id),
                    &[],
                    Some(&body),
                )
                .await
                .map(drop)
            }
        }
    }

    /// v2: sets the flags (read, starred, archived; notes go one event at a time) of up to
    /// [`MAX_BULK_UPDATE`] events in one `PUT /history`.
    pub async fn write_flags_bulk(
        &self,
        events: &[(&str, Vec<Change<'_>>)],
    ) -> Result<(), ApiError> {
        debug_assert!(events.len() <= MAX_BULK_UPDATE);
        let body = Value::Array(
            events
                .iter()
                .map(|(id, changes)| v2_update(Some(id), changes))
                .collect(),
        );
        self.write_json(Method::PUT, "history", &[], Some(&body))
            .await
            .map(drop)
    }

    /// Deletes one event upstream: classic moves it to the trash, v2 deletes it for good.
    pub async fn delete_event(&self, event: EventRef<'_>) -> Result<(), ApiError> {
        match self.api() {
            Api::Classic => self.classic_write(event, Field::Location, "trash").await,
            Api::V2 => self
                .write_json(Method::DELETE, &history_path(event.upstream_id), &[], None)
                .await
                .map(drop),
        }
    }

    /// v2: deletes up to [`MAX_BULK_DELETE`] events in one `DELETE /history?id=..&id=..`.
    /// Never sent without ids: sipgate may read that as "delete the whole history".
    pub async fn delete_events_bulk(&self, upstream_ids: &[&str]) -> Result<(), ApiError> {
        if upstream_ids.is_empty() {
            return Ok(());
        }
        if upstream_ids.len() > MAX_BULK_DELETE || self.api() != Api::V2 {
            return Err(ApiError::new(
                ApiErrorKind::Permanent,
                "a bulk delete takes 1 to 50 ids, through v2 only",
            ));
        }
        let query: Vec<(&str, String)> = upstream_ids
            .iter()
            .map(|id| ("id", id.to_string()))
            .collect();
        self.write_json(Method::DELETE, "history", &query, None)
            .await
            .map(drop)
    }

    async fn classic_write(
        &self,
        event: EventRef<'_>,
        field: Field,
        value: &str,
    ) -> Result<(), ApiError> {
        let kind = event.kind.plural();
        let id = event.id;
        let (method, path, query) = match field {
            // `PUT /{userId}/events/{kind}/{id}/{read|starred}/?value=true|false`
            Field::Read | Field::Starred => (
                Method::PUT,
                format!("events/{kind}/{id}/{}/", field.name()),
                vec![("value", (value == "1").to_string())],
            ),
            // `PUT /{userId}/events/{kind}/{id}/?value=a,b`: the whole list.
            Field::Labels => (
                Method::PUT,
                format!("events/{kind}/{id}/"),
                vec![("value", value.to_string())],
            ),
            // `DELETE /{userId}/events/{kind}/{id}/`: to the trash.
            Field::Location => (Method::DELETE, format!("events/{kind}/{id}/"), Vec::new()),
            Field::Archived | Field::Note => {
                return Err(ApiError::new(
                    ApiErrorKind::Permanent,
                    format!("the classic API cannot write {}", field.name()),
                ));
            }
        };
        self.write_idempotent(method, &path, &query).await.map(drop)
    }
}
