//! `verbatim add` of a source that is already tracked: judged as `check` judges it, so a reload
//! whose only change is page furniture (or typography) stores no version, and an edit does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{Reply, Server, TestEnv, seed_files};
use crate::test_check::news_page;

/// What the server answers for each path: an article (title line, blank-line paragraphs) in a
/// news page whose furniture changes on every request, or a fixed reply.
#[derive(Clone)]
enum Page {
    News(String),
    Fixed(Reply),
}

type Pages = Arc<Mutex<HashMap<String, Page>>>;

fn serve(pages: Pages) -> Server {
    let counter = Arc::new(AtomicU64::new(1));
    Server::dynamic(move |path, _headers| {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        match pages.lock().expect("pages").get(path).cloned() {
            Some(Page::News(text)) => Reply::ok("text/html; charset=utf-8", news_page(&text, n)),
            Some(Page::Fixed(reply)) => reply,
            None => Reply::status(404),
        }
    })
}

fn seed(i: usize) -> String {
    std::fs::read_to_string(&seed_files()[i]).expect("seed text")
}

/// The same article with one sentence of its third paragraph reworded.
fn reworded(article: &str) -> String {
    let paragraphs: Vec<&str> = article.split("\n\n").collect();
    let sentence = paragraphs[2].split(". ").next().unwrap_or_default();
    let mut words: Vec<&str> = sentence.split(' ').collect();
    words.swap(1, 2);
    article.replacen(sentence, &words.join(" "), 1)
}

fn set(pages: &Pages, path: &str, page: Page) {
    pages.lock().expect("pages").insert(path.to_owned(), page);
}

/// How many versions `log` lists for `source`.
fn versions(env: &TestEnv, source: &str) -> usize {
    let log: serde_json::Value =
        serde_json::from_str(&env.run(&["log", source, "--format", "json"]).ok().stdout)
            .expect("log json");
    log.as_array().expect("array").len()
}

/// The lines of the observations written by the store's latest commit.
fn last_observations(env: &TestEnv) -> Vec<serde_json::Value> {
    env.git(&["show", "--format=", "HEAD", "--", "observations"])
        .ok()
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix('+'))
        .filter(|l| l.starts_with("{\"source\":"))
        .map(|l| serde_json::from_str(l).expect("observation line"))
        .collect()
}

/// The one line `add` printed, split into its label and the rest.
fn one_line(stdout: &str) -> (&str, &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    lines[0].split_once(' ').expect("label")
}

#[test]
fn a_page_re_added_with_only_its_furniture_changed_gets_no_new_version() {
    let pages: Pages = Arc::default();
    let server = serve(pages.clone());
    set(&pages, "/news", Page::News(seed(0)));
    let env = TestEnv::with_store();
    let url = server.url("/news");
    env.run(&["add", &url]).ok();
    for round in 0..3 {
        // Each load has another session id, most-read list and render counter.
        let out = env.run(&["add", &url]).ok();
        let (label, rest) = one_line(&out.stdout);
        assert_eq!(label, "cosmetic", "round {round}: {}", out.stdout);
        assert!(
            rest.contains(" v1 ") && rest.ends_with(&format!("{url}  no new version")),
            "round {round}: {}",
            out.stdout
        );
    }
    assert_eq!(versions(&env, &url), 1);
    // Recorded as `check` records a cosmetic reload: an observation with its verdict.
    let seen = last_observations(&env);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["verdict"], "cosmetic");
    assert_eq!(seen[0]["outcome"], "unchanged");
    assert_eq!(seen[0]["version"], 1);
    // And `check` agrees.
    let check = env.run(&["check", &url]).ok();
    assert!(check.stdout.starts_with("cosmetic"), "{}", check.stdout);
}

