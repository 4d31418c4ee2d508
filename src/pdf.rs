//! Checks a document before it is queued as a fax, so that a wrong file is refused at once
//! with a clear message instead of failing upstream later (or, worse, being faxed).

/// The largest fax accepted: upstream refuses bigger ones, and a fax of that size is already
/// hundreds of pages.
pub const MAX_FAX_BYTES: usize = 20 * 1024 * 1024;

/// Reads `bytes` as a PDF document and returns its page count. The error says what is wrong
/// in words a user can act on.
pub fn fax_pages(bytes: &[u8]) -> Result<u32, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > MAX_FAX_BYTES {
        return Err(format!(
            "the file has {} MiB; a fax may have {} MiB at most",
            bytes.len().div_ceil(1024 * 1024),
            MAX_FAX_BYTES / 1024 / 1024
        ));
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err("not a PDF document (it does not start with %PDF-)".into());
    }
    // lopdf rebuilds a document with a lost cross-reference table, so a file cut off in a
    // copy would pass; a complete PDF ends with %%EOF.
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err("the PDF is incomplete (no %%EOF at its end); was the file cut off?".into());
    }
    let document = lopdf::Document::load_mem(bytes)
        .map_err(|e| format!("not a readable PDF document: {e}"))?;
    if document.is_encrypted() {
        return Err("the PDF is encrypted; fax machines cannot open it".into());
    }
    match document.get_pages().len() {
        0 => Err("the PDF has no pages".into()),
        n => Ok(n as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_pdfs_are_counted_and_others_refused() {
        let three = crate::emulator::sample_pdf(7, 3);
        assert_eq!(fax_pages(&three), Ok(3));
        assert!(fax_pages(b"").is_err());
        assert!(fax_pages(b"hello").unwrap_err().contains("not a PDF"));
        assert!(fax_pages(&three[..three.len() / 2]).is_err());
        let huge = vec![b' '; MAX_FAX_BYTES + 1];
        assert!(fax_pages(&huge).unwrap_err().contains("MiB"));
    }
}
