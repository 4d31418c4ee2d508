//! Shared helpers for the integration tests: run the real binary in an isolated home.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary home for one test: its own XDG directories, so no test reads the developer's
/// config or writes to their data directory.
pub struct TestHome {
    pub dir: tempfile::TempDir,
}

impl TestHome {
    pub fn new() -> TestHome {
        // Every test makes a home before any HTTP client of its own.
        sipmirror::api::install_tls_provider();
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
        Command::from_std(self.std_cmd())
    }

    /// The same as a plain `std::process::Command`, for tests that spawn and kill it.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sipmirror"));
        for var in [
            "SIPGATE_TOKEN_ID",
            "SIPGATE_TOKEN",
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
        // The tests written for the classic API say so once here; v2 tests set SIPGATE_API=v2.
        cmd.env("SIPGATE_API", "classic")
            .env("HOME", self.path())
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
        // Whatever the umask of whoever runs the tests: a folder others can write is refused.
        set_mode(&dir, 0o755);
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

/// A small blocking HTTP client for talking to the emulator in tests. It is deliberately not
/// sipmirror's own client: the emulator is checked against the documented wire shapes.
pub struct Http {
    pub client: reqwest::blocking::Client,
    pub base: String,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

impl Http {
    pub fn new(base: &str) -> Http {
        sipmirror::api::install_tls_provider();
        Http {
            client: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
            base: base.to_string(),
        }
    }

    /// Sends a request with the demo credentials and `version`; `accept` may be empty.
    pub fn send(&self, method: &str, path: &str, accept: &str) -> Result<Answer, reqwest::Error> {
        self.send_with(method, path, accept, |r| r)
    }

    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        accept: &str,
        build: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Result<Answer, reqwest::Error> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{separator}version=2.41.0", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, url)
            .basic_auth("demo", Some("demo"));
        if !accept.is_empty() {
            request = request.header("Accept", accept);
        }
        let response = build(request).send()?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes()?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    pub fn json(&self, path: &str) -> serde_json::Value {
        let answer = self.send("GET", path, "application/json").expect("request");
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        answer.json()
    }

    /// A control-interface request (no auth, no version).
    pub fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().expect("control request");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }
}

/// Checks that `body` is well-formed XML and returns the root element's name.
pub fn xml_root(body: &[u8]) -> String {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buffer = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(quick_xml::events::Event::Start(e)) if root.is_none() => {
                root = Some(e.name().into_inner().to_string());
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML ({e}): {}", String::from_utf8_lossy(body)),
        }
        buffer.clear();
    }
    root.expect("a root element")
}

/// An emulator plus a test home whose `sipmirror` talks to it, with fast retries. Twelve
/// attempts make a sync under 30% injected faults fail with odds below one in a million per
/// request, so the fault tests cannot flake.
pub struct Synced {
    pub home: TestHome,
    pub emulator: sipmirror::emulator::Emulator,
    pub http: Http,
}

impl Synced {
    pub fn start(events: usize, contacts: usize) -> Synced {
        Synced::with_seed(42, events, contacts)
    }

    pub fn with_seed(seed: u64, events: usize, contacts: usize) -> Synced {
        let emulator = sipmirror::emulator::Emulator::start(sipmirror::emulator::EmulatorConfig {
            seed,
            events,
            contacts,
            ..Default::default()
        })
        .expect("emulator starts");
        let home = TestHome::new();
        home.write_config(
            "[http]\nretry_base = \"1ms\"\nmax_attempts = 12\ntimeout = \"20s\"\n",
            0o600,
        );
        let http = Http::new(emulator.base_url());
        Synced {
            home,
            emulator,
            http,
        }
    }

    /// `sipmirror --db <home>/mirror.db ARGS...` pointed at the emulator.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.home.std_cmd();
        cmd.arg("--db")
            .arg(self.home.db())
            .args(args)
            .env("SIPGATE_BASE_URL", self.emulator.base_url())
            .env("SIPGATE_USERNAME", "demo")
            .env("SIPGATE_PASSWORD", "demo");
        cmd
    }

