//! Real, small, valid media for downloads: WAV for voicemails and recordings, PDF for fax
//! documents, PNG for fax page previews. Deterministic per event, so a client can check that
//! what it stored is byte-identical to what was served.

/// A short 8 kHz mono 16-bit PCM WAV whose tone depends on `id`.
/// Audio length in tenths of a second: short, so tests stay fast, but varying per event.
pub fn audio_tenths(id: u64) -> u32 {
    5 + (id % 16) as u32
}

/// A recording `size` bytes long, mostly silence: for the `media_size` fault.
pub fn oversized(id: u64, size: u64) -> Vec<u8> {
    let mut body = wav(id, 5);
    body.resize(
        usize::try_from(size).unwrap_or(usize::MAX).max(body.len()),
        0,
    );
    body
}

pub fn wav(id: u64, seconds_tenths: u32) -> Vec<u8> {
    let sample_rate: u32 = 8000;
    let samples = sample_rate * seconds_tenths / 10;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let period = 8 + (id % 24) as u32; // a square wave, 250–1000 Hz
    for i in 0..samples {
        let v: i16 = if (i / period).is_multiple_of(2) {
            6000
        } else {
            -6000
        };
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A valid PDF with `pages` pages, each saying which fax and page it is.
pub fn pdf(id: u64, pages: u8) -> Vec<u8> {
    let pages = usize::from(pages.max(1));
    let mut objects: Vec<String> = Vec::new();
    // 1: catalog, 2: pages, 3: font, then per page: page object + content stream.
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..pages).map(|p| format!("{} 0 R", 4 + 2 * p)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for p in 0..pages {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * p
        ));
        let text = format!(
            "BT /F1 18 Tf 72 770 Td (sipmirror emulator fax {id} page {}) Tj ET",
            p + 1
        );
        objects.push(format!(
            "<< /Length {} >>\nstream\n{text}\nendstream",
            text.len()
        ));
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Whether `body` looks like a whole PDF, and how many pages it has (at least 1).
pub fn pdf_pages(body: &[u8]) -> Option<u8> {
    if !body.starts_with(b"%PDF-") {
        return None;
    }
    let tail = &body[body.len().saturating_sub(1024)..];
    if !contains(tail, b"%%EOF") {
        return None;
    }
    let mut pages = 0usize;
    for pattern in [&b"/Type /Page"[..], b"/Type/Page"] {
        let mut rest = body;
        while let Some(pos) = find(rest, pattern) {
            let after = rest.get(pos + pattern.len()).copied();
            if after != Some(b's') {
                pages += 1;
            }
            rest = &rest[pos + pattern.len()..];
        }
    }
    Some(pages.clamp(1, 255) as u8)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// A grey-scale PNG preview of a fax page: `small` is 62×88, `big` 124×176.
pub fn png(id: u64, page: u8, big: bool) -> Vec<u8> {
    let (w, h): (u32, u32) = if big { (124, 176) } else { (62, 88) };
    let mut raw = Vec::with_capacity(((w + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            // White paper with grey "text lines" that differ per fax and page.
            let line = y % 8 < 2
                && x > 4
                && x < w - 4
                && !(x + y + id as u32 + u32::from(page)).is_multiple_of(13);
            raw.push(if line { 90 } else { 250 });
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with uncompressed deflate blocks: valid, and needs no compressor.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pdf_is_recognised_with_its_pages() {
        assert_eq!(pdf_pages(&pdf(7, 3)), Some(3));
        assert_eq!(pdf_pages(b"not a pdf"), None);
        assert_eq!(pdf_pages(b"%PDF-1.4 truncated"), None);
    }

    #[test]
    fn crc_matches_the_png_reference_value() {
        // CRC of "IEND" is fixed by the PNG specification.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn wav_header_sizes_add_up() {
        let w = wav(3, 5);
        assert_eq!(&w[0..4], b"RIFF");
        let riff = u32::from_le_bytes([w[4], w[5], w[6], w[7]]) as usize;
        assert_eq!(riff + 8, w.len());
    }
}
