//! `sipmirror callthrough --source NUMBER --target NUMBER`: asks upstream for the number to
//! dial from SOURCE to be connected to TARGET, and prints it (alone on its line, for scripts).

use crate::api::Upstream;
use crate::config::Settings;
use crate::error::{ExitCode, Result};
use crate::output;
use crate::validate::phone_number;

pub fn run(settings: &Settings, source: &str, target: &str) -> Result<ExitCode> {
    let source = phone_number(source, "--source", &settings.country_code)?;
    let target = phone_number(target, "--target", &settings.country_code)?;
    let upstream = Upstream::connect(settings)?;
    let number = upstream.block_on(upstream.client.callthrough(&source, &target))?;
    if settings.json {
        output::json(&serde_json::json!({
            "source": source,
            "target": target,
            "dial": number,
        }))?;
    } else {
        output::line(&number)?;
    }
    Ok(ExitCode::Ok)
}