    /// The same, speaking v2 to the emulator's `/v2` with its token.
    pub fn v2_std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.home.std_cmd();
        cmd.arg("--db")
            .arg(self.home.db())
            .args(args)
            .env("SIPGATE_API", "v2")
            .env("SIPGATE_BASE_URL", self.emulator.v2_base_url())
            .env("SIPGATE_TOKEN_ID", self.emulator.token_id())
            .env("SIPGATE_TOKEN", self.emulator.token());
        cmd
    }

    pub fn v2_cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.v2_std_cmd(args))
    }

    /// `sync ARGS` through v2.
    pub fn v2_sync(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["sync"];
        all.extend_from_slice(args);
        self.v2_std_cmd(&all).output().expect("run sync")
    }

    pub fn v2_sync_ok(&self, args: &[&str]) {
        let output = self.v2_sync(args);
        assert!(
            output.status.success(),
            "v2 sync {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn sync(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["sync"];
        all.extend_from_slice(args);
        self.cmd(&all).output().expect("run sync")
    }

    pub fn sync_ok(&self, args: &[&str]) {
        let output = self.sync(args);
        assert!(
            output.status.success(),
            "sync {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.home.db()).expect("open mirror")
    }

    pub fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (status, value) = self.http.control(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {value}");
        value
    }

    /// Every event of one type upstream, newest first, through the API.
    pub fn upstream_events(&self, kind: &str) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        loop {
            let page = self.http.json(&format!(
                "/my/events/{kind}/?limit=1000&offset={}",
                all.len()
            ));
            let items = page["events"][kind].as_array().expect("items").clone();
            let done = items.len() < 1000;
            all.extend(items);
            if done {
                return all;
            }
        }
    }

    /// An event's record upstream, through the API (its type from the mirror).
    pub fn upstream_event(&self, id: i64) -> serde_json::Value {
        let kind: String = self
            .db()
            .query_row("SELECT kind FROM mirror_events WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .expect("event in mirror");
        let plural = KINDS
            .iter()
            .find(|(_, k)| *k == kind)
            .map(|(p, _)| *p)
            .expect("known kind");
        let body = self.http.json(&format!("/my/events/{plural}/{id}/"));
        body.as_object()
            .and_then(|o| o.values().next().cloned())
            .expect("event envelope")
    }

    pub fn requests(&self) -> u64 {
        self.emulator.stats().requests_total
    }

    /// Entries in the mirror's outbox: edits and sends still waiting.
    pub fn outbox_len(&self) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .expect("count")
    }
}

/// The event types: API plural and mirror kind.
pub const KINDS: [(&str, &str); 4] = [
    ("calls", "call"),
    ("faxes", "fax"),
    ("sms", "sms"),
    ("voicemails", "voicemail"),
];

/// Asserts that the mirror holds exactly upstream's events, flags and contacts.
pub fn assert_mirror_equals_upstream(s: &Synced) {
    let db = s.db();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    for (plural, kind) in KINDS {
        let upstream = s.upstream_events(plural);
        let expected: std::collections::BTreeMap<String, (bool, bool, String, String)> = upstream
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().expect("id").to_string(),
                    (
                        e["read"]["value"].as_bool().expect("read"),
                        e["starred"]["value"].as_bool().expect("starred"),
                        e["labels"]["value"].as_str().expect("labels").to_string(),
                        e["location"].as_str().expect("location").to_string(),
                    ),
                )
            })
            .collect();
        let mut stmt = db
            .prepare("SELECT id, read, starred, labels, location FROM mirror_events WHERE kind = ?1 AND upstream_state = 'present'")
            .expect("prepare");
        let actual: std::collections::BTreeMap<String, (bool, bool, String, String)> = stmt
            .query_map([kind], |r| {
                Ok((
                    r.get::<_, i64>(0)?.to_string(),
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                ))
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(actual.len(), expected.len(), "{plural}: count");
        assert!(actual == expected, "{plural}: mirror differs from upstream");
    }
    let contacts = s.http.json("/my/contacts/");
    let expected: std::collections::BTreeSet<String> = contacts["Contacts"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["contactMeta"]["UUID"].as_str().expect("uuid").to_string())
        .collect();
    let mut stmt = db
        .prepare("SELECT uuid FROM mirror_contacts WHERE upstream_state = 'present'")
        .expect("prepare");
    let actual: std::collections::BTreeSet<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(actual, expected, "contacts");
}

