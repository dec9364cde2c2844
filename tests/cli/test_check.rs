//! `verbatim check` against a real loopback web server serving the seed articles as news pages
//! whose furniture changes on every request, switched through scripted states.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{Reply, Server, TestEnv, seed_files};

/// What the server does for one path.
#[derive(Clone)]
enum Mode {
    /// The article, in a page whose furniture changes on every request.
    Page(String),
    /// A bare status.
    Status(u16),
    /// A redirect.
    Redirect(u16, String),
    /// A fixed reply.
    Fixed(Reply),
}

type Modes = Arc<Mutex<HashMap<String, Mode>>>;

/// Wraps article text (title line, blank-line paragraphs) in a news page with per-request noise.
pub(crate) fn news_page(article: &str, n: u64) -> Vec<u8> {
    let mut blocks = article
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let title = blocks.next().unwrap_or_default();
    let paragraphs: String = blocks.map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <script>window.token=\"{n:x}{n}\";var t={n};</script></head><body>\
         <header><nav>Home | World | Session {n:08x}</nav></header>\
         <aside><h3>Most read</h3><ol><li>Story {a}</li><li>Story {b}</li></ol></aside>\
         <article><h1>{title}</h1>\n{paragraphs}</article>\
         <footer>Rendered at request {n}; cache {n:x}</footer></body></html>",
        a = n % 7,
        b = (n * 3) % 11
    )
    .into_bytes()
}

fn serve(modes: Modes) -> Server {
    let counter = Arc::new(AtomicU64::new(1));
    Server::dynamic(move |path, _headers| {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let mode = modes.lock().expect("modes").get(path).cloned();
        match mode {
            Some(Mode::Page(text)) => Reply::ok("text/html; charset=utf-8", news_page(&text, n)),
            Some(Mode::Status(s)) => Reply::status(s),
            Some(Mode::Redirect(s, to)) => Reply::redirect(s, &to),
            Some(Mode::Fixed(r)) => r,
            None => Reply::status(404),
        }
    })
}

fn seeds() -> Vec<String> {
    seed_files()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("seed text"))
        .collect()
}

fn check_json(env: &TestEnv, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    assert!(
        run.code == 0 || run.code == 1,
        "check failed: {}",
        run.stderr
    );
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("check json"),
    )
}

/// The verdict (and the result) of the source at `url`.
fn result_for<'a>(json: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["locator"] == url)
        .unwrap_or_else(|| panic!("{url} not in {json}"))
}

fn setup() -> (TestEnv, Modes, Server, Vec<String>, Vec<String>) {
    let texts = seeds();
    let modes: Modes = Arc::new(Mutex::new(HashMap::new()));
    let server = serve(modes.clone());
    let env = TestEnv::with_store();
    let mut urls = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let path = format!("/news/{i}");
        modes
            .lock()
            .expect("modes")
            .insert(path.clone(), Mode::Page(text.clone()));
        urls.push(server.url(&path));
    }
    let mut args = vec!["add"];
    args.extend(urls.iter().map(String::as_str));
    env.run(&args).ok();
    (env, modes, server, urls, texts)
}

#[test]
fn noise_only_is_cosmetic_on_twenty_rechecks() {
    let (env, _modes, _server, urls, _) = setup();
    for round in 0..20 {
        let (code, json) = check_json(&env, &[]);
        assert_eq!(code, 0, "round {round}: {json}");
        for url in &urls {
            assert_eq!(
                result_for(&json, url)["verdict"],
                "cosmetic",
                "round {round}: {url}"
            );
        }
    }
    // Noise never became a version.
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("list");
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .all(|s| s["versions"] == 1),
        "{list}"
    );
}

