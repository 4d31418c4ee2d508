//! The classic REST API (`https://api.sipgate.net/{userId}/...`, switched off by sipgate): its
//! wire shapes and how they become the mirror's records. What it did and what this project
//! chose where its reference is silent is in `docs/upstream.md`.

pub mod contact_record;
pub mod event_record;
pub mod events;
pub mod resources;
pub mod sessions;
pub(crate) mod settings;
mod settings_writes;
