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
    env.run(&["add", &server.url("/a")]).ok();
    let r = verdict(&env, &[]);
    assert_eq!(r["verdict"], "unchanged", "{r}");
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn persistent_server_errors_are_unreachable_after_the_retries() {
    let ok = Reply::ok("text/plain", "steady");
    let (server, count) = scripted(vec![ok], Reply::status(500));
    let env = TestEnv::with_store();
    env.run(&["add", &server.url("/a")]).ok();
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
    env.run(&["add", &server.url("/a")]).ok();
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
    env.run(&["add", &server.url("/b")]).ok();
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
    let mut args = vec!["add"];
    args.extend(urls.iter().map(String::as_str));
    env.run(&args).ok();
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
