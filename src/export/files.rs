//! Writing exports: every file atomically (a temporary file in the same directory, fsync,
//! rename, fsync of the directory), so a phone or a sync tool never reads half a file; and the
//! vCard folder ("vdir", one `<uid>.vcf` per contact) kept in step with the mirror, its cards
//! written as one batch (one flush for all, see `fsutil::Batch`).

use std::collections::BTreeSet;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::contact::Contact;
use super::vcard::{self, Version};
use crate::error::{Error, Result};
pub use crate::fsutil::{write_atomic, write_atomic_with};

/// The list of files `export vcard` wrote into a folder, so that it removes only its own.
pub const MANIFEST: &str = ".sipmirror-export";

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(format!("{what} {}: {e}", path.display()))
}

/// A file name for a contact that stays inside the folder whatever its UUID holds: the UUID
/// itself when it is plain (letters, digits, `-`, `_`, `.`, not starting with a dot), else a
/// hash of it.
pub fn file_name(uuid: &str) -> String {
    let plain = !uuid.is_empty()
        && uuid.len() <= 100
        && !uuid.starts_with('.')
        && uuid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        format!("{uuid}.vcf")
    } else {
        let digest = Sha256::digest(uuid.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{hex}.vcf")
    }
}

/// What a folder export did.
#[derive(Debug, Default, serde::Serialize)]
pub struct FolderReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Brings the vdir at `dir` in step with `contacts`: see [`Folder`].
pub fn write_folder(dir: &Path, contacts: &[Contact], version: Version) -> Result<FolderReport> {
    let mut folder = Folder::open(dir, version)?;
    for contact in contacts {
        folder.add(contact)?;
    }
    folder.finish()
}

/// A vdir being brought in step with the mirror, one contact at a time: new and changed cards
/// are written (as one [`Batch`](crate::fsutil::Batch)), unchanged ones left alone, and at the
/// end the cards it wrote earlier for contacts that are gone are removed. Files it did not
/// write are never touched.
pub struct Folder {
    dir: std::path::PathBuf,
    version: Version,
    previous: BTreeSet<String>,
    current: BTreeSet<String>,
    batch: crate::fsutil::Batch,
    report: FolderReport,
}

impl Folder {
    pub fn open(dir: &Path, version: Version) -> Result<Folder> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        let previous = std::fs::read_to_string(dir.join(MANIFEST))
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default();
        Ok(Folder {
            dir: dir.to_path_buf(),
            version,
            previous,
            current: BTreeSet::new(),
            batch: crate::fsutil::Batch::new(dir)?,
            report: FolderReport::default(),
        })
    }

    pub fn add(&mut self, contact: &Contact) -> Result<()> {
        let mut name = file_name(&contact.uuid);
        if self.current.contains(&name) {
            // Two contacts whose plain names collide (case, length): keep both.
            name = file_name(&format!("{}\u{0}{}", contact.uuid, self.current.len()));
        }
        let card = vcard::render(contact, self.version);
        let same = std::fs::read(self.dir.join(&name)).is_ok_and(|old| old == card.as_bytes());
        if same {
            self.report.unchanged += 1;
        } else {
            self.batch.stage(&name, card.as_bytes())?;
        }
        self.current.insert(name);
        Ok(())
    }

    /// Puts the new cards in place, removes those of contacts that are gone and records what
    /// the folder now holds.
    pub fn finish(self) -> Result<FolderReport> {
        let Folder {
            dir,
            previous,
            current,
            batch,
            mut report,
            ..
        } = self;
        report.written = batch.commit()?;
        for old in previous.difference(&current) {
            // Only plain names this command wrote: never a path, never a hidden file.
            if old.contains(['/', '\\']) || old.starts_with('.') || !old.ends_with(".vcf") {
                continue;
            }
            match std::fs::remove_file(dir.join(old)) {
                Ok(()) => report.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("cannot remove", &dir.join(old), e)),
            }
        }
        let manifest: String = current.iter().map(|n| format!("{n}\n")).collect();
        write_atomic(&dir.join(MANIFEST), manifest.as_bytes())?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_inside_the_folder() {
        assert_eq!(file_name("4fbe8971-0bc3"), "4fbe8971-0bc3.vcf");
        for hostile in ["../x", "a/b", ".hidden", "", "x\u{0}y", "é"] {
            let name = file_name(hostile);
            assert!(
                !name.contains('/') && !name.starts_with('.'),
                "{hostile:?} -> {name}"
            );
            assert_eq!(name.len(), 36, "{name}");
        }
    }
}
