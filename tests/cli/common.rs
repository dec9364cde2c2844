//! The test environment: a temp dir, a cleared environment, the built binary.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The path of the binary under test, built by cargo for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_verbatim"))
}

/// The repository's `seeds/` directory.
pub fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

/// The five seed article files, sorted.
pub fn seed_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seeds_dir())
        .expect("seeds/ is part of the repository")
        .map(|e| e.expect("readable seeds/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

/// A temporary working directory with a store at `<dir>/.verbatim` once `init` runs.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stdout_bytes: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts this exit code and a one-line error on stderr.
    #[track_caller]
    pub fn fails_with(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "error must be one line:\n{}",
            self.stderr
        );
        assert!(
            self.stderr.starts_with("verbatim: error: "),
            "stderr: {}",
            self.stderr
        );
        self
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    /// A new environment with an initialised store.
    pub fn with_store() -> TestEnv {
        let env = TestEnv::new();
        env.run(&["init"]).ok();
        env
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The default store directory.
    pub fn store(&self) -> PathBuf {
        self.path().join(".verbatim")
    }

    /// A command for the binary with a cleared environment, run in the temp dir.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(self.path())
            .env_clear()
            .env("HOME", self.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("VERBATIM_LOCK_TIMEOUT", "10");
        cmd
    }

    /// Runs the binary with `args` and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command().args(args).output().expect("run verbatim"))
    }

    /// Runs the binary with `args`, failing the test if it has not finished within `secs`.
    pub fn run_within(&self, args: &[&str], secs: u64) -> Run {
        let child = self
            .command()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn verbatim");
        Run::from_output(wait_within(child, secs, &format!("verbatim {args:?}")))
    }

    /// Runs the binary on the store at `store` (`--store`) with `args`.
    pub fn run_on(&self, store: &Path, args: &[&str]) -> Run {
        let store = store.display().to_string();
        let mut all = vec!["--store", store.as_str()];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Writes a file in the temp dir and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// The commit the store's branch points at: unchanged means nothing was written.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "refs/heads/main"])
            .ok()
            .stdout
            .trim()
            .to_owned()
    }

    /// Takes the store's writer lock from the test process, as another run would hold it.
    pub fn hold_lock(&self) -> std::fs::File {
        let lock = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.store().join("verbatim.lock"))
            .expect("open lock file");
        lock.lock().expect("take the lock");
        lock
    }

    /// Runs stock `git` in the store directory.
    pub fn git(&self, args: &[&str]) -> Run {
        Run::from_output(
            Command::new("git")
                .arg("-C")
                .arg(self.store())
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", self.path())
                .output()
                .expect("run git"),
        )
    }
}