#[test]
fn scripted_changes_get_the_right_verdicts() {
    let (env, modes, server, urls, texts) = setup();
    let set = |i: usize, mode: Mode| {
        modes
            .lock()
            .expect("modes")
            .insert(format!("/news/{i}"), mode);
    };
    // Round 1: a figure changed, 404, 410, 451, a soft 404.
    set(0, Mode::Page(texts[0].replacen("680", "700", 1)));
    set(1, Mode::Status(404));
    set(2, Mode::Status(410));
    set(3, Mode::Status(451));
    let soft = "<html><head><title>Page not found</title></head><body><h1>Page not found</h1>\
                <p>Sorry, the page you are looking for does not exist.</p></body></html>";
    set(4, Mode::Fixed(Reply::ok("text/html", soft)));
    let (code, json) = check_json(&env, &[]);
    assert_eq!(code, 1);
    let r0 = result_for(&json, &urls[0]);
    assert_eq!(r0["verdict"], "edited");
    assert_eq!(r0["new_version"], 2);
    assert!(r0["changes"]["words_changed"].as_u64() >= Some(1), "{r0}");
    assert_ne!(r0["old_text_sha256"], r0["new_text_sha256"]);
    for (i, reason) in [(1, "HTTP 404"), (2, "HTTP 410"), (3, "HTTP 451")] {
        let r = result_for(&json, &urls[i]);
        assert_eq!(r["verdict"], "retracted", "{r}");
        assert_eq!(r["reason"], reason);
        assert_eq!(r["new"], true);
    }
    let r4 = result_for(&json, &urls[4]);
    assert_eq!(r4["verdict"], "retracted");
    assert!(
        r4["reason"]
            .as_str()
            .is_some_and(|r| r.contains("soft 404")),
        "{r4}"
    );

    // Round 2: a paragraph deleted, still 404, moved permanently, 500, 403.
    let paragraphs: Vec<&str> = texts[0].split("\n\n").collect();
    let mut shorter = paragraphs.clone();
    shorter.remove(3);
    set(
        0,
        Mode::Page(shorter.join("\n\n").replacen("680", "700", 1)),
    );
    set(2, Mode::Redirect(301, "/moved/2".to_owned()));
    modes
        .lock()
        .expect("modes")
        .insert("/moved/2".to_owned(), Mode::Page(texts[2].clone()));
    set(3, Mode::Status(500));
    set(4, Mode::Status(403));
    let (_, json) = check_json(&env, &[]);
    let r0 = result_for(&json, &urls[0]);
    assert_eq!(r0["verdict"], "edited");
    assert_eq!(r0["changes"]["paragraphs_removed"], 1, "{r0}");
    let r1 = result_for(&json, &urls[1]);
    assert_eq!(r1["verdict"], "retracted");
    assert_eq!(r1["new"], false, "a continuing state is not a fresh alarm");
    let r2 = result_for(&json, &urls[2]);
    assert_eq!(r2["verdict"], "moved");
    assert_eq!(r2["final_url"], server.url("/moved/2"));
    assert_eq!(result_for(&json, &urls[3])["verdict"], "unreachable");
    assert_eq!(result_for(&json, &urls[4])["verdict"], "blocked");

    // Round 3: recovery from the 500, a bot wall served with 200, a removal notice.
    set(3, Mode::Page(texts[3].clone()));
    let wall = "<html><head><title>Just a moment...</title></head><body>\
                <p>Checking your browser before accessing the site.</p></body></html>";
    set(4, Mode::Fixed(Reply::ok("text/html", wall)));
    let notice = format!(
        "{}\n\nThis article has been removed pending a review of its sources.",
        texts[1].lines().next().unwrap_or_default()
    );
    set(1, Mode::Page(notice));
    let (_, json) = check_json(&env, &[]);
    assert_eq!(result_for(&json, &urls[3])["verdict"], "cosmetic");
    let r4 = result_for(&json, &urls[4]);
    assert_eq!(r4["verdict"], "blocked");
    assert!(
        r4["reason"]
            .as_str()
            .is_some_and(|r| r.contains("bot wall")),
        "{r4}"
    );
    // Article 1 was stored before it went 404; now a notice replaces it.
    let r1 = result_for(&json, &urls[1]);
    assert_eq!(r1["verdict"], "retracted", "{r1}");
    assert!(
        r1["reason"]
            .as_str()
            .is_some_and(|r| r.contains("removal notice")),
        "{r1}"
    );

    // Every verdict is in the store's observation log.
    let all = env
        .git(&["log", "-p", "--format=", "--", "observations"])
        .ok()
        .stdout;
    for verdict in [
        "edited",
        "retracted",
        "moved",
        "unreachable",
        "blocked",
        "cosmetic",
    ] {
        assert!(
            all.contains(&format!("\"verdict\":\"{verdict}\"")),
            "{verdict} not recorded"
        );
    }
}

