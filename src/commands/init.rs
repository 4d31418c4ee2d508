//! `sipmirror init`: create the mirror or upgrade its schema.

use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::{Access, Mirror, WriterLock};

pub fn run(settings: &Settings) -> Result<ExitCode> {
    let _lock = WriterLock::acquire(&settings.db_path, "init")?;
    let mirror = Mirror::open(&settings.db_path, Access::ReadWrite)?;
    let version = mirror.schema_version()?;
    if settings.json {
        output::json(&serde_json::json!({
            "db": mirror.path().display().to_string(),
            "schema_version": version,
        }))?;
    } else {
        output::line(&format!(
            "mirror ready at {} (schema version {version})",
            mirror.path().display()
        ))?;
    }
    Ok(ExitCode::Ok)
}
