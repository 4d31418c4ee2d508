//! Shared helpers for the integration tests: run the real binary in an isolated home.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary home for one test: its own XDG directories, so no test reads the developer's
/// config or writes to their data directory.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        TestHome {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("mirror.db")
    }

    /// `sipmirror` with a clean environment pointing at this home.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("sipmirror").expect("binary built");
        for var in [
            "SIPGATE_USERNAME",
            "SIPGATE_PASSWORD",
            "SIPGATE_BASE_URL",
            "SIPGATE_USER_ID",
            "SIPGATE_API_VERSION",
            "SIPMIRROR_DB",
            "SIPMIRROR_CONFIG",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .current_dir(self.path());
        cmd
    }

    /// `sipmirror --db <home>/mirror.db ARGS...`
    pub fn run(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.arg("--db").arg(self.db()).args(args);
        cmd
    }

    /// Writes the config file at the default location and returns its path.
    pub fn write_config(&self, text: &str, mode: u32) -> PathBuf {
        let dir = self.path().join("config").join("sipmirror");
        std::fs::create_dir_all(&dir).expect("config dir");
        let path = dir.join("config.toml");
        std::fs::write(&path, text).expect("write config");
        set_mode(&path, mode);
        path
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// stderr of a finished command as text, asserting it is exactly one line.
pub fn one_line_stderr(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "expected one line on stderr, got: {stderr:?}"
    );
    stderr
}
