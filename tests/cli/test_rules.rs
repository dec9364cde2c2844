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
    env.run(&["add", &url]).ok();
    // Without rules the noise inside the article reads as an edit.
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
