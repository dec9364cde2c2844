//! Every kind of input: file encodings byte for byte, bad input with clear errors and an untouched
//! store, and HTTP over loopback (headers, redirects, error statuses, limits).

use std::io::Read as _;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::{Reply, Server, TestEnv};

fn only_source(env: &TestEnv) -> serde_json::Value {
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    list[0].clone()
}

fn first_version(env: &TestEnv, id: &str) -> serde_json::Value {
    let log: serde_json::Value =
        serde_json::from_str(&env.run(&["log", id, "--format", "json"]).ok().stdout).expect("json");
    log[0].clone()
}

#[test]
fn encodings_round_trip_byte_for_byte_and_decode_right() {
    let utf16 = |bom: &[u8], be: bool| {
        let mut v = bom.to_vec();
        for u in "Grüße – “quoted”".encode_utf16() {
            v.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        v
    };
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        (
            "latin1.txt",
            b"Caf\xe9 na\xefve fa\xe7ade, d\xe9j\xe0 vu \xe0 la cr\xe8me br\xfbl\xe9e.\n".to_vec(),
            Some("Café naïve façade, déjà vu à la crème brûlée.\n"),
        ),
        (
            "cp1252.txt",
            b"He said \x93no\x94 \x96 twice, for \x80 5.\n".to_vec(),
            Some("He said “no” – twice, for € 5.\n"),
        ),
        (
            "utf16le.txt",
            utf16(&[0xff, 0xfe], false),
            Some("Grüße – “quoted”"),
        ),
        (
            "utf16be.txt",
            utf16(&[0xfe, 0xff], true),
            Some("Grüße – “quoted”"),
        ),
        (
            "bom8.txt",
            b"\xef\xbb\xbfBOM \xe2\x9c\x93\n".to_vec(),
            Some("BOM ✓\n"),
        ),
        ("all.bin", (0..=255u8).cycle().take(4096).collect(), None),
    ];
    for (name, bytes, text) in cases {
        let env = TestEnv::with_store();
        let path = env.write(name, &bytes);
        env.run(&["add", path.to_str().expect("utf-8")]).ok();
        let id = only_source(&env)["id"].as_str().expect("id").to_owned();
        assert_eq!(
            env.run(&["show", &id, "--raw"]).ok().stdout_bytes,
            bytes,
            "{name} raw"
        );
        match text {
            Some(t) => assert_eq!(env.run(&["show", &id]).ok().stdout, t, "{name} text"),
            None => {
                assert!(
                    env.run(&["show", &id]).ok().stdout.is_empty(),
                    "binary has no text"
                );
                assert_eq!(first_version(&env, &id)["charset"], serde_json::Value::Null);
            }
        }
    }
}

#[test]
fn bad_inputs_fail_with_one_line_and_leave_the_store_untouched() {
    let env = TestEnv::with_store();
    env.write("dir/inner.txt", b"x");
    let before = env.head();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["add", "missing.txt"], 2, "no such file"),
        (&["add", "dir"], 2, "is a directory"),
        (&["add", "ftp://example.com/a"], 2, "unsupported URL scheme"),
        (&["add", "http://exa mple.com/"], 2, "malformed URL"),
        (&["add", "http://"], 2, "malformed URL"),
        (
            &["add", "file://remote-host/x"],
            2,
            "does not name a local file",
        ),
        (&["log", "0123456789abcdef"], 2, "no source matches"),
        (&["show", "nonsense"], 2, "no source matches"),
        (&["init"], 3, "already exists"),
    ];
    for (args, code, needle) in cases {
        let run = env.run(args).fails_with(*code);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert_eq!(env.head(), before, "{args:?} changed the store");
    }
    // A file that exists but cannot be read (only meaningful when not running as root).
    let secret = env.write("secret.txt", b"s");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    if std::fs::File::open(&secret).is_err() {
        env.run(&["add", "secret.txt"]).fails_with(2);
        assert_eq!(env.head(), before);
    }
    // Unknown version and a time before the first capture.
    let a = env.write("a.txt", b"a");
    env.run(&["add", a.to_str().expect("utf-8")]).ok();
    env.run(&["show", "a.txt", "--version", "9"]).fails_with(2);
    env.run(&["show", "a.txt", "--at", "2000-01-01"])
        .fails_with(2);
    let run = env.run(&["show", "a.txt", "--at", "not a date"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a date or time"),
        "{}",
        run.stderr
    );
}

