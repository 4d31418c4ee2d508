//! Rebuild when a migration changes: `refinery::embed_migrations!` reads the `migrations/`
//! folder at compile time, and cargo would not otherwise notice a new or edited file there.
//! Also counts the migrations, so that `sipmirror --version` can name the schema version.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let version = std::fs::read_dir("migrations")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_prefix('V')?
                        .split("__")
                        .next()?
                        .parse::<u32>()
                        .ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    println!("cargo:rustc-env=SIPMIRROR_SCHEMA_VERSION={version}");
}
