//! The records every layer shares: what the API client returns, the store keeps, the sync
//! and the push move between them, and the commands show. They know no dialect and no
//! table; every other module may import them, and they import nothing of the crate but
//! `error`.

pub mod api;
pub mod calls;
pub mod contact;
pub mod event;
pub mod event_kind;
pub mod field;
pub mod push;
pub mod settings;
pub mod writes;

pub use event_kind::EventKind;
pub use field::Field;
