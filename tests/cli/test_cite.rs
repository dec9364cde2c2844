//! `verbatim cite`: a Markdown essay and a BibTeX file citing the five seed articles, served on
//! loopback, with exact, retyped, ellipsised and altered quotes; then the sources are edited
//! and one retracted, and every citation's status follows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::common::{Reply, Server, TestEnv, seed_files, warc_record};

/// A seed article as a news page: its first line the headline, the rest paragraphs.
fn page(text: &str) -> String {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let title = lines.next().unwrap_or_default();
    let body: String = lines
        .map(|l| format!("<p>{}</p>\n", l.replace('&', "&amp;").replace('<', "&lt;")))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>\n{body}</article></body></html>"
    )
}

struct Corpus {
    env: TestEnv,
    server: Server,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seeds: Vec<String>,
}

impl Corpus {
    fn new() -> Corpus {
        let seeds: Vec<String> = seed_files()
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("seed"))
            .collect();
        let routes: HashMap<String, Reply> = seeds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    format!("/a{i}"),
                    Reply::ok("text/html; charset=utf-8", page(s)),
                )
            })
            .collect();
        let routes = Arc::new(Mutex::new(routes));
        let server = Server::start(routes.clone());
        Corpus {
            env: TestEnv::with_store(),
            server,
            routes,
            seeds,
        }
    }

    fn url(&self, i: usize) -> String {
        self.server.url(&format!("/a{i}"))
    }

    fn serve(&self, i: usize, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(format!("/a{i}"), reply);
    }

    /// Runs `cite check` with `--format json`, returning its exit code and report. The test
    /// server is on loopback, which a citing document may name only with `--allow-private`.
    fn check(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let mut all = vec!["cite", "check", "--allow-private", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.env.run(&all);
        let report = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
        (run.code, report)
    }
}

