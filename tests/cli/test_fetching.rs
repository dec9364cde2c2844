//! How check fetches: retries with backoff, Retry-After, and a per-host limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Reply, Server, TestEnv};

/// A server whose replies follow a script per request number (0-based), then a steady reply.
fn scripted(script: Vec<Reply>, steady: Reply) -> (Server, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let server = Server::dynamic(move |_path, _headers| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        script.get(n).cloned().unwrap_or_else(|| steady.clone())
    });
    (server, count)
}

fn verdict(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("check json");
    json["results"][0].clone()
}

#[test]
fn transient_failures_are_retried() {
    let ok = Reply::ok("text/plain", "steady");
    // add gets the first 200; the check then meets 503, 502 and succeeds on its third attempt.
    let (server, count) = scripted(vec![ok.clone(), Reply::status(503), Reply::status(502)], ok);
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &server.url("/a")]).ok();
    let r = verdict(&env, &[]);
    assert_eq!(r["verdict"], "unchanged", "{r}");
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn persistent_server_errors_are_unreachable_after_the_retries() {
    let ok = Reply::ok("text/plain", "steady");
    let (server, count) = scripted(vec![ok], Reply::status(500));
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &server.url("/a")]).ok();
    let r = verdict(&env, &["--retries", "2"]);
    assert_eq!(r["verdict"], "unreachable", "{r}");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 3);
    let r = verdict(&env, &["--retries", "0"]);
    assert_eq!(r["verdict"], "unreachable");
    assert_eq!(count.load(Ordering::SeqCst), 1 + 3 + 1);
}

#[test]
fn retry_after_is_honoured_up_to_a_limit() {
    let ok = Reply::ok("text/plain", "steady");
    let busy = Reply::status(429).header("Retry-After", "1");
    let (server, count) = scripted(vec![ok.clone(), busy], ok.clone());
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &server.url("/a")]).ok();
    let start = Instant::now();
    let r = verdict(&env, &[]);
    assert_eq!(r["verdict"], "unchanged", "{r}");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        start.elapsed()
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);

    // A server asking for an hour is not waited for: the source is blocked for now.
    let go_away = Reply::status(429).header("Retry-After", "3600");
    let (server, count) = scripted(vec![ok], go_away);
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &server.url("/b")]).ok();
    let start = Instant::now();
    let r = verdict(&env, &[]);
    assert_eq!(r["verdict"], "blocked", "{r}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn no_host_gets_more_than_per_host_requests_at_once() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(Mutex::new(0usize));
    let (flight, top) = (in_flight.clone(), peak.clone());
    let server = Server::dynamic(move |path, _headers| {
        let now = flight.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut p = top.lock().expect("peak");
            *p = (*p).max(now);
        }
        std::thread::sleep(Duration::from_millis(150));
        flight.fetch_sub(1, Ordering::SeqCst);
        Reply::ok("text/plain", format!("page {path}"))
    });
    let env = TestEnv::with_store();
    let urls: Vec<String> = (0..8).map(|i| server.url(&format!("/p{i}"))).collect();
    // add captures in parallel too, within the same limit.
    let mut args = vec!["add", "--no-learn", "--jobs", "8", "--per-host", "2"];
    args.extend(urls.iter().map(String::as_str));
    let added = env.run(&args).ok();
    assert_eq!(*peak.lock().expect("peak"), 2, "add: 8 jobs, 2 per host");
    // Reported in the order given, whatever order the captures finished in.
    let reported: Vec<&str> = added
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(reported, urls);
    *peak.lock().expect("peak") = 0;
    env.run(&["check", "--jobs", "8", "--per-host", "2"]).ok();
    let limited = *peak.lock().expect("peak");
    assert!(limited <= 2, "{limited} requests to one host at once");
    *peak.lock().expect("peak") = 0;
    env.run(&["check", "--jobs", "8", "--per-host", "8"]).ok();
    let open = *peak.lock().expect("peak");
    assert!(
        open > 2,
        "without the limit the fetches overlap ({open}), so the test can fail"
    );
}

