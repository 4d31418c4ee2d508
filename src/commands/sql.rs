//! `sipmirror sql 'SELECT ...'`: one statement on a read-only connection, so nothing typed
//! here can change the mirror.

use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::query::{self, Format};
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, sql: &str, format: Format) -> Result<ExitCode> {
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let rows = query::run_sql(mirror.conn(), sql)?;
    super::query::show(
        &mirror,
        &rows,
        super::query::output_format(settings, format)?,
    )
}