/// `serve-phonebook` on a free port; returns the child and its base URL.
pub fn serve(
    synced: &Synced,
    extra: &[&str],
    password: Option<&str>,
) -> (std::process::Child, String) {
    let mut args = vec!["serve-phonebook", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut cmd = synced.std_cmd(&args);
    if let Some(p) = password {
        cmd.env("SIPMIRROR_PHONEBOOK_PASSWORD", p);
    }
    let (child, line) = spawn_server(cmd);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address")
        .to_string();
    (child, url)
}

/// Starts a server command and reads the first line it prints (where it listens).
pub fn spawn_server(mut cmd: std::process::Command) -> (std::process::Child, String) {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    (child, line)
}

/// `webhook` (the push API receiver) on a free port with the key `key`; returns the child and
/// the URL to post to (key included). Posts straight to it need no public URL of its own.
pub fn receiver(cmd: std::process::Command, key: &str) -> (std::process::Child, String) {
    let mut cmd = cmd;
    cmd.args([
        "webhook",
        "--listen",
        "127.0.0.1:0",
        "--public-url",
        "http://127.0.0.1/sipgate",
    ])
    .env("SIPMIRROR_WEBHOOK_KEY", key);
    let (child, line) = spawn_server(cmd);
    let address = line
        .split_whitespace()
        .skip_while(|w| *w != "on")
        .nth(1)
        .expect("address")
        .to_string();
    (child, format!("http://{address}/sipgate?key={key}"))
}

/// Opens the mirror with the system's `sqlite3` shell, runs `sql` and closes it, as a person
/// would; false when the machine has no `sqlite3`.
pub fn sqlite3_shell(db: &Path, sql: &str) -> bool {
    match std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .stdout(std::process::Stdio::null())
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "sqlite3 {sql:?} failed");
            true
        }
        Err(_) => false,
    }
}

/// Kills and reaps a child process when dropped, so a failing test leaves no server behind.
pub struct Stop(pub std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GETs a v2 resource with the emulator's token: the status and the body, if it is JSON.
pub fn v2_get(s: &Synced, path: &str) -> (u16, Option<serde_json::Value>) {
    let answer = s
        .http
        .client
        .get(format!("{}{path}", s.emulator.v2_base_url()))
        .basic_auth(s.emulator.token_id(), Some(s.emulator.token()))
        .send()
        .expect("request");
    (answer.status().as_u16(), answer.json().ok())
}

/// The same, for a resource that must answer 200 with JSON.
pub fn v2_json(s: &Synced, path: &str) -> serde_json::Value {
    match v2_get(s, path) {
        (200, Some(body)) => body,
        (status, _) => panic!("{path}: {status}"),
    }
}

/// Every v2 history entry upstream: id → (read, starred, archived, labels, note).
pub type V2Entries = std::collections::BTreeMap<String, (bool, bool, bool, String, String)>;

pub fn v2_upstream(s: &Synced) -> V2Entries {
    let mut all = std::collections::BTreeMap::new();
    for archived in ["false", "true"] {
        let mut offset = 0;
        loop {
            let page = v2_json(
                s,
                &format!("/history?archived={archived}&limit=1000&offset={offset}"),
            );
            let items = page["items"].as_array().expect("items").clone();
            for e in &items {
                let labels: Vec<&str> = e["labels"]
                    .as_array()
                    .expect("labels")
                    .iter()
                    .filter_map(|l| l.as_str())
                    .collect();
                all.insert(
                    e["id"].as_str().expect("id").to_string(),
                    (
                        e["read"].as_bool().expect("read"),
                        e["starred"].as_bool().expect("starred"),
                        e["archived"].as_bool().expect("archived"),
                        labels.join(","),
                        e["note"].as_str().unwrap_or_default().to_string(),
                    ),
                );
            }
            offset += items.len();
            if items.len() < 1000 {
                break;
            }
        }
    }
    all
}

pub fn assert_v2_mirror_equals_upstream(s: &Synced) {
    let expected = v2_upstream(s);
    let db = s.db();
    let mut stmt = db
        .prepare(
            "SELECT coalesce(m.upstream_id, e.id), e.read, e.starred, e.archived, e.labels,
                    coalesce(e.note, '')
             FROM events e JOIN mirror_events m ON m.id = e.id WHERE e.gone_upstream = 0",
        )
        .expect("prepare");
    let actual: V2Entries = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, rusqlite::types::Value>(0).map(|v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })?,
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(actual.len(), expected.len(), "count");
    let differing: Vec<_> = expected
        .iter()
        .filter(|(id, entry)| actual.get(*id) != Some(entry))
        .take(5)
        .map(|(id, entry)| format!("{id}: upstream {entry:?}, mirror {:?}", actual.get(id)))
        .collect();
    assert!(
        differing.is_empty(),
        "the v2 mirror differs from upstream: {differing:?}"
    );
}