#[test]
fn a_reworded_sentence_a_correction_and_a_new_headline_are_edits() {
    let (env, modes, _server, urls, texts) = setup();
    let set = |i: usize, text: String| {
        modes
            .lock()
            .expect("modes")
            .insert(format!("/news/{i}"), Mode::Page(text));
    };
    // One sentence of the second paragraph reworded, same length in words.
    let paragraphs: Vec<&str> = texts[0].split("\n\n").collect();
    let sentence = paragraphs[2].split(". ").next().unwrap_or_default();
    let mut words: Vec<&str> = sentence.split(' ').collect();
    words.swap(1, 2);
    set(0, texts[0].replacen(sentence, &words.join(" "), 1));
    set(
        1,
        format!(
            "{}\n\nCorrection: an earlier version of this article misstated the date of the raids.",
            texts[1].trim_end()
        ),
    );
    let title = texts[2].lines().next().unwrap_or_default();
    set(
        2,
        texts[2].replacen(title, &format!("{title}, officials say"), 1),
    );
    let (code, json) = check_json(&env, &[]);
    assert_eq!(code, 1);
    let r0 = result_for(&json, &urls[0]);
    assert_eq!(r0["verdict"], "edited", "{r0}");
    assert_eq!(r0["changes"]["paragraphs_changed"], 1, "{r0}");
    let r1 = result_for(&json, &urls[1]);
    assert_eq!(r1["verdict"], "edited", "{r1}");
    assert_eq!(r1["changes"]["paragraphs_added"], 1, "{r1}");
    assert_eq!(result_for(&json, &urls[2])["verdict"], "edited");
    // The two untouched articles stay quiet under the per-request noise.
    for i in [3, 4] {
        assert_eq!(result_for(&json, &urls[i])["verdict"], "cosmetic");
    }
}

#[test]
fn an_etag_makes_an_unchanged_page_cost_a_304() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Server::dynamic(move |_path, headers| {
        let inm = headers
            .iter()
            .find(|(k, _)| k == "if-none-match")
            .map(|(_, v)| v.clone());
        log.lock()
            .expect("log")
            .push(inm.clone().unwrap_or_default());
        if inm.as_deref() == Some("\"v1\"") {
            Reply::status(304).header("ETag", "\"v1\"")
        } else {
            Reply::ok("text/plain", "stable text").header("ETag", "\"v1\"")
        }
    });
    let env = TestEnv::with_store();
    env.run(&["add", &server.url("/doc")]).ok();
    let (code, json) = check_json(&env, &[]);
    assert_eq!(code, 0);
    let r = &json["results"][0];
    assert_eq!(r["verdict"], "unchanged");
    assert_eq!(r["http_status"], 304);
    assert_eq!(
        seen.lock().expect("log").last().map(String::as_str),
        Some("\"v1\"")
    );
}

