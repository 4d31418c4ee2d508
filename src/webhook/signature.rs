//! The push API's `x-sipgate-signature`: an RSA-SHA256 (PKCS#1 v1.5) signature of the raw
//! body, base64, checked against sipgate's public key when `[webhook] public_key_file` names
//! it (PEM: `BEGIN PUBLIC KEY`, or `BEGIN RSA PUBLIC KEY`).

use base64::Engine;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use crate::error::{Error, Result};

/// A public key ready to check signatures.
pub struct PublicKey(Vec<u8>);

impl PublicKey {
    /// Reads a PEM file.
    pub fn read(path: &std::path::Path) -> Result<PublicKey> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
        PublicKey::from_pem(&text).map_err(|why| Error::usage(format!("{}: {why}", path.display())))
    }

    fn from_pem(text: &str) -> std::result::Result<PublicKey, String> {
        let spki = text.contains("BEGIN PUBLIC KEY");
        if !spki && !text.contains("BEGIN RSA PUBLIC KEY") {
            return Err("not a PEM public key".into());
        }
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| "the PEM body is not base64".to_string())?;
        let key = if spki { spki_rsa_key(&der)? } else { der };
        Ok(PublicKey(key))
    }

    /// Whether `signature` (base64, as the header carries it) signs `body`.
    pub fn verifies(&self, body: &[u8], signature: &str) -> bool {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.0)
            .verify(body, &signature)
            .is_ok()
    }
}

/// One DER element at the start of `der`: its tag, its content, and what follows.
fn element(der: &[u8]) -> std::result::Result<(u8, &[u8], &[u8]), String> {
    let bad = || "the key is not well-formed DER".to_string();
    let (&tag, rest) = der.split_first().ok_or_else(bad)?;
    let (&first, rest) = rest.split_first().ok_or_else(bad)?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad());
        }
        let length = rest[..n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (length, &rest[n..])
    };
    if rest.len() < length {
        return Err(bad());
    }
    Ok((tag, &rest[..length], &rest[length..]))
}

/// The RSAPublicKey inside a SubjectPublicKeyInfo: SEQUENCE { SEQUENCE algorithm, BIT STRING }.
fn spki_rsa_key(der: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let (tag, info, _) = element(der)?;
    let (algorithm_tag, _, rest) = element(info)?;
    let (bits_tag, bits, _) = element(rest)?;
    match (tag, algorithm_tag, bits_tag, bits.split_first()) {
        (0x30, 0x30, 0x03, Some((0, key))) => Ok(key.to_vec()),
        _ => Err("not an RSA public key".into()),
    }
}
