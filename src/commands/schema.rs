//! `sipmirror schema`: the reference of the mirror's tables and views, from the migrations.

use crate::error::{ExitCode, Result};
use crate::output;
use crate::store::schema_doc;

pub fn run() -> Result<ExitCode> {
    output::write_bytes(schema_doc::markdown()?.as_bytes())?;
    Ok(ExitCode::Ok)
}