/// The two dialects of sipgate's API, for tests that must hold for both.
#[derive(Clone, Copy, Debug)]
pub enum Dialect {
    Classic,
    V2,
}

pub const BOTH: [Dialect; 2] = [Dialect::Classic, Dialect::V2];

impl Dialect {
    pub fn sync(self, s: &Synced, args: &[&str]) -> std::process::Output {
        match self {
            Dialect::Classic => s.sync(args),
            Dialect::V2 => s.v2_sync(args),
        }
    }

    /// `sipmirror ARGS` through this dialect, as a plain process.
    pub fn std_cmd(self, s: &Synced, args: &[&str]) -> std::process::Command {
        match self {
            Dialect::Classic => s.std_cmd(args),
            Dialect::V2 => s.v2_std_cmd(args),
        }
    }

    /// `sipmirror ARGS` through this dialect.
    pub fn cmd(self, s: &Synced, args: &[&str]) -> Command {
        match self {
            Dialect::Classic => s.cmd(args),
            Dialect::V2 => s.v2_cmd(args),
        }
    }

    pub fn sync_ok(self, s: &Synced, args: &[&str]) {
        let output = self.sync(s, args);
        assert!(
            output.status.success(),
            "{self:?} sync {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Compares the mirror with upstream, read without faults.
    pub fn assert_equal(self, s: &Synced) {
        s.emulator
            .set_faults(sipmirror::emulator::Faults::default())
            .expect("faults");
        match self {
            Dialect::Classic => assert_mirror_equals_upstream(s),
            Dialect::V2 => assert_v2_mirror_equals_upstream(s),
        }
    }

    /// Event listings in a run: one per type, or (v2) two.
    pub fn listings(self) -> u64 {
        match self {
            Dialect::Classic => 4,
            Dialect::V2 => 8,
        }
    }
}

/// An emulator with `events` events and `contacts` contacts, and a mirror synced from it
/// through `dialect`.
pub fn synced(dialect: Dialect, events: usize, contacts: usize) -> Synced {
    let s = Synced::start(events, contacts);
    dialect.sync_ok(&s, &[]);
    s
}

/// Whether the `sqlite3` shell is there for the tests that run it. Without it they fail and
/// say so, unless `SIPMIRROR_TESTS_WITHOUT_SQLITE3=1` leaves them out on purpose (then they
/// say that they checked nothing).
pub fn has_sqlite3_shell() -> bool {
    let installed = std::process::Command::new("sqlite3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if installed {
        return true;
    }
    let left_out = std::env::var("SIPMIRROR_TESTS_WITHOUT_SQLITE3").is_ok_and(|v| v == "1");
    assert!(
        left_out,
        "this test runs the sqlite3 shell, which is not installed (Debian: apt install sqlite3); \
         SIPMIRROR_TESTS_WITHOUT_SQLITE3=1 leaves it out"
    );
    eprintln!("sqlite3 shell not installed and SIPMIRROR_TESTS_WITHOUT_SQLITE3=1: checked nothing");
    false
}

/// Waits until a run started with `SIPMIRROR_CRASH_AT=pause:...` has reached its pause point
/// and created `pause`. A run that ended instead fails the test.
pub fn wait_for_pause(pause: &Path, run: &mut std::process::Child) {
    while !pause.exists() {
        if let Some(status) = run.try_wait().expect("wait") {
            panic!("the run ended ({status}) before its pause point");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
