//! Writing to stdout. A closed pipe (`sipmirror status | head -1`) is not an error worth a
//! message, so it ends output quietly instead of panicking as `println!` would.

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};

pub fn write_bytes(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io(format!("cannot write to stdout: {e}"))),
    }
}

pub fn line(text: &str) -> Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    write_bytes(&bytes)
}

/// Pretty-printed JSON followed by a newline.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::io(format!("cannot encode JSON: {e}")))?;
    line(&text)
}
