//! Writing exports: every file atomically (a temporary file in the same directory, fsync,
//! rename, fsync of the directory), so a phone or a sync tool never reads half a file; and the
//! vCard folder ("vdir", one `<uid>.vcf` per contact) kept in step with the mirror, its cards
//! written as one batch (one flush for all, see `fsutil::Batch`), or, the first time, as a
//! whole new folder renamed into place (`fsutil::NewFolder`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::contact::Contact;
use super::vcard::{self, Version};
use crate::error::{Error, Result};
use crate::fsutil::{Batch, NewFolder};
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
        format!("{}.vcf", crate::fsutil::hex(&digest[..16]))
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
/// are written (as one [`Batch`]), unchanged ones left alone, and at the end the cards it wrote
/// earlier for contacts that are gone are removed. Files it did not write are never touched.
/// A folder that does not exist yet is built whole under a hidden name and renamed into place
/// ([`NewFolder`]).
///
/// A card is unchanged when its file still is what the last run wrote (same size, modification
/// time and inode, as vdirsyncer tells its files apart) and the new card hashes the same as the
/// one written then: re-runs on an unchanged mirror read no card. A file touched since (by
/// khard, say) is read and compared.
pub struct Folder {
    dir: std::path::PathBuf,
    version: Version,
    previous: BTreeMap<String, Option<Stamp>>,
    current: BTreeMap<String, Written>,
    sink: Sink,
    report: FolderReport,
}

/// Where the cards go: a folder that does not exist yet is built whole and renamed into
/// place; an existing one gets its new and changed cards as one batch.
enum Sink {
    New(NewFolder),
    Existing(Batch),
}

/// What the manifest records of a card this command wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    file: FileId,
    hash: String,
}

/// A card in the folder after this run: its hash, and its file's identity once known (cards
/// written this run are looked at after the batch put them in place).
struct Written {
    hash: String,
    file: Option<FileId>,
}

/// Size, modification time and inode: what changes when anyone rewrites a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    size: u64,
    mtime_ns: i128,
    inode: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<FileId> {
        FileId::from_metadata(&std::fs::metadata(path).ok()?)
    }

    #[cfg(unix)]
    fn from_metadata(meta: &std::fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId {
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
        })
    }

    /// Elsewhere every card is read and compared.
    #[cfg(not(unix))]
    fn from_metadata(_: &std::fs::Metadata) -> Option<FileId> {
        None
    }
}

/// One manifest line: `name` alone (written by older versions) or
/// `name<TAB>size<TAB>mtime_ns<TAB>inode<TAB>sha256`.
fn parse_manifest_line(line: &str) -> (String, Option<Stamp>) {
    let mut fields = line.split('\t');
    let name = fields.next().unwrap_or_default().to_string();
    let stamp = (|| {
        let file = FileId {
            size: fields.next()?.parse().ok()?,
            mtime_ns: fields.next()?.parse().ok()?,
            inode: fields.next()?.parse().ok()?,
        };
        let hash = fields.next()?.to_string();
        Some(Stamp { file, hash })
    })();
    (name, stamp)
}

impl Folder {
    pub fn open(dir: &Path, version: Version) -> Result<Folder> {
        let (sink, previous) = match NewFolder::create(dir)? {
            Some(new) => (Sink::New(new), BTreeMap::new()),
            None => {
                let previous = std::fs::read_to_string(dir.join(MANIFEST))
                    .map(|text| text.lines().map(parse_manifest_line).collect())
                    .unwrap_or_default();
                (Sink::Existing(Batch::new(dir)?), previous)
            }
        };
        Ok(Folder {
            dir: dir.to_path_buf(),
            version,
            previous,
            current: BTreeMap::new(),
            sink,
            report: FolderReport::default(),
        })
    }

    pub fn add(&mut self, contact: &Contact) -> Result<()> {
        let mut name = file_name(&contact.uuid);
        if self.current.contains_key(&name) {
            // Two contacts whose plain names collide (case, length): keep both.
            name = file_name(&format!("{}\u{0}{}", contact.uuid, self.current.len()));
        }
        let card = vcard::render(contact, self.version);
        let hash = crate::fsutil::sha256_hex(card.as_bytes());
        let file = match &mut self.sink {
            Sink::New(folder) => {
                self.report.written += 1;
                FileId::from_metadata(&folder.write(&name, card.as_bytes())?)
            }
            Sink::Existing(batch) => {
                let path = self.dir.join(&name);
                let file = FileId::of(&path);
                let as_written = match self.previous.get(&name) {
                    Some(Some(stamp)) => Some(&stamp.file) == file.as_ref() && stamp.hash == hash,
                    _ => false,
                };
                if as_written || std::fs::read(&path).is_ok_and(|old| old == card.as_bytes()) {
                    self.report.unchanged += 1;
                    file
                } else {
                    batch.stage(&name, card.as_bytes())?;
                    None
                }
            }
        };
        self.current.insert(name, Written { hash, file });
        Ok(())
    }