#[test]
fn a_page_re_added_with_a_sentence_reworded_gets_a_new_version() {
    let pages: Pages = Arc::default();
    let server = serve(pages.clone());
    let article = seed(0);
    set(&pages, "/news", Page::News(article.clone()));
    let env = TestEnv::with_store();
    let url = server.url("/news");
    env.run(&["add", &url]).ok();
    set(&pages, "/news", Page::News(reworded(&article)));
    let out = env.run(&["add", &url]).ok();
    let (label, rest) = one_line(&out.stdout);
    assert_eq!(label, "edited", "{}", out.stdout);
    assert!(
        rest.contains(" v2 ")
            && rest.contains(&format!("{url}  words: "))
            && rest.ends_with("; paragraphs: 1 changed; stored as v2"),
        "{}",
        out.stdout
    );
    assert_eq!(versions(&env, &url), 2);
    let seen = last_observations(&env);
    assert_eq!(seen[0]["verdict"], "edited", "{seen:?}");
    assert_eq!(seen[0]["outcome"], "captured");
    assert_eq!(seen[0]["version"], 2);
    // The new version is the reworded article, and later loads of it are only furniture.
    let shown = env.run(&["show", &url]).ok().stdout;
    let paragraph = |text: &str| text.split("\n\n").nth(2).expect("paragraph").to_owned();
    assert!(shown.contains(&paragraph(&reworded(&article))), "{shown}");
    assert!(!shown.contains(&paragraph(&article)), "{shown}");
    let again = env.run(&["add", &url]).ok();
    assert!(again.stdout.starts_with("cosmetic"), "{}", again.stdout);
    assert_eq!(versions(&env, &url), 2);
}

#[test]
fn identical_bytes_re_added_are_unchanged() {
    let pages: Pages = Arc::default();
    let server = serve(pages.clone());
    set(
        &pages,
        "/fixed",
        Page::Fixed(Reply::ok("text/plain; charset=utf-8", seed(1))),
    );
    let env = TestEnv::with_store();
    let url = server.url("/fixed");
    env.run(&["add", &url]).ok();
    let out = env.run(&["add", &url]).ok();
    let (label, rest) = one_line(&out.stdout);
    assert_eq!(label, "unchanged", "{}", out.stdout);
    // Nothing after the locator: no change, no reason.
    assert!(rest.ends_with(&url), "{}", out.stdout);
    assert_eq!(versions(&env, &url), 1);
    // The observation carries `check`'s verdict, as a check's would.
    let seen = last_observations(&env);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["verdict"], "unchanged");
    assert_eq!(seen[0]["outcome"], "unchanged");
}

