//! `sipmirror datasette-metadata`: the metadata file for Datasette, for the mirror in effect
//! (Datasette names a database after its file, so the file's name is in it).

use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::query::{self, datasette};
use crate::store::schema_doc;

pub fn run(settings: &Settings) -> Result<ExitCode> {
    let database = settings
        .db_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mirror".to_string());
    let reports = query::all_reports(super::query::user_folder().as_deref())?;
    let (schema, _) = schema_doc::documented()?;
    output::json(&datasette::metadata(&database, &reports, &schema))?;
    Ok(ExitCode::Ok)
}
