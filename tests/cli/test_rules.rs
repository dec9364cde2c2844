//! Per-source extraction rules: a content selector and ignore patterns, stored with the source.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::common::{Reply, Server, TestEnv};

/// A page whose article body itself carries noise: a relative timestamp and an ad.
fn noisy_server(body: &'static str) -> Server {
    let n = Arc::new(AtomicU64::new(1));
    Server::dynamic(move |_path, _headers| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let page = format!(
            "<html><head><title>Story</title></head><body><article>\
             <div class=\"ad\">Buy product {i} now</div>\
             <div id=\"story\"><p>{body}</p><p>Updated {i} minutes ago</p></div>\
             </article></body></html>"
        );
        Reply::ok("text/html; charset=utf-8", page)
    })
}

fn verdict(env: &TestEnv) -> String {
    let run = env.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("check json");
    json["results"][0]["verdict"]
        .as_str()
        .expect("verdict")
        .to_owned()
}

#[test]
fn rules_silence_in_article_noise_and_are_not_edits_themselves() {
    let server = noisy_server("The contract is worth $49,874,018.14.");
    let env = TestEnv::with_store();
    let url = server.url("/story");
    env.run(&["add", "--no-learn", &url]).ok();
    // Without rules (and without learning) the noise inside the article reads as an edit.
    assert_eq!(verdict(&env), "edited");
    let out = env
        .run(&[
            "configure",
            &url,
            "--selector",
            "#story",
            "--ignore",
            r"Updated \d+ minutes ago",
        ])
        .ok();
    assert!(out.stdout.contains("selector: #story"), "{}", out.stdout);
    // With them, every later load is cosmetic, and the change of rules itself is no edit.
    for _ in 0..3 {
        assert_eq!(verdict(&env), "cosmetic");
    }
    // The rules are stored with the source, readable by stock git.
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("list");
    let id = list[0]["id"].as_str().expect("id");
    let source = env
        .git(&[
            "show",
            &format!("main:sources/{}/{}/{id}/source.json", &id[..2], &id[2..4]),
        ])
        .ok();
    assert!(
        source.stdout.contains("\"selector\": \"#story\""),
        "{}",
        source.stdout
    );
    // Clearing them brings the noise back.
    env.run(&["configure", id, "--no-selector", "--clear-ignore"])
        .ok();
    assert_eq!(verdict(&env), "edited");
}

#[test]
fn add_with_a_selector_stores_only_the_content() {
    let server = noisy_server("Only this.");
    let env = TestEnv::with_store();
    let url = server.url("/s");
    env.run(&["add", &url, "--selector", "#story p:first-child"])
        .ok();
    assert_eq!(env.run(&["show", &url]).ok().stdout, "Only this.");
    assert_eq!(verdict(&env), "cosmetic");
}

#[test]
fn invalid_rules_are_refused() {
    let env = TestEnv::with_store();
    let f = env.write("a.txt", b"a");
    let before = env.head();
    env.run(&["add", f.to_str().expect("utf-8"), "--selector", "##"])
        .fails_with(2);
    env.run(&["add", f.to_str().expect("utf-8"), "--ignore", "("])
        .fails_with(2);
    assert_eq!(env.head(), before);
    env.run(&["add", f.to_str().expect("utf-8")]).ok();
    env.run(&["configure", "a.txt", "--ignore", "(unclosed"])
        .fails_with(2);
}

#[test]
fn noise_learned_at_add_is_ignored_but_real_edits_are_not() {
    let figure = Arc::new(std::sync::Mutex::new("4.2 million"));
    let n = Arc::new(AtomicU64::new(1));
    let shown = figure.clone();
    let server = Server::dynamic(move |_path, _headers| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let page = format!(
            "<html><head><title>Budget</title></head><body><main><h1>Budget</h1>\
             <p>Last updated {:02}:{:02} GMT</p>\
             <p>The council approved a budget of {} on Tuesday after a long debate.</p>\
             <p>The vote was close, and the opposition promised to return to it.</p>\
             </main></body></html>",
            i % 24,
            (i * 7) % 60,
            shown.lock().expect("figure")
        );
        Reply::ok("text/html; charset=utf-8", page)
    });
    let env = TestEnv::with_store();
    let url = server.url("/budget");
    env.run(&["add", &url]).ok();
    // add loaded the page twice and learned the time stamp line, visible with the source
    // (configure with no options only shows the rules: nothing is written).
    let before = env.head();
    let shown_rules = env.run(&["configure", &url]).ok().stdout;
    assert_eq!(env.head(), before);
    assert!(
        shown_rules.contains("learned: (?m)^Last updated"),
        "{shown_rules}"
    );
    for _ in 0..5 {
        assert_eq!(verdict(&env), "cosmetic");
    }
    // The figure in the article is not noise.
    *figure.lock().expect("figure") = "4.7 million";
    assert_eq!(verdict(&env), "edited");
    // Forgetting what was learned brings the time stamp back as a change.
    env.run(&["configure", &url, "--clear-ignore"]).ok();
    assert_eq!(verdict(&env), "edited");
}