#[test]
fn a_list_re_added_stores_only_the_edits_in_one_commit() {
    let pages: Pages = Arc::default();
    let server = serve(pages.clone());
    let articles: Vec<String> = (0..3).map(seed).collect();
    for (i, article) in articles.iter().enumerate() {
        set(&pages, &format!("/news/{i}"), Page::News(article.clone()));
    }
    set(
        &pages,
        "/fixed",
        Page::Fixed(Reply::ok("text/plain; charset=utf-8", seed(3))),
    );
    let env = TestEnv::with_store();
    let urls: Vec<String> = ["/news/0", "/news/1", "/news/2", "/fixed"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    env.write("urls.txt", format!("{}\n", urls.join("\n")).as_bytes());
    let first = env.run(&["add", "--from", "urls.txt"]).ok();
    assert_eq!(
        first
            .stdout
            .lines()
            .filter(|l| l.starts_with("added "))
            .count(),
        4,
        "{}",
        first.stdout
    );
    // The sync: article 1 edited, the others as they were (the news pages with new
    // furniture), a new page, a source named twice and one that fails.
    set(&pages, "/news/1", Page::News(reworded(&articles[1])));
    set(&pages, "/news/3", Page::News(seed(4)));
    let list = [
        urls[0].clone(),
        urls[1].clone(),
        urls[2].clone(),
        urls[3].clone(),
        server.url("/news/3"),
        urls[0].clone(),
        server.url("/gone"),
    ];
    env.write("urls.txt", list.join("\n").as_bytes());
    let before = env.head();
    let out = env.run(&["add", "--from", "urls.txt"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let lines: Vec<(&str, &str)> = out
        .stdout
        .lines()
        .map(|l| {
            let (label, rest) = l.split_once(' ').expect("label");
            (label, rest.trim_end())
        })
        .collect();
    let labels: Vec<&str> = lines.iter().map(|(label, _)| *label).collect();
    assert_eq!(
        labels,
        ["cosmetic", "edited", "cosmetic", "unchanged", "added"],
        "{}",
        out.stdout
    );
    assert!(lines[1].1.ends_with("stored as v2"), "{}", out.stdout);
    assert!(lines[4].1.contains(" v1 "), "{}", out.stdout);
    assert!(out.stderr.contains("/gone"), "{}", out.stderr);
    // One commit for the batch.
    let commits = env
        .git(&["rev-list", "--count", &format!("{before}..HEAD")])
        .ok()
        .stdout;
    assert_eq!(commits.trim(), "1");
    let counts: Vec<usize> = urls
        .iter()
        .chain(std::iter::once(&server.url("/news/3")))
        .map(|u| versions(&env, u))
        .collect();
    assert_eq!(counts, [1, 2, 1, 1, 1]);
}

#[test]
fn a_local_file_re_added_is_judged_as_check_judges_it() {
    let env = TestEnv::with_store();
    let article = seed(2);
    let path = env.write("article.txt", article.as_bytes());
    let p = path.to_str().expect("utf-8");
    env.run(&["add", p]).ok();
    // Typography only: curly quotes made straight. The bytes differ; the text does not.
    let straight = article.replace(['\u{201c}', '\u{201d}'], "\"");
    assert_ne!(straight, article, "the seed has curly quotes");
    env.write("article.txt", straight.as_bytes());
    let out = env.run(&["add", p]).ok();
    let (label, rest) = one_line(&out.stdout);
    assert_eq!(label, "cosmetic", "{}", out.stdout);
    assert!(rest.ends_with("no new version"), "{}", out.stdout);
    assert_eq!(versions(&env, p), 1);
    // `check` of the same bytes says the same, and stores nothing either.
    let check = env.run(&["check", p]).ok();
    assert!(check.stdout.starts_with("cosmetic"), "{}", check.stdout);
    assert_eq!(versions(&env, p), 1);
    // A sentence changed: an edit.
    env.write("article.txt", reworded(&straight).as_bytes());
    let out = env.run(&["add", p]).ok();
    let (label, rest) = one_line(&out.stdout);
    assert_eq!(label, "edited", "{}", out.stdout);
    assert!(rest.ends_with("stored as v2"), "{}", out.stdout);
    assert_eq!(versions(&env, p), 2);
    assert_eq!(
        env.run(&["show", p, "--raw"]).ok().stdout_bytes,
        reworded(&straight).into_bytes()
    );
    // The same bytes again: unchanged.
    let out = env.run(&["add", p]).ok();
    assert_eq!(one_line(&out.stdout).0, "unchanged", "{}", out.stdout);
}

#[test]
fn a_page_re_added_as_gone_blocked_or_moved_is_recorded_as_check_records_it() {
    let pages: Pages = Arc::default();
    let server = serve(pages.clone());
    for i in 0..3 {
        set(&pages, &format!("/news/{i}"), Page::News(seed(i)));
    }
    let env = TestEnv::with_store();
    let urls: Vec<String> = (0..3).map(|i| server.url(&format!("/news/{i}"))).collect();
    let mut add = vec!["add"];
    add.extend(urls.iter().map(String::as_str));
    env.run(&add).ok();
    // A "page not found" page served with 200, a bot wall, and a permanent redirect to the
    // same article elsewhere.
    let soft = "<html><head><title>Page not found</title></head><body><h1>Page not found</h1>\
                <p>Sorry, the page you are looking for does not exist.</p></body></html>";
    set(&pages, "/news/0", Page::Fixed(Reply::ok("text/html", soft)));
    let wall = "<html><head><title>Just a moment...</title></head><body>\
                <p>Checking your browser before accessing the site.</p></body></html>";
    set(&pages, "/news/1", Page::Fixed(Reply::ok("text/html", wall)));
    set(
        &pages,
        "/news/2",
        Page::Fixed(Reply::redirect(301, "/moved/2")),
    );
    set(&pages, "/moved/2", Page::News(seed(2)));
    let out = env.run(&add).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(lines[0].starts_with("retracted "), "{}", out.stdout);
    assert!(lines[0].contains("soft 404"), "{}", out.stdout);
    assert!(lines[1].starts_with("blocked "), "{}", out.stdout);
    assert!(lines[1].contains("bot wall"), "{}", out.stdout);
    assert!(lines[2].starts_with("moved "), "{}", out.stdout);
    assert!(
        lines[2].ends_with(&format!(
            "moved permanently to {}; content cosmetic; no new version",
            server.url("/moved/2")
        )),
        "{}",
        out.stdout
    );
    for line in &lines[..2] {
        assert!(line.ends_with("; no new version"), "{}", out.stdout);
    }
    for url in &urls {
        assert_eq!(versions(&env, url), 1, "{url}");
    }
    let seen = last_observations(&env);
    let verdicts: Vec<&str> = urls
        .iter()
        .map(|url| {
            let id = &env
                .run(&["log", url])
                .ok()
                .stdout
                .split_whitespace()
                .next()
                .expect("id")
                .to_owned();
            seen.iter()
                .find(|o| o["source"] == id.as_str())
                .and_then(|o| o["verdict"].as_str())
                .expect("observed")
        })
        .collect();
    assert_eq!(verdicts, ["retracted", "blocked", "moved"]);
    // A check right after finds each state already recorded: continuing, not new.
    let check: serde_json::Value =
        serde_json::from_str(&env.run(&["check", "--format", "json"]).stdout).expect("json");
    for r in check["results"].as_array().expect("results") {
        assert_eq!(r["new"], false, "{r}");
    }
}

#[test]
fn a_tracked_page_is_judged_under_the_rules_it_is_re_added_with() {
    // Noise inside the article itself: an ad and a relative time stamp.
    let n = Arc::new(AtomicU64::new(1));
    let server = Server::dynamic(move |_path, _headers| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        Reply::ok(
            "text/html; charset=utf-8",
            format!(
                "<html><head><title>Story</title></head><body><article>\
                 <div class=\"ad\">Buy product {i} now</div>\
                 <div id=\"story\"><p>The contract is worth $49,874,018.14.</p>\
                 <p>Updated {i} minutes ago</p></div></article></body></html>"
            ),
        )
    });
    let env = TestEnv::with_store();
    let url = server.url("/story");
    env.run(&["add", "--no-learn", &url]).ok();
    // Without rules or learning, the in-article noise reads as an edit, as `check` would say.
    let out = env.run(&["add", "--no-learn", &url]).ok();
    assert!(out.stdout.starts_with("edited "), "{}", out.stdout);
    assert_eq!(versions(&env, &url), 2);
    // Rules given with the add judge the reload, so the change of rules is no edit either.
    let out = env
        .run(&[
            "add",
            "--no-learn",
            &url,
            "--selector",
            "#story",
            "--ignore",
            r"Updated \d+ minutes ago",
        ])
        .ok();
    assert!(out.stdout.starts_with("cosmetic "), "{}", out.stdout);
    assert_eq!(versions(&env, &url), 2);
    // The rules are the source's now: a plain re-add is judged under them too.
    let out = env.run(&["add", "--no-learn", &url]).ok();
    assert!(out.stdout.starts_with("cosmetic "), "{}", out.stdout);
    assert_eq!(versions(&env, &url), 2);
}

#[test]
fn noise_learned_when_a_tracked_page_is_re_added_judges_that_reload() {
    let n = Arc::new(AtomicU64::new(1));
    let server = Server::dynamic(move |_path, _headers| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        Reply::ok(
            "text/html; charset=utf-8",
            format!(
                "<html><head><title>Budget</title></head><body><main><h1>Budget</h1>\
                 <p>Last updated {:02}:{:02} GMT</p>\
                 <p>The council approved a budget of 4.2 million on Tuesday.</p>\
                 <p>The vote was close, and the opposition promised to return to it.</p>\
                 </main></body></html>",
                i % 24,
                (i * 7) % 60
            ),
        )
    });
    let env = TestEnv::with_store();
    let url = server.url("/budget");
    env.run(&["add", "--no-learn", &url]).ok();
    // Loaded twice, the page shows its time stamp as noise: learned, and the reload judged
    // without it.
    let out = env.run(&["add", &url]).ok();
    assert!(out.stdout.starts_with("cosmetic "), "{}", out.stdout);
    assert_eq!(versions(&env, &url), 1);
    let rules = env.run(&["configure", &url]).ok().stdout;
    assert!(rules.contains("learned: (?m)^Last updated"), "{rules}");
}

/// A web page in which no article is found (an empty `<article>`, a page its scripts draw) is
/// stored, with a warning that its edits may go unseen and what to do; a real article is not
/// warned about.
#[test]
fn a_page_with_no_article_text_is_stored_with_a_warning() {
    let env = TestEnv::with_store();
    let pages: Pages = Arc::new(Mutex::new(HashMap::new()));
    let shell = "<html><head><title>Loading</title></head><body><nav><a href=\"/\">Home</a></nav>\
                 <article></article><div id=\"app\"></div><script>render()</script></body></html>";
    pages.lock().expect("pages").insert(
        "/shell".to_owned(),
        Page::Fixed(Reply::ok("text/html", shell)),
    );
    pages
        .lock()
        .expect("pages")
        .insert("/story".to_owned(), Page::News(seed(0)));
    let server = serve(pages);
    let run = env.run(&["add", &server.url("/shell")]).ok();
    assert!(
        run.stderr.contains("words of article text were found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--selector"), "{}", run.stderr);
    let run = env.run(&["add", &server.url("/story")]).ok();
    assert!(
        !run.stderr.contains("words of article text"),
        "{}",
        run.stderr
    );
}
