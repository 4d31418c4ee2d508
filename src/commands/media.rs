//! `sipmirror media path ID`: where an event's downloaded files are, for scripts
//! (`mpv "$(sipmirror media path 123)"`).

use crate::cli::MediaCommand;
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::media;
use crate::output;
use crate::store::{Access, Mirror};

pub fn run(settings: &Settings, command: &MediaCommand) -> Result<ExitCode> {
    let MediaCommand::Path { id } = command;
    let mirror = Mirror::open(&settings.db_path, Access::ReadOnly)?;
    let paths = media::paths(&mirror, &settings.media.dir, *id)?;
    if paths.is_empty() {
        return Err(Error::usage(format!(
            "no media downloaded for event {id}; `sipmirror sync --media` fetches it"
        )));
    }
    if settings.json {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        output::json(&paths)?;
        return Ok(ExitCode::Ok);
    }
    for path in paths {
        output::line(&path.display().to_string())?;
    }
    Ok(ExitCode::Ok)
}