/// A raw HTTP/1.1 server for misbehaviour tiny_http cannot produce: each connection's request
/// head is read, then `respond` writes whatever it likes for that request number (0-based) and
/// the connection is closed.
fn raw_server(respond: impl Fn(usize, &mut std::net::TcpStream) + Send + Sync + 'static) -> String {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/page", listener.local_addr().expect("addr"));
    let respond = Arc::new(respond);
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let (respond, n) = (respond.clone(), count.fetch_add(1, Ordering::SeqCst));
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|r| r == 1) {
                    head.push(byte[0]);
                }
                respond(n, &mut conn);
            });
        }
    });
    url
}

fn write_page(conn: &mut std::net::TcpStream, declared: usize, body: &[u8]) {
    use std::io::Write as _;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

const ARTICLE: &[u8] = b"The council approved the budget of 4.2 million on Tuesday.\n";

#[test]
fn a_truncated_body_is_unreachable_and_stores_nothing() {
    // The add gets the whole page; every later response promises more than it sends.
    let url = raw_server(|n, conn| {
        if n == 0 {
            write_page(conn, ARTICLE.len(), ARTICLE);
        } else {
            write_page(conn, ARTICLE.len() + 500, &ARTICLE[..20]);
        }
    });
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &url]).ok();
    let before = env.run(&["log", &url, "--format", "json"]).ok().stdout;
    let r = verdict(&env, &["--retries", "1"]);
    assert_eq!(r["verdict"], "unreachable", "{r}");
    assert!(r["new_text_sha256"].is_null(), "{r}");
    // The partial page was never taken for a new version.
    assert_eq!(
        env.run(&["log", &url, "--format", "json"]).ok().stdout,
        before
    );
}

#[test]
fn a_response_slower_than_the_read_timeout_is_unreachable_in_time() {
    let url = raw_server(|n, conn| {
        if n > 0 {
            std::thread::sleep(Duration::from_secs(4));
        }
        write_page(conn, ARTICLE.len(), ARTICLE);
    });
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &url]).ok();
    let start = Instant::now();
    let r = verdict(&env, &["--read-timeout", "1", "--retries", "0"]);
    assert_eq!(r["verdict"], "unreachable", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .is_some_and(|s| s.contains("timed out")),
        "{r}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_50_mb_body_is_an_error_under_the_default_limit() {
    let big = Reply::ok("text/html", vec![b'a'; 50_000_000]);
    let (server, _) = scripted(vec![Reply::ok("text/plain", ARTICLE)], big);
    let env = TestEnv::with_store();
    env.run(&["add", "--no-learn", &server.url("/a")]).ok();
    let r = verdict(&env, &[]);
    assert_eq!(r["verdict"], "error", "{r}");
    assert!(
        r["reason"].as_str().is_some_and(|s| s.contains("limit")),
        "{r}"
    );
    // The source keeps its one version.
    let log: serde_json::Value = serde_json::from_str(
        &env.run(&["log", &server.url("/a"), "--format", "json"])
            .ok()
            .stdout,
    )
    .expect("json");
    assert_eq!(log.as_array().map(Vec::len), Some(1), "{log}");
}

#[test]
fn every_fetching_command_takes_the_same_fetch_options() {
    let env = crate::common::TestEnv::with_store();
    env.write("a.txt", b"An article.\n");
    env.write("cites.md", b"> \"An article.\"\n\n[a](a.txt)\n");
    let options = [
        "--timeout",
        "30",
        "--connect-timeout",
        "5",
        "--read-timeout",
        "5",
        "--retries",
        "1",
        "--max-redirects",
        "3",
        "--max-bytes",
        "1000000",
        "--allow-private",
    ];
    env.run(&["add", "a.txt"]).ok();
    for command in [
        vec!["add", "a.txt"],
        vec!["check"],
        vec!["cite", "check", "--offline", "cites.md"],
        vec!["diff", "a.txt", "--against", "a.txt"],
    ] {
        let mut args = command.clone();
        args.extend(options);
        let run = env.run(&args);
        assert!(
            !run.stderr.contains("unexpected argument"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(
            run.code == 0 || run.code == 1,
            "{command:?}: {}",
            run.stderr
        );
    }
}