/// The one citation whose locator ends with `path` and whose file ends with `file`.
#[track_caller]
fn citation<'a>(report: &'a serde_json::Value, path: &str, file: &str) -> &'a serde_json::Value {
    let found: Vec<&serde_json::Value> = report["citations"]
        .as_array()
        .expect("citations")
        .iter()
        .filter(|c| {
            let ends = |field: &str, end: &str| {
                c["citation"][field]
                    .as_str()
                    .is_some_and(|v| v.ends_with(end))
            };
            ends("locator", path) && ends("file", file)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one citation of {path} in {file}: {report:#}"
    );
    found[0]
}

/// That citation's status.
#[track_caller]
fn status_of(report: &serde_json::Value, path: &str, file: &str) -> String {
    citation(report, path, file)["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// Asserts the status of each citation named by (locator ending, file ending).
#[track_caller]
fn expect(report: &serde_json::Value, statuses: &[(&str, &str, &str)]) {
    for (path, file, status) in statuses {
        assert_eq!(
            &status_of(report, path, file),
            status,
            "{path} in {file}: {report:#}"
        );
    }
}

#[test]
fn citations_stand_then_break_as_their_sources_change() {
    let c = Corpus::new();
    // Seeds 0 and 3 were archived in March 2024 (a WARC another tool wrote), and cited two
    // days later; the others are first captured by `cite check`.
    let mut warc = Vec::new();
    for i in [0, 3] {
        let mut block =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n".to_vec();
        block.extend_from_slice(page(&c.seeds[i]).as_bytes());
        warc.extend(warc_record(
            "response",
            &c.url(i),
            &format!("2024-03-10T12:00:0{i}Z"),
            "application/http;msgtype=response",
            &block,
        ));
    }
    let archive = c.env.write("march.warc", &warc);
    c.env
        .run(&["import", "--trusted", archive.to_str().expect("utf-8")])
        .ok();
    // Seed 0, exactly; seed 1, retyped (straight quotes, a hyphen for the dash, other case);
    // seed 2 with an ellipsis; seed 3 altered (a word changed); seed 4 a plain link.
    let essay = format!(
        "# Surveillance and the raids\n\n\
         The raids were large: \u{201C}680 undocumented immigrants across Mississippi were arrested in mass raids in food processing plants\u{201D} ([BHRRC]({a0})).\n\n\
         Critics stressed \"the importance that Palantir's tools have played in supercharging ICE's surveillance apparatus\" ([Just Futures Law]({a1})).\n\n\
         > Over the past few years, Immigration and Customs Enforcement\u{2019}s operations \u{2026} have grown larger in scope\n\n\
         \u{2014} [Activists]({a2})\n\n\
         The company \"has revealed more details about how it supports U.S. Immigration and Customs Enforcement deportation operations\" ([Vice]({a3})).\n\n\
         See also [the renewal]({a4}).\n",
        a0 = c.url(0),
        a1 = c.url(1),
        a2 = c.url(2),
        a3 = c.url(3),
        a4 = c.url(4),
    );
    c.env.write("essay.md", essay.as_bytes());
    let bib = format!(
        "@online{{vice2019,\n  title = {{Palantir Admits to Helping ICE}},\n  url = {{{a3}}},\n  urldate = {{2024-03-12}},\n  note = {{Quoted: ``Surveillance company Palantir has revealed more details about how it contributes to U.S. Immigration and Customs Enforcement deportation operations''}}\n}}\n\n\
         @online{{bhrrc2019,\n  title = {{When technology facilitates ICE raids}},\n  url = {{{a0}}},\n  urldate = {{2024-03-12}},\n  note = {{``Palantir, a Silicon Valley company that holds two contracts with ICE, was complicit in these raids''}}\n}}\n",
        a3 = c.url(3),
        a0 = c.url(0),
    );
    c.env.write("refs.bib", bib.as_bytes());

    let (code, report) = c.check(&["essay.md", "refs.bib"]);
    expect(
        &report,
        &[
            ("/a0", "essay.md", "stands"),
            ("/a1", "essay.md", "stands"),
            ("/a2", "essay.md", "stands"),
            ("/a3", "essay.md", "quote-altered"),
            ("/a4", "essay.md", "stands"),
            ("/a3", "refs.bib", "stands"),
            ("/a0", "refs.bib", "stands"),
        ],
    );
    // The archived copies are what was current when cited, and are unchanged live.
    let cited = citation(&report, "/a3", "refs.bib");
    assert_eq!(cited["version_at_access"], 1);
    assert_eq!(cited["changed_since_access"], false);
    assert_eq!(cited["verdict"], "unchanged");
    assert_eq!(code, 1, "an altered quote fails by default");
    let altered = citation(&report, "/a3", "essay.md");
    assert_eq!(altered["quote"]["found"], "approximate");
    assert!(
        altered["quote"]["passage"]
            .as_str()
            .is_some_and(|p| p.contains("contributes to")),
        "{altered:#}"
    );
    assert!(
        altered["quote"]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("[-supports-]{+contributes to+}")),
        "{altered:#}"
    );
    assert_eq!(
        citation(&report, "/a1", "essay.md")["quote"]["found"],
        "canonical"
    );
    // Every cited source is now tracked: the capture is the evidence.
    let list: serde_json::Value =
        serde_json::from_str(&c.env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(5));

    // The quoted sentence of seed 0 is rewritten, seed 2 is retracted, and seed 3 is edited
    // elsewhere (its BibTeX quote still stands).
    let edited0 = c.seeds[0].replace(
        "680 undocumented immigrants across Mississippi were arrested in mass raids",
        "nearly 700 people across Mississippi were detained in coordinated raids",
    );
    assert_ne!(edited0, c.seeds[0]);
    c.serve(0, Reply::ok("text/html; charset=utf-8", page(&edited0)));
    c.serve(2, Reply::status(410));
    let edited3 = format!(
        "{}\n\nCorrection: an earlier version of this article misstated the date of the letter.\n",
        c.seeds[3]
    );
    c.serve(3, Reply::ok("text/html; charset=utf-8", page(&edited3)));

    let (code, report) = c.check(&["essay.md", "refs.bib"]);
    assert_eq!(code, 1);
    expect(&report, &[("/a0", "essay.md", "quote-gone")]);
    let gone = citation(&report, "/a0", "essay.md");
    assert_eq!(gone["quote"]["last_seen_in"], 1, "{gone:#}");
    assert_eq!(gone["quote"]["gone_since"], 2, "{gone:#}");
    assert!(
        gone["quote"]["replaced_by"].as_str().is_some_and(|r| r
            .contains("nearly 700 people across Mississippi were detained in coordinated raids")),
        "{gone:#}"
    );
    expect(&report, &[("/a2", "essay.md", "retracted")]);
    // Cited two days after the archived capture, edited since; the quote still there.
    expect(&report, &[("/a3", "refs.bib", "source-changed")]);
    let changed = citation(&report, "/a3", "refs.bib");
    assert_eq!(changed["changed_since_access"], true);
    assert_eq!(changed["version_at_access"], 1);
    assert_eq!(changed["latest_version"], 2);
    // The other quote from seed 0 stands in the edited text.
    expect(
        &report,
        &[
            ("/a0", "refs.bib", "source-changed"),
            ("/a1", "essay.md", "stands"),
        ],
    );

    // --fail-on decides the exit status.
    let (code, _) = c.check(&["--offline", "--fail-on", "ambiguous", "essay.md"]);
    assert_eq!(code, 0);
    let (code, _) = c.check(&["--offline", "--fail-on", "retracted", "essay.md"]);
    assert_eq!(code, 1);

    // The human output: one line a citation, then the detail of those that do not stand.
    let human = c
        .env
        .run(&["cite", "check", "--allow-private", "--offline", "essay.md"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("quote-gone"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("last stood in version 1; gone from version 2"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("citations: "), "{}", human.stdout);
}

#[test]
fn offline_checks_fetch_nothing_and_untracked_sources_are_said() {
    let c = Corpus::new();
    c.env.write(
        "list.toml",
        format!(
            "[[citation]]\nurl = \"{}\"\nquote = \"Documents recently obtained by immigrant legal rights group Just Futures Law\"\naccessed = 2024-03-12\n",
            c.url(1)
        )
        .as_bytes(),
    );
    let (code, report) = c.check(&["--offline", "list.toml"]);
    assert_eq!(code, 1, "not-tracked fails by default");
    assert_eq!(status_of(&report, "/a1", "list.toml"), "not-tracked");
    assert!(
        c.server.hits.lock().expect("hits").is_empty(),
        "--offline fetched"
    );
    // Captured, then checked offline: it stands, though the store cannot tell whether it
    // changed since 2024 (nothing stored from then).
    let (code, report) = c.check(&["list.toml"]);
    assert_eq!(code, 0, "{report:#}");
    let cited = citation(&report, "/a1", "list.toml");
    assert_eq!(cited["status"], "stands");
    assert_eq!(cited["version_at_access"], serde_json::Value::Null);
}

#[test]
fn a_quote_in_two_places_is_ambiguous() {
    let c = Corpus::new();
    let text = "Officials said the figures were wrong.\n\nLater, officials said the figures were wrong again.\n";
    c.serve(0, Reply::ok("text/plain; charset=utf-8", text));
    c.env.write(
        "q.md",
        format!(
            "They wrote that \u{201C}officials said the figures were wrong\u{201D} ([source]({})).\n",
            c.url(0)
        )
        .as_bytes(),
    );
    let (_, report) = c.check(&["q.md"]);
    assert_eq!(status_of(&report, "/a0", "q.md"), "ambiguous", "{report:#}");
    assert_eq!(citation(&report, "/a0", "q.md")["quote"]["occurrences"], 2);
}

/// Issue 17: a quote with an ellipsis whose source then changes a figure after the ellipsis is
/// altered, not gone: the words the ellipsis stands for do not count against it, and the
/// passage shows each part's text as it now is, with the quote's ellipsis between them.
#[test]
fn an_ellipsised_quote_whose_figure_changed_is_altered_with_its_parts() {
    let c = Corpus::new();
    let before = "Refusals rise\n\nThe ministry said on Tuesday that it would publish the figures in full. Critics had asked for them for months, and several members of parliament had written to the minister about the delays.\n\nIn March, 41% of the applications were refused, up from 30% a year earlier.\n";
    c.serve(0, Reply::ok("text/plain; charset=utf-8", before));
    c.env.write(
        "essay.md",
        format!(
            "The ministry promised openness: \u{201C}The ministry said on Tuesday that it would publish the figures \u{2026} 41% of the applications were refused\u{201D} ([ministry]({})).\n",
            c.url(0)
        )
        .as_bytes(),
    );
    let (code, report) = c.check(&["essay.md"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status_of(&report, "/a0", "essay.md"), "stands");

    c.serve(
        0,
        Reply::ok(
            "text/plain; charset=utf-8",
            before.replace("41% of the applications", "47% of the applications"),
        ),
    );
    let (code, report) = c.check(&["essay.md"]);
    assert_eq!(code, 1, "an altered quote fails by default");
    let cited = citation(&report, "/a0", "essay.md");
    assert_eq!(cited["status"], "quote-altered", "{cited:#}");
    let quote = &cited["quote"];
    assert_eq!(quote["found"], "approximate", "{cited:#}");
    assert_eq!(quote["parts_missing"], 0, "{cited:#}");
    assert_eq!(
        quote["passage"],
        "The ministry said on Tuesday that it would publish the figures \u{2026} 47% of the applications were refused",
        "{cited:#}"
    );
    assert!(
        quote["diff"]
            .as_str()
            .is_some_and(|d| d.contains("\u{2026} [-41-]{+47+}% of the applications")),
        "{cited:#}"
    );
    // 16 words of 17 in common, the parts' passages 17 words: the 24 words the ellipsis
    // stands for count for nothing.
    let similarity = quote["similarity"].as_f64().expect("similarity");
    assert!((similarity - 32.0 / 34.0).abs() < 1e-9, "{cited:#}");
    assert_eq!(quote["last_seen_in"], 1, "{cited:#}");
    assert_eq!(quote["gone_since"], 2, "{cited:#}");

    // The figure's sentence deleted: a part missing is no alteration.
    c.serve(
        0,
        Reply::ok(
            "text/plain; charset=utf-8",
            before.replace(
                "In March, 41% of the applications were refused, up from 30% a year earlier.",
                "The figures for March will follow.",
            ),
        ),
    );
    let (_, report) = c.check(&["essay.md"]);
    let cited = citation(&report, "/a0", "essay.md");
    assert_eq!(cited["status"], "quote-gone", "{cited:#}");
    assert_eq!(cited["quote"]["parts_missing"], 1, "{cited:#}");
    let human = c
        .env
        .run(&["cite", "check", "--allow-private", "--offline", "essay.md"]);
    assert!(
        human.stdout.contains("a part of the quote is not in it"),
        "{}",
        human.stdout
    );
}

#[test]
fn cite_link_prints_a_robust_link_and_citations_with_the_hash() {
    let c = Corpus::new();
    c.env.run(&["add", &c.url(4)]).ok();
    let out = c.env.run(&["cite", "link", &c.url(4)]).ok().stdout;
    let list: serde_json::Value =
        serde_json::from_str(&c.env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let sha = list[0]["sha256"].as_str().expect("sha");
    let link = out.lines().next().expect("link");
    assert!(
        link.starts_with(&format!("<a href=\"{}\"", c.url(4))),
        "{link}"
    );
    assert!(link.contains("data-versionurl=\"ni:///sha-256;"), "{link}");
    assert!(link.contains("data-versiondate=\""), "{link}");
    assert!(
        link.contains(">ICE Just Renewed Its Contract With Palantir</a>"),
        "{link}"
    );
    assert!(out.contains("@online{"), "{out}");
    assert!(out.contains(&format!("sha256 = {{{sha}}}")), "{out}");
    let json_start = out.find("[\n").expect("csl-json");
    let csl: serde_json::Value = serde_json::from_str(&out[json_start..]).expect("csl-json");
    assert_eq!(csl[0]["URL"], c.url(4));
    assert!(csl[0]["note"].as_str().is_some_and(|n| n.contains(sha)));
    // An archived copy's URL, and a version that is not there.
    let html = c
        .env
        .run(&[
            "cite",
            "link",
            &c.url(4),
            "--format",
            "html",
            "--version-url",
            "https://web.archive.org/web/2024/x",
        ])
        .ok()
        .stdout;
    assert!(html.contains("data-versionurl=\"https://web.archive.org/web/2024/x\""));
    c.env
        .run(&["cite", "link", &c.url(4), "--version", "9"])
        .fails_with(2);
}

#[test]
fn a_gone_source_s_quote_is_checked_in_the_archive_s_copy_through_a_timegate() {
    let c = Corpus::new();
    let source = c.url(2);
    let archived = page(&c.seeds[2]);
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let wanted = source.clone();
    // A TimeGate at /tg/<original> answering by Accept-Datetime with a redirect to its memento.
    let archive = Server::dynamic(move |path, headers| {
        let datetime = headers
            .iter()
            .find(|(n, _)| n == "accept-datetime")
            .map(|(_, v)| v.clone());
        if let Some(original) = path.strip_prefix("/tg/") {
            log.lock()
                .expect("log")
                .push(datetime.clone().unwrap_or_default());
            if original == wanted && datetime.is_some() {
                return Reply::redirect(302, &format!("/web/20240312120000/{original}"))
                    .header("Vary", "accept-datetime");
            }
            return Reply::status(404);
        }
        if path.starts_with("/web/20240312120000/") {
            return Reply::ok("text/html; charset=utf-8", archived.clone())
                .header("Memento-Datetime", "Tue, 12 Mar 2024 12:00:00 GMT");
        }
        Reply::status(404)
    });
    // Gone before verbatim ever saw it.
    c.serve(2, Reply::status(410));
    c.env.write(
        "gone.md",
        format!(
            "Activists explained that \u{201C}Palantir\u{2019}s technology continues to play a key role in separating families targeted by ICE\u{201D} ([source]({source}), accessed 2024-03-12).\n"
        )
        .as_bytes(),
    );
    let (code, report) = c.check(&["--memento", &archive.url("/tg/"), "gone.md"]);
    assert_eq!(code, 1, "retracted fails by default");
    let cited = citation(&report, "/a2", "gone.md");
    assert_eq!(cited["status"], "retracted", "{cited:#}");
    let memento = &cited["memento"];
    assert_eq!(memento["found"], "exact", "{cited:#}");
    assert_eq!(memento["datetime"], "Tue, 12 Mar 2024 12:00:00 GMT");
    assert!(
        memento["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/web/20240312120000/{source}"))),
        "{cited:#}"
    );
    // The end of the access day, as RFC 7089 writes dates.
    assert_eq!(
        asked.lock().expect("asked").as_slice(),
        ["Wed, 13 Mar 2024 00:00:00 GMT"]
    );
    // A source that stands is not looked up.
    c.env.write(
        "fine.md",
        format!(
            "\u{201C}Despite organized protests around the country\u{201D} ([Vice]({})).\n",
            c.url(4)
        )
        .as_bytes(),
    );
    let (code, report) = c.check(&["--memento", &archive.url("/tg/"), "fine.md"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(asked.lock().expect("asked").len(), 1);
}

#[test]
fn a_document_cannot_make_cite_read_an_untracked_local_file() {
    let env = TestEnv::with_store();
    let secret = env.write("credentials", b"aws_access_key_id = AKIAEXAMPLESECRET\n");
    env.write(
        "pr.md",
        format!("\"aws access key\" ([x](file://{})).\n", secret.display()).as_bytes(),
    );
    let run = env.run(&["cite", "check", "--format", "json", "pr.md"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains("AKIAEXAMPLE"), "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["citations"][0]["status"], "not-tracked");
    assert!(run.stderr.contains("--capture-files"), "{}", run.stderr);
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(0),
        "the file was stored"
    );
    // With the flag, it is captured: the user asked for it.
    let run = env.run(&[
        "cite",
        "check",
        "--capture-files",
        "--format",
        "json",
        "pr.md",
    ]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_ne!(report["citations"][0]["status"], "not-tracked");
}

/// Issue 15: a citing document nested 100,000 deep (BibTeX braces, YAML flow collections,
/// HTML elements, Markdown blockquotes) kept `cite check` busy for minutes or overflowed its
/// stack. Each is now refused as malformed, naming the file, at once. The run is bounded by a
/// child-process timeout so that a regression fails instead of hanging the suite.
#[test]
fn deeply_nested_citing_documents_are_refused_quickly() {
    let env = TestEnv::with_store();
    let n = 100_000;
    let link = "https://a.example/";
    let documents = [
        (
            "deep.bib",
            format!(
                "@misc{{a, url = {{{link}}}, note = {}{}}}\n",
                "{".repeat(n),
                "}".repeat(n)
            ),
        ),
        (
            "deep.yaml",
            format!("citations: {}{}\n", "[".repeat(n), "]".repeat(n)),
        ),
        ("deep-map.yml", format!("citations: {}\n", "{a: ".repeat(n))),
        (
            "deep.html",
            format!(
                "<p>{}<a href=\"{link}\">x</a>{}</p>",
                "<div>".repeat(n),
                "</div>".repeat(n)
            ),
        ),
        (
            "deep-inline.html",
            format!("<p>{}<a href=\"{link}\">x</a></p>", "<span>".repeat(n)),
        ),
        (
            "deep.md",
            format!("{} \"Words\" [x]({link})\n", ">".repeat(n)),
        ),
    ];
    for (name, text) in documents {
        env.write(name, text.as_bytes());
        let run = env.run_within(&["cite", "check", "--offline", name], 30);
        let stderr = run.stderr;
        assert_eq!(run.code, 2, "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("nested more than 128 deep"),
            "{name}: {stderr}"
        );
    }
}
