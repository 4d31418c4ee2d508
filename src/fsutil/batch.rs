//! Many files written into one existing folder, each atomically, with one flush for all.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::io_error;
use crate::error::Result;

/// Many files written into one folder, each atomically: every one is written to a hidden
/// temporary file first; [`Batch::commit`] makes all of them durable with one `syncfs` (Linux;
/// elsewhere one fsync each), then renames each over its target and syncs the folder once.
/// A crash leaves every target either old or new, never half-written; leftover temporary
/// files are removed by the next batch in that folder.
pub struct Batch {
    dir: PathBuf,
    staged: Vec<(tempfile::TempPath, PathBuf)>,
}

const BATCH_PREFIX: &str = ".sipmirror-batch-";

impl Batch {
    pub fn new(dir: &Path) -> Result<Batch> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        // Temporary files of a batch that was killed before it committed.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(BATCH_PREFIX)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(Batch {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
        })
    }

    /// Writes `bytes` for `name` (a plain file name in the folder) to a temporary file.
    pub fn stage(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let target = self.dir.join(name);
        let mut temp = tempfile::Builder::new()
            .prefix(BATCH_PREFIX)
            .tempfile_in(&self.dir)
            .map_err(|e| io_error("cannot write in", &self.dir, e))?;
        {
            // Cards are meant to be read by other tools: see `shared_mode`.
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(super::shared_mode(&target)))
                .map_err(|e| io_error("cannot write", &target, e))?;
        }
        temp.write_all(bytes)
            .map_err(|e| io_error("cannot write", &target, e))?;
        if !cfg!(target_os = "linux") {
            temp.as_file()
                .sync_all()
                .map_err(|e| io_error("cannot write", &target, e))?;
        }
        self.staged.push((temp.into_temp_path(), target));
        Ok(())
    }

    /// Makes every staged file durable, then puts each in place. Returns how many.
    pub fn commit(self) -> Result<usize> {
        if self.staged.is_empty() {
            return Ok(0);
        }
        let dir =
            std::fs::File::open(&self.dir).map_err(|e| io_error("cannot open", &self.dir, e))?;
        sync_file_system(&dir).map_err(|e| io_error("cannot flush", &self.dir, e))?;
        let count = self.staged.len();
        for (temp, target) in self.staged {
            temp.persist(&target)
                .map_err(|e| io_error("cannot replace", &target, e.error))?;
        }
        // Makes the renames durable; not possible on every file system, hence no error.
        let _ = dir.sync_all();
        Ok(count)
    }
}

/// Flushes every file written on the file system that holds `file` (Linux `syncfs`). On other
/// systems each staged file was synced when it was written.
pub(super) fn sync_file_system(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs(2) takes an open descriptor, which `file` keeps open for the call.
        if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::tests::names;

    #[test]
    fn a_batch_shows_nothing_before_commit_and_cleans_up_after_a_killed_one() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = dir.path();
        std::fs::write(dir.join(".sipmirror-batch-left-by-a-crash"), "half").expect("write");
        std::fs::write(dir.join("b.vcf"), "old").expect("write");
        let mut batch = Batch::new(dir).expect("batch");
        assert_eq!(names(dir), ["b.vcf"], "the leftover is gone");
        batch.stage("a.vcf", b"A").expect("stage");
        batch.stage("b.vcf", b"new").expect("stage");
        assert!(
            !dir.join("a.vcf").exists(),
            "nothing in place before commit"
        );
        assert_eq!(std::fs::read(dir.join("b.vcf")).expect("read"), b"old");
        assert_eq!(batch.commit().expect("commit"), 2);
        assert_eq!(names(dir), ["a.vcf", "b.vcf"], "no temporary file left");
        assert_eq!(std::fs::read(dir.join("b.vcf")).expect("read"), b"new");
    }
}