    /// Puts the new cards in place, removes those of contacts that are gone and records what
    /// the folder now holds.
    pub fn finish(self) -> Result<FolderReport> {
        let Folder {
            dir,
            previous,
            current,
            sink,
            mut report,
            ..
        } = self;
        let batch = match sink {
            Sink::New(folder) => {
                folder.write(MANIFEST, manifest(&dir, &current).as_bytes())?;
                folder.commit()?;
                return Ok(report);
            }
            Sink::Existing(batch) => batch,
        };
        report.written = batch.commit()?;
        for old in previous.keys().filter(|name| !current.contains_key(*name)) {
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
        // A run that changed nothing leaves the manifest (7 MB for 50,000 cards) alone.
        if !same_cards(&previous, &current) {
            write_atomic(&dir.join(MANIFEST), manifest(&dir, &current).as_bytes())?;
        }
        Ok(report)
    }
}

/// Whether the manifest read at the start already says what `current` would write.
fn same_cards(
    previous: &BTreeMap<String, Option<Stamp>>,
    current: &BTreeMap<String, Written>,
) -> bool {
    previous.len() == current.len()
        && previous
            .iter()
            .zip(current)
            .all(|((old_name, old), (name, new))| {
                old_name == name
                    && match (old, new.file) {
                        (Some(old), Some(file)) => old.file == file && old.hash == new.hash,
                        _ => false,
                    }
            })
}

/// The manifest of the cards in `dir` (see [`parse_manifest_line`]).
fn manifest(dir: &Path, cards: &BTreeMap<String, Written>) -> String {
    let mut manifest = String::new();
    for (name, written) in cards {
        // Writing into a String cannot fail.
        let _ = match written.file.or_else(|| FileId::of(&dir.join(name))) {
            Some(file) => writeln!(
                manifest,
                "{name}\t{}\t{}\t{}\t{}",
                file.size, file.mtime_ns, file.inode, written.hash
            ),
            None => writeln!(manifest, "{name}"),
        };
    }
    manifest
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

    /// Contacts `c0`, `c1`, `c2`, named `Name 0` …
    fn three_contacts() -> Vec<Contact> {
        (0..3)
            .map(|i| Contact {
                uuid: format!("c{i}"),
                name: format!("Name {i}"),
                ..Contact::default()
            })
            .collect()
    }

    #[test]
    fn a_new_folder_is_written_whole_and_its_manifest_vouches_for_every_card() {
        let parent = tempfile::tempdir().expect("dir");
        let dir = parent.path().join("cards");
        let contacts = three_contacts();
        let first = write_folder(&dir, &contacts, Version::V3).expect("first");
        assert_eq!((first.written, first.unchanged), (3, 0));
        let manifest = std::fs::read_to_string(dir.join(MANIFEST)).expect("manifest");
        for line in manifest.lines() {
            let (name, stamp) = parse_manifest_line(line);
            let stamp = stamp.expect("a stamp for every card");
            assert_eq!(Some(stamp.file), FileId::of(&dir.join(&name)), "{name}");
            let card = std::fs::read(dir.join(&name)).expect("card");
            assert_eq!(stamp.hash, crate::fsutil::sha256_hex(&card), "{name}");
        }
        assert_eq!(manifest.lines().count(), 3);
        let manifest_file = FileId::of(&dir.join(MANIFEST));
        let second = write_folder(&dir, &contacts, Version::V3).expect("second");
        assert_eq!((second.written, second.unchanged), (0, 3));
        assert_eq!(
            FileId::of(&dir.join(MANIFEST)),
            manifest_file,
            "a run that changed nothing leaves the manifest alone"
        );
    }

    #[test]
    fn a_card_is_read_again_only_when_its_file_changed_since_it_was_written() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("dir");
        let contacts = three_contacts();
        let first = write_folder(dir.path(), &contacts, Version::V3).expect("first");
        assert_eq!((first.written, first.unchanged), (3, 0));
        let path = dir.path().join("c0.vcf");
        let original = std::fs::read(&path).expect("card");
        let written_at = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        // Edited in place behind the export's back, same size, its time put back: the
        // manifest vouches for the file, so it is not read (and not rewritten).
        let forged = String::from_utf8(original.clone())
            .expect("text")
            .replace("Name 0", "Nome 0");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.write_all(forged.as_bytes()).expect("write");
        file.set_modified(written_at).expect("time");
        let second = write_folder(dir.path(), &contacts, Version::V3).expect("second");
        assert_eq!((second.written, second.unchanged), (0, 3));
        assert_eq!(std::fs::read(&path).expect("card"), forged.as_bytes());
        // Once its time moves, it is read, found different and rewritten.
        file.set_modified(written_at + std::time::Duration::from_secs(1))
            .expect("time");
        let third = write_folder(dir.path(), &contacts, Version::V3).expect("third");
        assert_eq!((third.written, third.unchanged), (1, 2));
        assert_eq!(std::fs::read(&path).expect("card"), original);
        let manifest = std::fs::read_to_string(dir.path().join(MANIFEST)).expect("manifest");
        let (_, stamp) = parse_manifest_line(manifest.lines().next().expect("c0 first"));
        assert_eq!(
            stamp.map(|s| s.file),
            FileId::of(&path),
            "the manifest vouches for the rewritten card"
        );
    }
}