/// Held by tests that calibrate kill delays on a timed run, so that they run one at a time: the
/// disk load of one (copies, fsyncs) slowed the other's calibration run fivefold, and most of its
/// kills then landed after the run had ended.
pub fn timing_sensitive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed while holding it leaves nothing to protect.
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An HTTP server on 127.0.0.1 (random free port) answering from a route table; stops on drop.
pub struct Server {
    server: std::sync::Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub base: String,
    pub hits: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// One canned response.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: format!("status {status}").into_bytes(),
        }
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl Server {
    /// Serves `routes` (path → reply, changeable while running); unknown paths get 404.
    pub fn start(
        routes: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Reply>>>,
    ) -> Server {
        let server =
            std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (srv, log) = (server.clone(), hits.clone());
        let thread = std::thread::spawn(move || {
            for request in srv.incoming_requests() {
                let path = request.url().to_owned();
                log.lock().expect("hits lock").push(path.clone());
                let reply = routes
                    .lock()
                    .expect("routes lock")
                    .get(&path)
                    .cloned()
                    .unwrap_or_else(|| Reply::status(404));
                let mut response =
                    tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                for (k, v) in reply.headers {
                    response.add_header(
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes())
                            .expect("valid header"),
                    );
                }
                let _ = request.respond(response);
            }
        });
        Server {
            server,
            thread: Some(thread),
            base: format!("http://127.0.0.1:{port}"),
            hits,
        }
    }

    /// Serves whatever `handler` answers for each request's path and headers (lower-case names).
    /// Each request is answered on its own thread, so slow handlers overlap as on a real server.
    pub fn dynamic(
        handler: impl Fn(&str, &[(String, String)]) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let handler = std::sync::Arc::new(handler);
        let server =
            std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (srv, log) = (server.clone(), hits.clone());
        let thread = std::thread::spawn(move || {
            for request in srv.incoming_requests() {
                let path = request.url().to_owned();
                log.lock().expect("hits lock").push(path.clone());
                let headers: Vec<(String, String)> = request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.as_str().to_owned(),
                        )
                    })
                    .collect();
                let handler = handler.clone();
                std::thread::spawn(move || {
                    let reply = handler(&path, &headers);
                    let mut response =
                        tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    for (k, v) in reply.headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes())
                                .expect("valid header"),
                        );
                    }
                    let _ = request.respond(response);
                });
            }
        });
        Server {
            server,
            thread: Some(thread),
            base: format!("http://127.0.0.1:{port}"),
            hits,
        }
    }

    /// Serves a fixed route table.
    pub fn with(routes: &[(&str, Reply)]) -> Server {
        let map = routes
            .iter()
            .map(|(p, r)| ((*p).to_owned(), r.clone()))
            .collect();
        Server::start(std::sync::Arc::new(std::sync::Mutex::new(map)))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Replaces every match of each pattern with its placeholder, for snapshots of output that
/// holds per-run values (hashes, ids, times).
pub fn redact_patterns(text: &str, patterns: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (pattern, with) in patterns {
        out = regex::Regex::new(pattern)
            .expect("pattern")
            .replace_all(&out, *with)
            .into_owned();
    }
    out
}

/// One WARC record, as another tool would write it.
pub fn warc_record(kind: &str, uri: &str, date: &str, content_type: &str, block: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{kind}-{date}>\r\nWARC-Date: {date}\r\nWARC-Target-URI: {uri}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// A `python3` command that can import the pinned Python peers of `tests/peers.txt` (bagit.py,
/// warcio), installed on first use into a virtual environment under cargo's target directory.
///
/// The suite provisions its own peers so that `cargo test --locked` passes by itself on a fresh
/// machine with only python3: a reader of the README should not have to install anything first.
/// A file lock makes concurrent test processes (nextest runs one per test) install it once.
pub fn peer_python() -> Command {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    match READY.get_or_init(provision_peers) {
        Ok(python) => {
            let mut command = Command::new(python);
            // Nothing from the user's own Python set-up leaks into the peers.
            command
                .env_remove("PYTHONPATH")
                .env("PYTHONNOUSERSITE", "1");
            command
        }
        Err(why) => panic!("{why}"),
    }
}

fn provision_peers() -> Result<PathBuf, String> {
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock = std::fs::File::create(root.join(".lock"))
        .map_err(|e| format!("cannot create the peers' lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot lock the peers' directory: {e}"))?;
    let venv = root.join("venv");
    let python = venv.join("bin/python3");
    let stamp = venv.join("requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && python.exists() {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let run = |command: &mut Command| -> Result<(), String> {
        let out = command
            .output()
            .map_err(|e| format!("cannot run {command:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{command:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).map_err(|e| {
        format!("the tests need python3 with venv (Debian: apt-get install python3-venv): {e}")
    })?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .map_err(|e| format!("cannot install the tests' Python peers from PyPI: {e}"))?;
    std::fs::write(&stamp, &wanted)
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(python)
}

/// Makes a named pipe at `path`, with no writer: opening it to read would wait for one.
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// Waits for `child`, killing it if it has not finished within `secs`: a hang fails the test
/// (naming `what`) instead of hanging the suite.
pub fn wait_within(mut child: std::process::Child, secs: u64, what: &str) -> Output {
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait for the child").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still ran after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("the child's output")
}
