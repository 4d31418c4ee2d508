//! Event writes: the `read`/`starred` flags, labels and the trash. All three are idempotent
//! (they set a target value), so the client may retry them.

use super::events::EventKind;
use super::{ApiError, Client, Method};

impl Client {
    /// `PUT /{userId}/events/{kind}/{id}/{read|starred}/?value=true|false`
    pub async fn set_flag(
        &self,
        kind: EventKind,
        id: i64,
        name: &str,
        value: bool,
    ) -> Result<(), ApiError> {
        let path = format!("events/{}/{id}/{name}/", kind.plural());
        self.write_idempotent(Method::PUT, &path, &[("value", value.to_string())])
            .await
            .map(drop)
    }

    /// `PUT /{userId}/events/{kind}/{id}/?value=a,b`: the whole list, replacing the old one.
    pub async fn set_labels(&self, kind: EventKind, id: i64, labels: &str) -> Result<(), ApiError> {
        let path = format!("events/{}/{id}/", kind.plural());
        self.write_idempotent(Method::PUT, &path, &[("value", labels.to_string())])
            .await
            .map(drop)
    }

    /// `DELETE /{userId}/events/{kind}/{id}/`: moves the event to the trash.
    pub async fn trash_event(&self, kind: EventKind, id: i64) -> Result<(), ApiError> {
        let path = format!("events/{}/{id}/", kind.plural());
        self.write_idempotent(Method::DELETE, &path, &[])
            .await
            .map(drop)
            .map(drop)
    }
}
