//! A folder written whole under a temporary name beside its place, then renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::batch::sync_file_system;
use super::{io_error, parent_of};
use crate::error::{Error, Result};

/// A folder that does not exist yet, built under a hidden name beside its place and renamed
/// into place once complete: a reader (khard, vdirsyncer, a phone) sees no folder or all of
/// it. Each file is created once, where it stays, instead of through a temporary file and a
/// rename of its own, which halves the file-system work of a first vCard export.
///
/// Files are made durable with one flush of the file system (Linux `syncfs`; elsewhere one
/// fsync each) before the rename. If the build fails the hidden folder is removed; one left by
/// a killed run is removed by the next `NewFolder` for the same place.
pub struct NewFolder {
    target: PathBuf,
    staging: PathBuf,
    /// Set once the folder is in place; until then dropping it removes the hidden folder.
    committed: bool,
}

impl NewFolder {
    /// Starts building `target`, or `None` when something already exists there (an existing
    /// folder is brought up to date file by file, see [`Batch`](super::Batch)).
    pub fn create(target: &Path) -> Result<Option<NewFolder>> {
        if target.symlink_metadata().is_ok() {
            return Ok(None);
        }
        let parent = parent_of(target);
        let name = target
            .file_name()
            .ok_or_else(|| Error::io(format!("{} is not a folder name", target.display())))?;
        std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
        let prefix = format!(".{}.sipmirror-new-", name.to_string_lossy());
        remove_leftovers(parent, &prefix);
        let staging = parent.join(format!("{prefix}{}", std::process::id()));
        std::fs::create_dir(&staging).map_err(|e| io_error("cannot create", target, e))?;
        Ok(Some(NewFolder {
            target: target.to_path_buf(),
            staging,
            committed: false,
        }))
    }

    /// Writes the file `name` (a plain file name) and returns what it is on disk (its size,
    /// time and inode stay what they are when the folder is renamed into place).
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<std::fs::Metadata> {
        let path = self.staging.join(name);
        let shown = self.target.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            // Cards are meant to be read by other tools: see `shared_mode` (masked by the
            // umask again, which does no harm).
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(super::shared_mode(&shown));
        }
        let mut file = options
            .open(&path)
            .map_err(|e| io_error("cannot write", &shown, e))?;
        file.write_all(bytes)
            .map_err(|e| io_error("cannot write", &shown, e))?;
        if !cfg!(target_os = "linux") {
            file.sync_all()
                .map_err(|e| io_error("cannot write", &shown, e))?;
        }
        file.metadata()
            .map_err(|e| io_error("cannot read", &shown, e))
    }

    /// Makes every file durable and puts the folder in place.
    pub fn commit(mut self) -> Result<()> {
        let dir = std::fs::File::open(&self.staging)
            .map_err(|e| io_error("cannot write", &self.target, e))?;
        sync_file_system(&dir).map_err(|e| io_error("cannot flush", &self.target, e))?;
        // rename(2) does not replace a folder that has files in it; one that appeared meanwhile
        // (another export) is reported, and this one's files are dropped with the hidden folder.
        std::fs::rename(&self.staging, &self.target)
            .map_err(|e| io_error("cannot put in place", &self.target, e))?;
        self.committed = true;
        if let Ok(parent) = std::fs::File::open(parent_of(&self.target)) {
            // Makes the rename durable; not possible on every file system, hence no error.
            let _ = parent.sync_all();
        }
        Ok(())
    }
}

impl Drop for NewFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Hidden folders of earlier builds of the same place that were killed before they finished.
fn remove_leftovers(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::tests::names;

    #[test]
    fn a_new_folder_appears_whole_and_a_killed_build_is_cleaned_up() {
        let parent = tempfile::tempdir().expect("dir");
        let target = parent.path().join("cards");
        std::fs::create_dir(parent.path().join(".cards.sipmirror-new-1")).expect("leftover");
        let folder = NewFolder::create(&target).expect("create").expect("new");
        assert_eq!(names(parent.path()).len(), 1, "the leftover is gone");
        let meta = folder.write("a.vcf", b"A").expect("write");
        assert_eq!(meta.len(), 1);
        assert!(!target.exists(), "nothing in place before commit");
        folder.commit().expect("commit");
        assert_eq!(names(parent.path()), ["cards"], "no hidden folder left");
        assert_eq!(names(&target), ["a.vcf"]);
        assert!(
            NewFolder::create(&target).expect("create").is_none(),
            "an existing folder is not rebuilt"
        );
    }

    #[test]
    fn a_failed_build_leaves_nothing_behind() {
        let parent = tempfile::tempdir().expect("dir");
        let target = parent.path().join("cards");
        {
            let folder = NewFolder::create(&target).expect("create").expect("new");
            folder.write("a.vcf", b"A").expect("write");
            assert!(
                folder.write("a.vcf", b"again").is_err(),
                "a file is created once"
            );
        }
        assert!(names(parent.path()).is_empty());
    }
}
