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

/// Writes `text` and a line break. Text printed for people often holds what upstream sent
/// (names, call members, numbers): control characters other than line breaks and tabs are
/// written as `\xNN`, so no escape sequence reaches the terminal (a window title, a cleared
/// screen).
pub fn line(text: &str) -> Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(terminal_safe(text).as_bytes());
    bytes.push(b'\n');
    write_bytes(&bytes)
}

/// `text` with control characters other than `\n` and `\t` written as `\xNN`.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Pretty-printed JSON followed by a newline.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::io(format!("cannot encode JSON: {e}")))?;
    line(&text)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_are_made_visible() {
        assert_eq!(
            terminal_safe("plain\nlines\tand tabs"),
            "plain\nlines\tand tabs"
        );
        assert_eq!(
            terminal_safe("\u{1b}]0;pwned\u{7}x\r"),
            "\\x1b]0;pwned\\x07x\\x0d"
        );
    }
}