#[test]
fn exit_status_follows_fail_on_and_only_new() {
    let (env, modes, _server, urls, _) = setup();
    modes
        .lock()
        .expect("modes")
        .insert("/news/0".to_owned(), Mode::Status(503));
    let run = env.run(&["check"]);
    assert_eq!(
        run.code, 0,
        "unreachable is not in the default --fail-on: {}",
        run.stdout
    );
    assert!(run.stdout.contains("unreachable"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("checked 5 sources: 4 cosmetic, 1 unreachable"),
        "{}",
        run.stdout
    );
    assert_eq!(env.run(&["check", "--fail-on", "unreachable"]).code, 1);
    // Still unreachable: with --only-new it is no longer reported, nor failed on.
    let run = env.run(&["check", "--fail-on", "unreachable", "--only-new"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(!run.stdout.contains("unreachable "), "{}", run.stdout);
    // Checking one source by its URL.
    let (_, json) = check_json(&env, &[urls[1].as_str()]);
    assert_eq!(json["checked"], 1);
    // Anything that stops the check is exit 2, as CI scripts expect.
    assert_eq!(env.run(&["check", "--fail-on", "bogus"]).code, 2);
    assert_eq!(env.run(&["check", "ffffffffffffffff"]).code, 2);
    assert_eq!(TestEnv::new().run(&["check"]).code, 2);
}

#[test]
fn local_files_edited_cosmetic_and_deleted() {
    let env = TestEnv::with_store();
    let a = env.write("a.txt", "He said \u{201C}no\u{201D} in 2020.\n".as_bytes());
    let b = env.write("b.txt", b"Figures: 41 percent.\n");
    let c = env.write("c.txt", b"Soon gone.\n");
    for p in [&a, &b, &c] {
        env.run(&["add", p.to_str().expect("utf-8")]).ok();
    }
    env.write("a.txt", b"He said \"no\"  in 2020.\n");
    env.write("b.txt", b"Figures: 44 percent.\n");
    std::fs::remove_file(&c).expect("rm");
    let run = env.run(&["check"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cosmetic") && l.contains("a.txt")),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("edited") && l.contains("b.txt") && l.contains("stored as v2")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("retracted")
            && l.contains("c.txt")
            && l.contains("file deleted")),
        "{}",
        run.stdout
    );
    assert_eq!(
        env.run(&["show", "b.txt"]).ok().stdout,
        "Figures: 44 percent.\n"
    );
    assert_eq!(
        env.run(&["show", "b.txt", "--version", "1"]).ok().stdout,
        "Figures: 41 percent.\n"
    );
}

#[test]
fn binary_changes_are_edits_and_legacy_charsets_are_detected() {
    let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::new(Mutex::new(HashMap::new()));
    let pdf = |n: u8| {
        let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n\0\0".to_vec();
        bytes.extend([n; 64]);
        Reply::ok("application/pdf", bytes)
    };
    // Windows-1252 with curly quotes and no charset anywhere: detection must decode it.
    let cp1252 = |word: &[u8]| {
        let mut page =
            b"<html><head><title>Caf\xe9</title></head><body><article><p>Le caf\xe9 \x93".to_vec();
        page.extend_from_slice(word);
        page.extend_from_slice(
            b"\x94 a ferm\xe9 ses portes apr\xe8s vingt ans.</p></article></body></html>",
        );
        Reply::ok("text/html", page)
    };
    {
        let mut r = routes.lock().expect("routes");
        r.insert("/doc.pdf".to_owned(), pdf(1));
        r.insert("/cafe".to_owned(), cp1252(b"Chez Paul"));
    }
    let server = Server::start(routes.clone());
    let env = TestEnv::with_store();
    env.run(&["add", &server.url("/doc.pdf"), &server.url("/cafe")])
        .ok();
    assert_eq!(
        env.run(&["show", &server.url("/cafe")]).ok().stdout,
        "Le café \u{201C}Chez Paul\u{201D} a fermé ses portes après vingt ans."
    );
    {
        let mut r = routes.lock().expect("routes");
        r.insert("/doc.pdf".to_owned(), pdf(2));
        r.insert("/cafe".to_owned(), cp1252(b"Chez Pierre"));
    }
    let (code, json) = check_json(&env, &[]);
    assert_eq!(code, 1);
    let pdf_result = result_for(&json, &server.url("/doc.pdf"));
    assert_eq!(pdf_result["verdict"], "edited", "{pdf_result}");
    assert!(
        pdf_result["reason"]
            .as_str()
            .is_some_and(|r| r.contains("application/pdf")),
        "{pdf_result}"
    );
    let cafe = result_for(&json, &server.url("/cafe"));
    assert_eq!(cafe["verdict"], "edited");
    assert_eq!(cafe["changes"]["words_changed"], 1, "{cafe}");
    assert_eq!(
        env.run(&["show", &server.url("/cafe")]).ok().stdout,
        "Le café \u{201C}Chez Pierre\u{201D} a fermé ses portes après vingt ans."
    );
}

#[test]
fn a_redesign_that_breaks_extraction_is_flagged_not_called_an_edit() {
    let text = seeds().remove(2);
    let paragraphs: String = text
        .split("\n\n")
        .skip(1)
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    let page = |wrapper: &str| {
        format!(
            "<!doctype html><html><head><title>t</title></head><body><{wrapper}>{paragraphs}</{wrapper}></body></html>"
        )
    };
    let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::new(Mutex::new(HashMap::new()));
    routes
        .lock()
        .expect("routes")
        .insert("/a".to_owned(), Reply::ok("text/html", page("article")));
    let server = Server::start(routes.clone());
    let env = TestEnv::with_store();
    env.run(&["add", &server.url("/a")]).ok();
    // The same article, now inside a container the extractor skips: the page kept its size.
    routes.lock().expect("routes").insert(
        "/a".to_owned(),
        Reply::ok("text/html", format!("{}<nav>x</nav>", page("aside"))),
    );
    let (code, json) = check_json(&env, &["--fail-on", "edited,retracted"]);
    let r = &json["results"][0];
    assert_eq!(r["verdict"], "error", "{r}");
    assert!(
        r["reason"].as_str().is_some_and(|s| s.contains("redesign")),
        "{r}"
    );
    assert_eq!(
        code, 0,
        "a broken extraction is not an edit or a retraction"
    );
    assert_eq!(r["new_version"], serde_json::Value::Null, "nothing stored");
}

/// A news page whose article element itself carries changing furniture: a related-links list
/// that reshuffles, an ad slot with a counter, a share bar.
fn busy_article(article: &str, n: u64) -> Vec<u8> {
    let mut blocks = article
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let title = blocks.next().unwrap_or_default();
    let paragraphs: Vec<String> = blocks.map(|p| format!("<p>{p}</p>")).collect();
    let (first, rest) = paragraphs.split_at(paragraphs.len().min(3));
    let related: String = (0..4)
        .map(|i| {
            format!(
                "<li><a href=\"/story/{}\">Read also: story number {}</a></li>",
                (n + i) % 9,
                (n + i) % 9
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><title>{title} | The Daily</title></head><body>\
         <article><h1>{title}</h1><div class=\"share\"><a href=\"/s\">Share</a> <a href=\"/t\">Tweet</a> {n} shares</div>\
         {}<div class=\"ad\">Advertisement #{n}</div><ul class=\"related\">{related}</ul>{}</article></body></html>",
        first.concat(),
        rest.concat()
    )
    .into_bytes()
}

#[test]
fn furniture_inside_the_article_is_not_an_edit() {
    let texts = seeds();
    let counter = Arc::new(AtomicU64::new(1));
    let pages = texts.clone();
    let server = Server::dynamic(move |path, _| {
        let i: usize = path.trim_start_matches("/a/").parse().unwrap_or(0);
        let n = counter.fetch_add(1, Ordering::Relaxed);
        Reply::ok(
            "text/html; charset=utf-8",
            busy_article(&pages[i % pages.len()], n),
        )
    });
    let env = TestEnv::with_store();
    let urls: Vec<String> = (0..texts.len())
        .map(|i| server.url(&format!("/a/{i}")))
        .collect();
    let mut args = vec!["add"];
    args.extend(urls.iter().map(String::as_str));
    env.run(&args).ok();
    // The stored text is the article: no share bar, ad or related links.
    let text = env.run(&["show", &urls[4]]).ok().stdout;
    assert!(text.contains("Per the new contract"), "{text}");
    for junk in ["Advertisement", "Read also", "shares"] {
        assert!(!text.contains(junk), "{junk} leaked into the text:\n{text}");
    }
    for round in 0..10 {
        let (code, json) = check_json(&env, &[]);
        assert_eq!(code, 0, "round {round}: {json}");
        for url in &urls {
            assert_eq!(
                result_for(&json, url)["verdict"],
                "cosmetic",
                "round {round}: {url}"
            );
        }
    }
}

/// The index remembers the hash of each current version's text as check compared it, so a
/// reload whose text is the same is judged without extracting the old version again; the
/// saved hash never hides an edit, follows a new version, and is not used under other rules.
#[test]
fn the_compared_text_is_remembered_and_never_hides_an_edit() {
    let (env, modes, _server, urls, texts) = setup();
    let compared = |env: &TestEnv| -> Vec<serde_json::Value> {
        let files = env
            .git(&["ls-tree", "-r", "--name-only", "HEAD", "index"])
            .ok();
        files
            .stdout
            .lines()
            .flat_map(|f| {
                let shard = env.git(&["show", &format!("HEAD:{f}")]).ok().stdout;
                shard
                    .lines()
                    .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("entry"))
                    .collect::<Vec<_>>()
            })
            .map(|e| e["compared"].clone())
            .collect()
    };
    // The first noisy check saves each hash; the next rewrites no index shard.
    check_json(&env, &[]);
    let first = compared(&env);
    assert_eq!(first.len(), urls.len());
    assert!(first.iter().all(|c| c["sha256"].is_string()), "{first:?}");
    let (code, _) = check_json(&env, &[]);
    assert_eq!(code, 0);
    let touched = env
        .git(&["show", "--name-only", "--format=", "HEAD"])
        .ok()
        .stdout;
    assert!(!touched.contains("index/"), "{touched}");
    assert_eq!(compared(&env), first);

    // An edit is an edit with the hash saved, and the saved hash follows the new version.
    let edited = texts[0].replacen("680", "700", 1);
    modes
        .lock()
        .expect("modes")
        .insert("/news/0".to_owned(), Mode::Page(edited));
    let (code, json) = check_json(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(result_for(&json, &urls[0])["verdict"], "edited");
    let (_, json) = check_json(&env, &[]);
    assert_eq!(result_for(&json, &urls[0])["verdict"], "cosmetic");
    assert_ne!(compared(&env), first);

    // Other rules: the saved hash is not theirs, and the verdict is still right.
    env.run(&["configure", &urls[1], "--ignore", "grams"]).ok();
    let (_, json) = check_json(&env, &[]);
    assert_eq!(result_for(&json, &urls[1])["verdict"], "cosmetic");
    let after = compared(&env);
    assert_ne!(after, first);
    assert!(after.iter().all(|c| c["by"].is_string()), "{after:?}");
}