#[test]
fn store_problems_say_how_to_fix_them() {
    let env = TestEnv::new();
    let run = env.run(&["list"]).fails_with(3);
    assert!(run.stderr.contains("verbatim init"), "{}", run.stderr);
    let run = env.run(&["--store", "nowhere", "list"]).fails_with(3);
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
    env.write("plain/file.txt", b"x");
    env.run(&["--store", "plain", "list"]).fails_with(3);
    let bare = env.path().join("bare.git");
    std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&bare)
        .status()
        .expect("git init");
    let run = env.run(&["--store", "bare.git", "list"]).fails_with(3);
    assert!(
        run.stderr.contains("not a verbatim store"),
        "{}",
        run.stderr
    );
    // VERBATIM_STORE and discovery from a subdirectory.
    env.run(&["--store", "elsewhere", "init"]).ok();
    env.command()
        .env("VERBATIM_STORE", "elsewhere")
        .arg("list")
        .status()
        .map(|s| assert!(s.success()))
        .expect("run");
    env.run(&["init"]).ok();
    let sub = env.path().join("a/b");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = env
        .command()
        .current_dir(&sub)
        .arg("list")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_batch_stores_the_good_sources_and_reports_the_bad() {
    let env = TestEnv::with_store();
    let a = env.write("a.txt", b"a");
    let b = env.write("b.txt", b"b");
    let run = env.run(&[
        "add",
        a.to_str().expect("utf-8"),
        "missing.txt",
        b.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(2));
}

#[test]
fn http_capture_records_provenance_but_never_cookies() {
    let html = b"<!doctype html><html><head><meta charset=\"iso-8859-1\"><title>Caf\xe9 news</title></head>\
        <body><nav>Menu</nav><article><p>Le caf\xe9 est ouvert.</p></article></body></html>";
    let server = Server::with(&[(
        "/article",
        Reply::ok("text/html", html.to_vec())
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")
            .header("Set-Cookie", "session=SECRET-COOKIE; HttpOnly")
            .header("WWW-Authenticate", "Basic realm=SECRET-REALM"),
    )]);
    let env = TestEnv::with_store();
    env.run(&["add", &server.url("/article")]).ok();
    let source = only_source(&env);
    assert_eq!(source["title"], "Café news");
    let id = source["id"].as_str().expect("id");
    assert_eq!(env.run(&["show", id, "--raw"]).ok().stdout_bytes, html);
    assert_eq!(env.run(&["show", id]).ok().stdout, "Le café est ouvert.");
    let v = first_version(&env, id);
    let headers = &v["origin"]["headers"];
    assert_eq!(headers["etag"], "\"v1\"");
    assert_eq!(headers["last-modified"], "Wed, 01 Jan 2025 00:00:00 GMT");
    assert_eq!(headers["content-type"], "text/html");
    assert!(headers["date"].is_string());
    assert_eq!(v["origin"]["status"], 200);
    assert_eq!(v["charset"], "windows-1252");
    // No blob anywhere in the store holds the cookie or the auth header.
    let all = env
        .git(&["cat-file", "--batch-all-objects", "--batch"])
        .ok();
    assert!(
        !all.stdout.contains("SECRET"),
        "a secret header reached the store"
    );
}

#[test]
fn http_redirect_chain_is_recorded() {
    let server = Server::with(&[("/final", Reply::ok("text/plain", "landed"))]);
    let target = server.url("/final");
    let hop = Server::with(&[
        ("/a", Reply::redirect(301, "/b")),
        ("/b", Reply::redirect(302, &target)),
        ("/loop", Reply::redirect(302, "/loop")),
    ]);
    let env = TestEnv::with_store();
    env.run(&["add", &hop.url("/a")]).ok();
    let v = first_version(&env, only_source(&env)["id"].as_str().expect("id"));
    let origin = &v["origin"];
    assert_eq!(origin["requested_url"], hop.url("/a"));
    assert_eq!(origin["final_url"], target);
    let redirects = origin["redirects"].as_array().expect("redirects");
    assert_eq!(redirects.len(), 2);
    assert_eq!(redirects[0]["status"], 301);
    assert_eq!(redirects[0]["location"], hop.url("/b"));
    assert_eq!(redirects[1]["status"], 302);
    assert_eq!(redirects[1]["location"], target);

    let before = env.head();
    let run = env
        .run(&["add", &hop.url("/loop"), "--max-redirects", "5"])
        .fails_with(4);
    assert!(
        run.stderr.contains("more than 5 redirects"),
        "{}",
        run.stderr
    );
    assert_eq!(env.head(), before);
}

#[test]
fn http_failures_store_nothing() {
    let server = Server::with(&[
        ("/500", Reply::status(500)),
        ("/big", Reply::ok("text/plain", vec![b'x'; 10_000])),
    ]);
    let env = TestEnv::with_store();
    let before = env.head();
    let run = env.run(&["add", &server.url("/gone")]).fails_with(4);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    env.run(&["add", &server.url("/500")]).fails_with(4);
    let run = env
        .run(&["add", &server.url("/big"), "--max-bytes", "1000"])
        .fails_with(4);
    assert!(run.stderr.contains("limit"), "{}", run.stderr);
    // Connection refused: a port that was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    env.run(&["add", &format!("http://127.0.0.1:{port}/")])
        .fails_with(4);
    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", silent.local_addr().expect("addr"));
    let hold = std::thread::spawn(move || {
        let (mut conn, _) = silent.accept().expect("accept");
        let mut sink = [0u8; 1024];
        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = conn.read(&mut sink);
        std::thread::sleep(Duration::from_secs(3));
    });
    let start = Instant::now();
    let run = env
        .run(&["add", &url, "--timeout", "1", "--retries", "0"])
        .fails_with(4);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(env.head(), before);
    let _ = hold.join();
}

#[test]
fn a_large_add_is_stored_in_bounded_batches() {
    let env = TestEnv::with_store();
    let mut list = String::new();
    for n in 0..1001 {
        let path = env.write(
            &format!("many/{n:04}.txt"),
            format!("document {n}\n").as_bytes(),
        );
        list.push_str(&format!("{}\n", path.display()));
    }
    let list_file = env.write("list.txt", list.as_bytes());
    let out = env
        .run(&["add", "--from", &list_file.display().to_string()])
        .ok();
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("added"))
            .count(),
        1001
    );
    // 1,000 sources per commit: two commits after the one that created the store.
    let subjects = env.git(&["log", "--format=%s"]).ok().stdout;
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "add: capture 1 source",
            "add: capture 1000 sources",
            "Create verbatim store (format 3)"
        ],
        "{subjects}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1001));

    // A whole-store check spools its results by id shard and reports them in id order.
    std::fs::write(env.path().join("many/0007.txt"), "document 7, revised\n").expect("edit");
    let check = |expect: i32| {
        let run = env.run(&["check", "--format", "json"]);
        assert_eq!(run.code, expect, "{}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        assert_eq!(report["checked"], 1001);
        let ids: Vec<String> = report["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["source"].as_str().expect("id").to_owned())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(ids.len(), 1001);
        report
    };
    let report = check(1);
    assert_eq!(report["summary"]["edited"], 1, "{}", report["summary"]);
    assert_eq!(report["summary"]["unchanged"], 1000);
    // After the edit, "unchanged" is a new state for that source; then nothing is new, and a
    // check is recorded in its run without rewriting any state file.
    check(0);
    let state_tree = || env.git(&["rev-parse", "main:state"]).ok().stdout;
    let before = state_tree();
    let report = check(0);
    assert_eq!(report["summary"]["unchanged"], 1001);
    assert_eq!(state_tree(), before);
    let runs = env
        .git(&["ls-tree", "-r", "--name-only", "main", "observations"])
        .ok()
        .stdout;
    let last_run = runs
        .lines()
        .last()
        .expect("a run")
        .rsplit_once('/')
        .expect("file")
        .0;
    let lines: usize = runs
        .lines()
        .filter(|path| path.starts_with(last_run) && path.ends_with(".jsonl"))
        .map(|path| {
            env.git(&["show", &format!("main:{path}")])
                .ok()
                .stdout
                .lines()
                .count()
        })
        .sum();
    assert_eq!(lines, 1001, "every source is observed in the last run");
}
