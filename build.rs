//! Rebuild when a migration changes: `refinery::embed_migrations!` reads the `migrations/`
//! folder at compile time, and cargo would not otherwise notice a new or edited file there.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
