//! Hostile input and faults (issue 15): numbers on the command line, special files, locators
//! from content, terminal escapes in what content says, and what a broken environment gets.

use crate::common::{Run, TestEnv, mkfifo};

#[test]
fn numbers_out_of_range_are_refused_by_the_parser_not_a_panic() {
    let env = TestEnv::with_store();
    let file = env.write("a.txt", b"An article.\n");
    let path = file.display().to_string();
    for args in [
        vec!["check", "--jobs", "18446744073709551615"],
        vec!["check", "--jobs", "1000000000"],
        vec!["check", "--jobs", "100000"],
        vec!["check", "--jobs", "0"],
        vec!["check", "--timeout", "0"],
        vec!["check", "--max-bytes", "18446744073709551615"],
        vec!["add", "--retries", "4294967296", path.as_str()],
        vec!["diff", "--deadline", "1e19", path.as_str(), path.as_str()],
        vec!["diff", "--deadline", "NaN", path.as_str(), path.as_str()],
        vec!["--lock-timeout", "1e300", "list"],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid value"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // The largest accepted worker count on a one-source store starts one worker, and works.
    env.run(&["add", path.as_str()]).ok();
    env.run(&["check", "--jobs", "256"]).ok();
}

/// Every byte verbatim wrote or showed for this store: its files, its whole git history as
/// stock git prints it, and exports of it.
fn everything_written(env: &TestEnv, shown: &[&crate::common::Run]) -> String {
    let mut all = String::new();
    for run in shown {
        all.push_str(&run.stdout);
        all.push_str(&run.stderr);
    }
    all.push_str(
        &env.git(&["log", "--all", "-p", "--format=%H %s%n%b"])
            .ok()
            .stdout,
    );
    env.run(&["export", "--bagit", "bag"]).ok();
    env.run(&["export", "--warc", "out.warc"]).ok();
    let mut stack = vec![env.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    all
}

#[test]
fn credentials_in_urls_are_never_stored_sent_on_or_shown() {
    use crate::common::{Reply, Server};
    let page = b"<html><head><title>Page</title></head><body><article><p>An article paragraph long enough to be read as the article itself.</p></article></body></html>".to_vec();
    let routes = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let server = Server::start(routes.clone());
    let port = server
        .base
        .trim_start_matches("http://127.0.0.1:")
        .to_owned();
    routes.lock().expect("routes").insert(
        "/start".to_owned(),
        Reply::status(302).header(
            "Location",
            &format!("http://hop:Hop-Secret@127.0.0.1:{port}/page"),
        ),
    );
    routes
        .lock()
        .expect("routes")
        .insert("/page".to_owned(), Reply::ok("text/html", page.clone()));
    let env = TestEnv::with_store();
    let given = format!("http://me:Given-Secret@127.0.0.1:{port}/start");
    let add = env.run(&["add", "--no-learn", &given]).ok();
    assert!(add.stderr.contains("password"), "{}", add.stderr);
    let list = env.run(&["list"]).ok();
    let log = env.run(&["log", "--format", "json", "1"]);
    let check = env.run(&["check"]);
    // A WARC whose target carries credentials.
    let warc = crate::common::warc_record(
        "resource",
        "http://arc:Warc-Secret@example.com/doc",
        "2024-01-01T00:00:00Z",
        "text/plain",
        b"An archived document.\n",
    );
    // Outside the directory searched for secrets: the archive itself holds one.
    let outside = tempfile::tempdir().expect("temp dir");
    let archive = outside.path().join("in.warc");
    std::fs::write(&archive, warc).expect("write warc");
    let import = env.run(&["import", &archive.display().to_string()]).ok();
    // A locator that does not parse still is not echoed with its password.
    let bad = env.run(&["add", "http://me:Bad-Secret@exa mple.com/"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let all = everything_written(&env, &[&add, &list, &log, &check, &import, &bad]);
    for secret in ["Given-Secret", "Hop-Secret", "Warc-Secret", "Bad-Secret"] {
        assert!(!all.contains(secret), "{secret} was written or shown");
    }
    assert!(
        all.contains(&format!("127.0.0.1:{port}/page")),
        "the redirect is recorded"
    );
    let hits = server.hits.lock().expect("hits").clone();
    assert!(hits.iter().any(|h| h == "/page"), "{hits:?}");
}

#[test]
fn warc_targets_that_are_not_web_urls_never_become_local_sources() {
    let env = TestEnv::with_store();
    let secret = env.write("secret.txt", b"Top secret local file.\n");
    let mut warc = Vec::new();
    for (i, target) in [
        format!("file://{}", secret.display()),
        secret.display().to_string(),
        "secret.txt".to_owned(),
        "javascript:alert(1)".to_owned(),
        "data:text/plain,hello".to_owned(),
        "urn:uuid:0000".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        warc.extend(crate::common::warc_record(
            "resource",
            target,
            &format!("2024-01-0{}T00:00:00Z", i + 1),
            "text/plain",
            b"Archived bytes.\n",
        ));
    }
    warc.extend(crate::common::warc_record(
        "resource",
        "https://example.com/ok",
        "2024-02-01T00:00:00Z",
        "text/plain",
        b"A web page.\n",
    ));
    std::fs::write(env.path().join("in.warc"), warc).expect("write warc");
    let import = env.run(&["import", "in.warc"]);
    assert!(
        import.stderr.contains("not an http(s) URL"),
        "{}",
        import.stderr
    );
    let list = env.run(&["list", "--format", "json"]).ok();
    let sources: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let locators: Vec<&str> = sources
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["locator"].as_str())
        .collect();
    assert_eq!(locators, ["https://example.com/ok"], "{}", list.stdout);
    let check = env.run(&["check", "--format", "json"]);
    assert!(!check.stdout.contains("Top secret"), "{}", check.stdout);
}

/// A server whose every answer is a secret, counting the requests that reach it.
fn secret_server() -> crate::common::Server {
    crate::common::Server::dynamic(|_, _| {
        crate::common::Reply::ok(
            "text/html",
            "<html><body><article><p>INTERNAL-SECRET metadata token for the instance role, long enough to be an article.</p></article></body></html>",
        )
    })
}

#[test]
fn a_citing_document_cannot_make_verbatim_fetch_internal_addresses() {
    let server = secret_server();
    let port = server
        .base
        .trim_start_matches("http://127.0.0.1:")
        .to_owned();
    let env = TestEnv::with_store();
    let targets = [
        format!("http://127.0.0.1:{port}/a"),
        format!("http://localhost:{port}/b"),
        format!("http://[::ffff:127.0.0.1]:{port}/c"),
        format!("http://0.0.0.0:{port}/d"),
        format!("http://2130706433:{port}/e"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fe80::1]/f".to_owned(),
        "http://[fd00::1]/g".to_owned(),
        "http://10.0.0.1/h".to_owned(),
        "http://224.0.0.1/i".to_owned(),
    ];
    let mut doc = String::new();
    for t in &targets {
        doc.push_str(&format!(
            "\"INTERNAL-SECRET metadata token\" ([x]({t})).\n\n"
        ));
    }
    env.write("pr.md", doc.as_bytes());
    let start = std::time::Instant::now();
    let run = env.run(&["cite", "check", "--format", "json", "pr.md"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        server.hits.lock().expect("hits").is_empty(),
        "the server was reached"
    );
    assert!(!run.stdout.contains("instance role"), "{}", run.stdout);
    assert!(run.stderr.contains("internal address"), "{}", run.stderr);
    let list = env.run(&["list", "--format", "json"]).ok();
    assert_eq!(list.stdout.trim(), "[]", "nothing was stored");
    // The store's owner may allow it.
    let run = env.run(&[
        "cite",
        "check",
        "--allow-private",
        "--format",
        "json",
        "pr.md",
    ]);
    assert!(
        !server.hits.lock().expect("hits").is_empty(),
        "{}",
        run.stderr
    );
}

#[test]
fn the_timeout_bounds_the_whole_fetch_with_every_hop_and_retry_wait() {
    use crate::common::{Reply, Server};
    use std::time::{Duration, Instant};
    // Eleven hops of one second each: per hop, each is within a 3 s timeout.
    let slow_hops = Server::dynamic(|path, _| {
        std::thread::sleep(Duration::from_secs(1));
        let n: u32 = path.trim_start_matches('/').parse().unwrap_or(0);
        Reply::status(302).header("Location", &format!("/{}", n + 1))
    });
    let env = TestEnv::with_store();
    let start = Instant::now();
    let run = env.run(&[
        "add",
        "--no-learn",
        "--timeout",
        "3",
        "--max-redirects",
        "20",
        &slow_hops.url("/0"),
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    // A server asking to be retried later than the whole fetch may take gets no retry.
    let busy = Server::dynamic(|_, _| Reply::status(503).header("Retry-After", "5"));
    let start = Instant::now();
    let run = env.run(&["add", "--no-learn", "--timeout", "2", &busy.url("/")]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(busy.hits.lock().expect("hits").len(), 1);
}

#[test]
fn a_304_to_an_unconditional_request_and_malformed_http_are_errors_not_retried() {
    use std::io::{Read as _, Write as _};
    let server = crate::common::Server::dynamic(|_, _| crate::common::Reply::status(304));
    let env = TestEnv::with_store();
    let run = env.run(&["add", "--no-learn", &server.url("/")]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("304"), "{}", run.stderr);
    let list = env.run(&["list", "--format", "json"]).ok();
    assert_eq!(list.stdout.trim(), "[]", "an empty version was stored");

    // A server that answers every connection with garbage.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let _ = conn.read(&mut [0u8; 4096]);
            let _ = conn.write_all(b"NOT HTTP AT ALL\r\n\r\n");
        }
    });
    let run = env.run(&["add", "--no-learn", "--retries", "3", &url]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn fifos_sockets_and_devices_are_refused_never_opened_blocking() {
    let env = TestEnv::with_store();
    let fifo = env.path().join("pipe");
    mkfifo(&fifo);
    let socket = env.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind socket");
    for special in [
        fifo.display().to_string(),
        socket.display().to_string(),
        "/dev/null".to_owned(),
        "/dev/zero".to_owned(),
    ] {
        let run = env.run_within(&["add", &special], 10).fails_with(2);
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
        env.run_within(&["diff", &special, &special], 10)
            .fails_with(2);
    }
    env.run_within(&["import", &fifo.display().to_string()], 10)
        .fails_with(2);
    // A source that becomes a FIFO gets `error` in check, and the other sources are judged.
    let a = env.write("a.txt", b"First article.\n");
    let b = env.write("b.txt", b"Second article.\n");
    env.run(&["add", &a.display().to_string(), &b.display().to_string()])
        .ok();
    std::fs::remove_file(&a).expect("remove");
    mkfifo(&a);
    std::fs::write(&b, b"Second article, edited.\n").expect("edit");
    let run = env.run_within(&["check", "--format", "json"], 20);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let verdicts: Vec<&str> = report["results"]
        .as_array()
        .or_else(|| report.as_array())
        .expect("results")
        .iter()
        .filter_map(|r| r["verdict"].as_str())
        .collect();
    assert!(
        verdicts.contains(&"error") && verdicts.contains(&"edited"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_endless_source_list_is_refused_not_read_into_memory() {
    let env = TestEnv::with_store();
    let run = env
        .run_within(&["add", "--from", "/dev/zero"], 10)
        .fails_with(2);
    assert!(run.stderr.contains("line 1 is over"), "{}", run.stderr);
}

#[test]
fn terminal_controls_from_content_are_escaped_in_human_output_and_exact_in_json() {
    use crate::common::{Reply, Server};
    // ESC sequences (clear screen, OSC 52 clipboard write), a C1 CSI and a bidi override.
    let title_html = "Hi&#27;[2J&#27;]52;c;ZXZpbA==&#7; \u{9b}31m &#x202e;gnp.exe";
    let title = "Hi\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7} \u{9b}31m \u{202e}gnp.exe";
    let page = |body: &str| {
        format!(
            "<html><head><title>{title_html}</title></head><body><article><p>{body} An article paragraph long enough to be read as the article itself.</p><p>Quote &#27;]0;pwned&#7; here.</p></article></body></html>"
        )
    };
    let routes = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    routes
        .lock()
        .expect("routes")
        .insert("/a".to_owned(), Reply::ok("text/html", page("First.")));
    let server = Server::start(routes.clone());
    let env = TestEnv::with_store();
    let url = server.url("/a");
    let mut outputs = vec![env.run(&["add", "--no-learn", &url]).ok()];
    routes
        .lock()
        .expect("routes")
        .insert("/a".to_owned(), Reply::ok("text/html", page("Second.")));
    outputs.push(env.run(&["check"]));
    for args in [
        vec!["list"],
        vec!["log", &url],
        vec!["diff", &url],
        vec!["configure", &url],
        vec!["cite", "link", &url],
        vec!["cite", "link", "--format", "robust-link", &url],
    ] {
        outputs.push(env.run(&args));
    }
    for run in &outputs {
        for shown in [&run.stdout, &run.stderr] {
            assert!(
                !shown.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']),
                "raw control shown: {shown:?}"
            );
        }
    }
    let all: String = outputs.iter().map(|r| r.stdout.clone()).collect();
    assert!(all.contains("Hi\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07"), "{all}");
    assert!(all.contains("\\u{202e}gnp.exe"), "{all}");
    // JSON keeps the title exactly.
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(list[0]["title"], title);
}

#[test]
fn pages_nested_without_end_neither_crash_nor_stall_a_run() {
    let env = TestEnv::with_store();
    let para =
        "<p>The article text, long enough to be read as an article paragraph by the extractor.</p>";
    let deep = format!(
        "<html><head><title>Deep</title></head><body>{}{para}{}</body></html>",
        "<div>".repeat(20_000),
        "</div>".repeat(20_000)
    );
    let unclosed = format!(
        "<html><body>{}</body></html>",
        "<div><span><b><i>x".repeat(20_000)
    );
    let spans = format!(
        "<html><body>{}{para}</body></html>",
        "<span>".repeat(50_000)
    );
    let normal = env.write(
        "normal.html",
        format!("<html><body>{para}</body></html>").as_bytes(),
    );
    let mut paths = vec![normal.display().to_string()];
    for (name, page) in [
        ("deep.html", &deep),
        ("unclosed.html", &unclosed),
        ("spans.html", &spans),
    ] {
        paths.push(env.write(name, page.as_bytes()).display().to_string());
    }
    let mut args = vec!["add"];
    args.extend(paths.iter().map(String::as_str));
    env.run_within(&args, 60).ok();
    let text = env.run_within(&["show", "deep.html"], 30).ok().stdout;
    assert!(text.contains("The article text"), "{text}");
    // A check of a store with the hostile pages still judges and records the others.
    std::fs::write(
        &normal,
        format!(
            "<html><body>{para}<p>A correction was added to the article today.</p></body></html>"
        ),
    )
    .expect("edit");
    std::fs::write(
        env.path().join("deep.html"),
        deep.replace("The article", "An article"),
    )
    .expect("edit");
    let run = env.run_within(&["check", "--format", "json"], 60);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["summary"]["edited"], 2, "{}", run.stdout);
}

#[test]
fn one_unreadable_citing_document_does_not_stop_the_others() {
    let env = TestEnv::with_store();
    let source = env.write(
        "source.txt",
        b"The committee approved the budget on Tuesday.\n",
    );
    env.run(&["add", &source.display().to_string()]).ok();
    env.write(
        "good.md",
        format!(
            "\"The committee approved the budget\" ([x](file://{})).\n",
            source.display()
        )
        .as_bytes(),
    );
    std::fs::write(
        env.path().join("deep.bib"),
        format!(
            "@misc{{a, note = {}{}}}\n",
            "{".repeat(100_000),
            "}".repeat(100_000)
        ),
    )
    .expect("write");
    mkfifo(&env.path().join("pipe.md"));
    let run = env.run_within(
        &[
            "cite",
            "check",
            "--offline",
            "--format",
            "json",
            "deep.bib",
            "pipe.md",
            "good.md",
        ],
        30,
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("deep.bib") && run.stderr.contains("pipe.md"),
        "{}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        report["citations"].as_array().map(Vec::len),
        Some(1),
        "{}",
        run.stdout
    );
}

/// Mounts `what` at `at` (`mount` with `args`), or `None` where this machine does not let the
/// test (not root, no mount namespace): the fault then cannot be made here, and the test says so.
struct Mount(std::path::PathBuf);

impl Mount {
    fn new(args: &[&str], at: &std::path::Path) -> Option<Mount> {
        let ok = std::process::Command::new("mount")
            .args(args)
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("cannot mount here (not root?): the fault is not injected");
        }
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_read_only_or_full_store_is_a_store_problem_naming_the_cause() {
    let env = TestEnv::new();
    let doc = env.write("doc.txt", b"A document.\n");
    let big = env.write("big.bin", &vec![7u8; 600 << 10]);
    // A full disk: a store on a small tmpfs.
    let full = env.path().join("full");
    std::fs::create_dir(&full).expect("mkdir");
    let Some(_full) = Mount::new(&["-t", "tmpfs", "-o", "size=400k", "tmpfs"], &full) else {
        return;
    };
    let store = full.join("s");
    env.run_on(&store, &["init"]).ok();
    env.run_on(&store, &["add", &doc.display().to_string()])
        .ok();
    let head = env
        .run_on(&store, &["list", "--format", "json"])
        .ok()
        .stdout;
    let run = env
        .run_on(&store, &["add", &big.display().to_string()])
        .fails_with(3);
    assert!(
        run.stderr.contains("disk holding the store is full"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("report"), "{}", run.stderr);
    assert_eq!(
        env.run_on(&store, &["list", "--format", "json"])
            .ok()
            .stdout,
        head
    );
    // A read-only store: a bind mount of a store, remounted read-only.
    let source = env.path().join("rw");
    let store = source.join("s");
    env.run_on(&store, &["init"]).ok();
    env.run_on(&store, &["add", &doc.display().to_string()])
        .ok();
    let ro = env.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    let Some(_bind) = Mount::new(&["--bind", &source.display().to_string()], &ro) else {
        return;
    };
    let Some(_ro) = Mount::new(&["-o", "remount,ro,bind"], &ro) else {
        return;
    };
    std::fs::write(&doc, b"A document, edited.\n").expect("edit");
    let run = env
        .run_on(&ro.join("s"), &["add", &big.display().to_string()])
        .fails_with(3);
    assert!(
        run.stderr.contains("read-only file system"),
        "{}",
        run.stderr
    );
    let run = env.run_on(&ro.join("s"), &["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
}

#[test]
fn a_check_where_no_source_could_be_fetched_exits_2() {
    let env = TestEnv::with_store();
    let server = crate::common::Server::dynamic(|_, _| {
        crate::common::Reply::ok("text/plain", "An article long enough to be one.\n")
    });
    env.run(&["add", "--no-learn", &server.url("/a"), &server.url("/b")])
        .ok();
    // The server goes away: as if the network were down.
    drop(server);
    let run = env.run(&["check", "--retries", "0", "--timeout", "2"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("none of the 2 sources"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("unreachable"),
        "the report is still printed: {}",
        run.stdout
    );
}

#[test]
fn a_source_that_came_from_content_is_checked_as_content() {
    use crate::common::{Reply, Server};
    let page = "<html><body><article><p>The council approved the budget on Tuesday, by seven votes to two.</p></article></body></html>";
    let server = Server::dynamic(move |_, _| Reply::ok("text/html", page));
    let env = TestEnv::with_store();
    let url = server.url("/report");
    env.write(
        "pr.md",
        format!("\"The council approved the budget\" ([x]({url})).\n").as_bytes(),
    );
    // The owner lets this document reach loopback once; the source it captured stays content.
    env.run(&["cite", "check", "--allow-private", "pr.md"]).ok();
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let id = list[0]["id"].as_str().expect("id").to_owned();
    let record = env.git(&[
        "show",
        &format!("main:sources/{}/{}/{id}/source.json", &id[..2], &id[2..4]),
    ]);
    assert!(
        record.stdout.contains("\"from_content\": true"),
        "{}",
        record.stdout
    );
    let hits = server.hits.lock().expect("hits").len();
    let run = env.run(&["check", "--format", "json"]);
    assert_eq!(
        server.hits.lock().expect("hits").len(),
        hits,
        "check reached loopback"
    );
    assert!(run.stdout.contains("internal address"), "{}", run.stdout);
    env.run(&["check", "--allow-private"]).ok();
    assert!(server.hits.lock().expect("hits").len() > hits);
    // A source the owner added is the owner's: check reaches it.
    let owner = server.url("/owner");
    env.run(&["add", "--no-learn", &owner]).ok();
    let before = server.hits.lock().expect("hits").len();
    env.run(&["check", &owner]).ok();
    assert!(server.hits.lock().expect("hits").len() > before);
}

#[test]
fn the_owner_s_fetches_go_through_the_environment_s_proxy_without_a_local_lookup() {
    use crate::common::{Reply, Server};
    // A proxy: the name below resolves nowhere, so only the proxy can carry the request.
    let proxy = Server::dynamic(|_, _| {
        Reply::ok(
            "text/plain",
            "An article served through the proxy, long enough.\n",
        )
    });
    let env = TestEnv::with_store();
    let run = crate::common::Run::from_output(
        env.command()
            .env("HTTP_PROXY", &proxy.base)
            .args(["add", "--no-learn", "http://nonexistent.invalid/page"])
            .output()
            .expect("run"),
    );
    // The request reached the proxy (tiny_http answers a proxy-form request in a way ureq
    // calls malformed, so the add itself fails), with no lookup of the name here.
    assert!(!run.stderr.contains("lookup"), "{}", run.stderr);
    let hits = proxy.hits.lock().expect("hits").clone();
    assert!(
        hits.iter().any(|h| h.contains("nonexistent.invalid")),
        "{hits:?} {}",
        run.stderr
    );
}

#[test]
fn a_panic_while_reading_one_source_costs_that_source_alone() {
    // Debug builds panic on a page holding the marker named by this variable (an injected
    // fault: no known input panics), deep in extraction, on the worker that reads it.
    const MARKER: &str = "injected-fault-3f9a";
    let env = TestEnv::with_store();
    let para = "An article paragraph, long enough to be read as the article itself.";
    let page = |extra: &str| format!("<html><body><p>{para}</p>{extra}</body></html>");
    let a = env.write("a.html", page("").as_bytes());
    let b = env.write("b.html", page(&format!("<p>{MARKER}</p>")).as_bytes());
    let c = env.write("c.html", page("").as_bytes());
    // Without the variable the marker is only text.
    env.run(&["add", "a.html", "b.html", "c.html"]).ok();

    for path in [&a, &b, &c] {
        let old = std::fs::read_to_string(path).expect("read");
        std::fs::write(
            path,
            old.replace("</body>", "<p>A correction was added today.</p></body>"),
        )
        .expect("edit");
    }
    let run = Run::from_output(
        env.command()
            .env("VERBATIM_TEST_PANIC_MARKER", MARKER)
            .args(["check", "--jobs", "2", "--format", "json"])
            .output()
            .expect("run verbatim"),
    );
    assert!(
        !run.stderr.contains("Aborted") && run.code != 101,
        "{}",
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["summary"]["edited"], 2, "{}", run.stdout);
    let results = report["results"].as_array().expect("results");
    let b_result = results
        .iter()
        .find(|r| r["locator"].as_str().is_some_and(|l| l.ends_with("b.html")))
        .expect("b's result");
    assert_eq!(b_result["verdict"], "error", "{b_result}");
    let reason = b_result["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("injected fault") && reason.contains("please report it"),
        "{reason}"
    );
    // The others' edits were recorded: each has a second version; the panicked one has not.
    for (name, versions) in [("a.html", 2), ("b.html", 1), ("c.html", 2)] {
        let log = env.run(&["log", name, "--format", "json"]).ok().stdout;
        let log: serde_json::Value = serde_json::from_str(&log).expect("log json");
        assert_eq!(
            log.as_array().map(Vec::len),
            Some(versions),
            "{name}: {log}"
        );
    }
    env.run(&["verify"]).ok();

    // add: the marked input fails with its own error, the other is stored.
    let d = env.write("d.html", page(&format!("<p>{MARKER}</p>")).as_bytes());
    let e = env.write("e.html", page("").as_bytes());
    let run = Run::from_output(
        env.command()
            .env("VERBATIM_TEST_PANIC_MARKER", MARKER)
            .args(["add", "--jobs", "2"])
            .arg(&d)
            .arg(&e)
            .output()
            .expect("run verbatim"),
    );
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert_ne!(run.code, 101, "{}", run.stderr);
    assert!(run.stderr.contains("please report it"), "{}", run.stderr);
    let list = env.run(&["list"]).ok().stdout;
    assert!(
        list.contains("e.html") && !list.contains("d.html"),
        "{list}"
    );
}

#[test]
fn unwritable_temporary_files_are_blamed_on_the_temporary_directory_not_the_store() {
    let env = TestEnv::with_store();
    env.write("a.txt", b"An article.\n");
    env.run(&["add", "a.txt"]).ok();
    std::fs::write(env.path().join("a.txt"), b"An article, edited.\n").expect("edit");
    let run = Run::from_output(
        env.command()
            .env("TMPDIR", env.path().join("no-such-directory"))
            .args(["check"])
            .output()
            .expect("run verbatim"),
    );
    // check exits 0, 1 or 2 ("could not run"), whatever stopped it.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write temporary files") && run.stderr.contains("TMPDIR"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("store may be damaged"),
        "{}",
        run.stderr
    );
    // Nothing was recorded, and the store is intact.
    env.run(&["verify"]).ok();
}
