//! `verbatim diff`: stored versions, a fresh copy, two documents; the word diff and its change
//! summary, `--stat`, colour, a unified diff that `patch` and `git apply` take, and JSON whose
//! ops rebuild the new text.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;

use crate::common::{Reply, Run, Server, TestEnv, redact_patterns, seed_files};

/// The Palantir seed (004): a headline, figures, a date and a quotation to change.
fn palantir() -> String {
    let seed = seed_files()
        .into_iter()
        .find(|p| p.display().to_string().contains("004_"))
        .expect("seed 004");
    std::fs::read_to_string(seed).expect("seed text")
}

/// The edits a publisher might make at once: headline rewritten, a figure and a date
/// corrected, a quotation altered, a paragraph deleted, a correction appended.
fn edited(text: &str) -> String {
    let edited = text
        .replacen(
            "ICE Just Renewed Its Contract With Palantir",
            "ICE Renews Palantir Contract Despite Protests",
            1,
        )
        .replacen("$49,874,018.14", "$51,000,000.00", 1)
        .replacen("September 5, 2020", "September 5, 2021", 1)
        .replacen(
            "\"We condemn the renewal of the contract",
            "\"We strongly condemn the renewal of the contract",
            1,
        );
    let dropped = edited
        .split("\n\n")
        .filter(|p| !p.starts_with("Palantir developed a mobile version"))
        .collect::<Vec<_>>()
        .join("\n\n");
    format!(
        "{}\n\nCorrection: An earlier version of this article misstated the value of the contract.\n",
        dropped.trim_end()
    )
}

/// A store tracking `article.txt` with two versions: the seed, then [`edited`].
fn two_versions() -> (TestEnv, PathBuf) {
    let env = TestEnv::with_store();
    let path = env.write("article.txt", palantir().as_bytes());
    env.run(&["add", "article.txt"]).ok();
    env.write("article.txt", edited(&palantir()).as_bytes());
    env.run(&["add", "article.txt"]).ok();
    (env, path)
}

/// The stored text of a version of `article.txt`.
fn stored_text(env: &TestEnv, version: u32) -> String {
    env.run(&["show", "article.txt", "--version", &version.to_string()])
        .ok()
        .stdout
}

fn redact(env: &TestEnv, text: &str) -> String {
    redact_patterns(
        &text.replace(&env.path().display().to_string(), "[dir]"),
        &[
            (r"\b[0-9a-f]{12,64}\b", "[hash]"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
            (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?Z?", "[time]"),
        ],
    )
}

#[test]
fn the_word_diff_of_an_edited_seed_with_its_summary() {
    let (env, _) = two_versions();
    let run = env.run(&["diff", "article.txt"]);
    assert_eq!(run.code, 1, "differences exit 1: {}", run.stderr);
    insta::assert_snapshot!(redact(&env, &run.stdout));
}

/// The first seed with a sentence reworded and its paragraph split in two, shown with no
/// context: only the changed paragraphs, the rest folded.
#[test]
fn snapshot_of_a_reworded_seed_without_context() {
    let env = TestEnv::with_store();
    let seed = std::fs::read_to_string(&seed_files()[0]).expect("seed");
    env.write("seed.txt", seed.as_bytes());
    env.run(&["add", "seed.txt"]).ok();
    let edited = seed
        .replacen(
            "680 undocumented immigrants across Mississippi were arrested",
            "about 680 undocumented immigrants were detained across Mississippi",
            1,
        )
        .replacen(
            "Hundreds of families were immediately separated, ",
            "Hundreds of families were immediately separated.\n\n",
            1,
        );
    env.write("seed.txt", edited.as_bytes());
    env.run(&["add", "seed.txt"]).ok();
    let run = env.run(&["diff", "seed.txt", "--context", "0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(redact(&env, &run.stdout));
}

#[test]
fn the_summary_names_each_kind_of_change() {
    let (env, _) = two_versions();
    let run = env.run(&["diff", "article.txt", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let s = &json["summary"];
    assert_eq!(s["typographic_only"], false);
    assert_eq!(
        s["headline"]["new"],
        "ICE Renews Palantir Contract Despite Protests"
    );
    let figures: Vec<(String, String)> = s["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| (f["old"].to_string(), f["new"].to_string()))
        .collect();
    assert!(
        figures.contains(&("\"$49,874,018.14\"".into(), "\"$51,000,000.00\"".into())),
        "{figures:?}"
    );
    assert!(
        figures.contains(&(
            "\"September 5, 2020\"".into(),
            "\"September 5, 2021\"".into()
        )),
        "{figures:?}"
    );
    let altered = s["quotations"]
        .as_array()
        .expect("quotations")
        .iter()
        .find(|q| q["kind"] == "altered")
        .expect("an altered quotation");
    assert!(
        altered["new"]
            .as_str()
            .is_some_and(|q| q.starts_with("We strongly condemn")),
        "{altered}"
    );
    // The deleted paragraph quoted "FALCON": that quotation is removed, not altered.
    assert!(
        s["quotations"]
            .as_array()
            .expect("quotations")
            .iter()
            .any(|q| q["kind"] == "removed" && q["old"] == "FALCON"),
        "{s}"
    );
    assert_eq!(s["paragraphs_removed"], 1);
    assert_eq!(s["paragraphs_added"], 1);
    assert!(
        s["notes_added"][0]
            .as_str()
            .is_some_and(|n| n.starts_with("Correction:")),
        "{s}"
    );
    assert_eq!(json["stat"]["paragraphs_removed"], 1);
}

#[test]
fn typography_alone_is_said_to_be_typographic() {
    let env = TestEnv::new();
    env.write("a.txt", "He said \"no\" - twice.\n".as_bytes());
    env.write(
        "b.txt",
        "He said \u{201C}no\u{201D} \u{2014} twice.\n".as_bytes(),
    );
    let run = env.run(&["diff", "a.txt", "b.txt"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("typographic only"), "{}", run.stdout);
    assert!(run.stdout.contains("words: unchanged"), "{}", run.stdout);
}

/// Pairs of a version's hash prefix and number from `log --format json`.
fn version_hashes(env: &TestEnv, source: &str) -> Vec<(u64, String, String)> {
    let log: serde_json::Value =
        serde_json::from_str(&env.run(&["log", source, "--format", "json"]).ok().stdout)
            .expect("log json");
    log.as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().expect("number"),
                v["sha256"].as_str().expect("sha").to_owned(),
                v["captured_at"].as_str().expect("time").to_owned(),
            )
        })
        .collect()
}

#[test]
fn versions_by_number_hash_prefix_and_time() {
    let (env, path) = two_versions();
    let third = edited(&palantir()).replacen("Thiel", "Thiel (co-founder)", 1);
    std::fs::write(&path, third).expect("write");
    env.run(&["add", "article.txt"]).ok();
    let versions = version_hashes(&env, "article.txt");
    assert_eq!(versions.len(), 3);

    let one_three = env.run(&["diff", "article.txt", "1", "3"]);
    assert_eq!(one_three.code, 1);
    assert_eq!(
        env.run(&["diff", "article.txt", "v1", "v3"]).stdout,
        one_three.stdout
    );
    let by_hash = env.run(&[
        "diff",
        "article.txt",
        &versions[0].1[..10],
        &versions[2].1[..8],
    ]);
    assert_eq!(by_hash.stdout, one_three.stdout);
    // FROM alone compares it with the latest; --at names FROM by time.
    assert_eq!(
        env.run(&["diff", "article.txt", "1"]).stdout,
        one_three.stdout
    );
    let at = env.run(&["diff", "article.txt", "--at", &versions[0].2]);
    assert_eq!(at.stdout, one_three.stdout);
    // The default is the previous version against the latest.
    let last = env.run(&["diff", "article.txt"]);
    assert_eq!(
        last.stdout,
        env.run(&["diff", "article.txt", "2", "3"]).stdout
    );
    assert!(
        last.stdout.contains("{+Thiel (co-founder)’s+}"),
        "{}",
        last.stdout
    );

    let same = env.run(&["diff", "article.txt", "2", "2"]).ok();
    assert!(same.stdout.contains("no changes"), "{}", same.stdout);

    let missing = env.run(&["diff", "article.txt", "9"]).fails_with(2);
    assert!(
        missing.stderr.contains("no version 9"),
        "{}",
        missing.stderr
    );
    let unknown = env.run(&["diff", "article.txt", "abcdef12"]).fails_with(2);
    assert!(unknown.stderr.contains("abcdef12"), "{}", unknown.stderr);
    let before = env
        .run(&["diff", "article.txt", "--at", "2001-01-01"])
        .fails_with(2);
    assert!(
        before.stderr.contains("no version yet"),
        "{}",
        before.stderr
    );
}

#[test]
fn a_single_version_has_nothing_to_compare_with() {
    let env = TestEnv::with_store();
    env.write("one.txt", b"Only one version.\n");
    env.run(&["add", "one.txt"]).ok();
    let run = env.run(&["diff", "one.txt"]).fails_with(2);
    assert!(run.stderr.contains("--against"), "{}", run.stderr);
}

#[test]
fn against_a_fresh_copy_records_nothing() {
    let env = TestEnv::with_store();
    env.write("article.txt", palantir().as_bytes());
    env.run(&["add", "article.txt"]).ok();
    let head = env.head();
    env.write("draft.txt", edited(&palantir()).as_bytes());
    let run = env.run(&["diff", "article.txt", "--against", "draft.txt"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("$[-49,874,018.14-]{+51,000,000.00+}"),
        "{}",
        run.stdout
    );
    assert_eq!(env.head(), head, "--against must not write to the store");
    let missing = env
        .run(&["diff", "article.txt", "--against", "nowhere.txt"])
        .fails_with(2);
    assert!(missing.stderr.contains("nowhere.txt"), "{}", missing.stderr);
}

/// An article in a news page whose furniture differs with `n`.
fn page(article: &str, n: u32) -> Vec<u8> {
    let mut blocks = article
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let title = blocks.next().unwrap_or_default();
    let body: String = blocks.map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <nav>Home | World | Session {n:08x}</nav><article><h1>{title}</h1>\n{body}</article>\
         <footer>Rendered at request {n}</footer></body></html>"
    )
    .into_bytes()
}

/// A diff of two pages of `page` whose article changed one figure: it differs, it names the
/// figure, and it shows none of the page furniture.
fn says_the_article_figure_changed(run: &Run) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("figure changed: $49,874,018.14 → $51,000,000.00"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Session"), "{}", run.stdout);
}

#[test]
fn two_documents_need_no_store_and_html_is_extracted() {
    let env = TestEnv::new();
    let old = palantir();
    let new = old.replacen("$49,874,018.14", "$51,000,000.00", 1);
    let server = Server::with(&[
        ("/a", Reply::ok("text/html; charset=utf-8", page(&old, 1))),
        ("/b", Reply::ok("text/html; charset=utf-8", page(&new, 2))),
    ]);
    let run = env.run(&["diff", &server.url("/a"), &server.url("/b")]);
    // Page furniture is not article text, so its changes are not shown.
    says_the_article_figure_changed(&run);
    assert!(!env.store().exists());

    env.write("a.txt", old.as_bytes());
    env.write("b.txt", old.as_bytes());
    let same = env.run(&["diff", "a.txt", "b.txt"]).ok();
    assert!(same.stdout.contains("no changes"), "{}", same.stdout);
    env.run(&["diff", "a.txt", "missing.txt"]).fails_with(2);
    env.run(&["diff", &server.url("/gone"), "a.txt"])
        .fails_with(4);
}

#[test]
fn binary_documents_compare_by_bytes() {
    let env = TestEnv::new();
    env.write("a.pdf", b"%PDF-1.4\n\x00\x01binary one");
    env.write("b.pdf", b"%PDF-1.4\n\x00\x01binary two");
    let run = env.run(&["diff", "a.pdf", "b.pdf"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("binary content: the bytes differ"),
        "{}",
        run.stdout
    );
    env.run(&["diff", "a.pdf", "a.pdf"]).ok();
    // A patch hashes no text, but binary content is still compared by its bytes, short files
    // (read) and long ones (mapped) alike.
    let mut long_a = b"%PDF-1.4\n\x00\x01".to_vec();
    long_a.resize(100_000, 7);
    let mut long_b = long_a.clone();
    long_b[50_000] = 8;
    env.write("long-a.pdf", &long_a);
    env.write("long-b.pdf", &long_b);
    for (a, b) in [("a.pdf", "b.pdf"), ("long-a.pdf", "long-b.pdf")] {
        let run = env.run(&["diff", a, b, "--format", "unified"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("the bytes differ"), "{}", run.stdout);
        let same = env.run(&["diff", a, a, "--format", "unified"]).ok();
        assert!(
            same.stdout.contains("the bytes are identical"),
            "{}",
            same.stdout
        );
    }
}

#[test]
fn stat_context_and_colour() {
    let (env, _) = two_versions();
    let stat = env.run(&["diff", "article.txt", "--stat"]);
    assert_eq!(stat.code, 1);
    assert!(
        stat.stdout.contains("paragraphs: 1 added, 1 removed"),
        "{}",
        stat.stdout
    );
    assert!(
        !stat.stdout.contains("[-"),
        "--stat shows no diff: {}",
        stat.stdout
    );

    let plain = env.run(&["diff", "article.txt", "--context", "0"]).stdout;
    assert!(plain.contains("[-") && plain.contains("{+"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "no colour when NO_COLOR is set");
    let wide = env.run(&["diff", "article.txt", "--context", "100"]).stdout;
    assert!(!wide.contains("unchanged paragraph"), "{wide}");
    assert!(plain.contains("unchanged paragraph"), "{plain}");

    let colour = env
        .run(&["diff", "article.txt", "--color", "always"])
        .stdout;
    assert!(
        colour.contains("\u{1b}[31m") && colour.contains("\u{1b}[32m"),
        "{colour}"
    );
    assert!(
        !colour.contains("[-") && !colour.contains("{+"),
        "colour replaces markers"
    );

    let lines = env
        .run(&[
            "diff",
            "article.txt",
            "--granularity",
            "line",
            "--context",
            "0",
        ])
        .stdout;
    assert!(lines.contains("[-Per the new contract"), "{lines}");
    let chars = env
        .run(&[
            "diff",
            "article.txt",
            "--granularity",
            "char",
            "--context",
            "0",
        ])
        .stdout;
    assert!(chars.contains("202[-0-]{+1+}"), "{chars}");
}

#[test]
fn the_largest_context_shows_everything_instead_of_overflowing() {
    let (env, _) = two_versions();
    let huge = usize::MAX.to_string();
    let words = env.run(&["diff", "article.txt", "--context", &huge]);
    assert_eq!(words.code, 1, "{}", words.stderr);
    assert!(
        !words.stdout.contains("unchanged paragraph"),
        "{}",
        words.stdout
    );
    let unified = env.run(&[
        "diff",
        "article.txt",
        "--format",
        "unified",
        "--context",
        &huge,
    ]);
    assert_eq!(unified.code, 1, "{}", unified.stderr);
    let (from, to) = (stored_text(&env, 1), stored_text(&env, 2));
    let patch = env.write("all.patch", unified.stdout.as_bytes());
    let work = env.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    assert_eq!(apply_with_patch(&work, &from, &patch), to);
    // One hunk, holding every line of the old text.
    assert_eq!(
        unified.stdout.matches("\n@@ ").count(),
        1,
        "{}",
        unified.stdout
    );
}

#[test]
fn the_unified_diff_applies_with_patch_and_git_apply() {
    let (env, _) = two_versions();
    let (from, to) = (stored_text(&env, 1), stored_text(&env, 2));
    let run = env.run(&["diff", "article.txt", "--format", "unified"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let patch = env.write("change.patch", run.stdout.as_bytes());
    assert!(run.stdout.starts_with("--- a/"), "{}", run.stdout);

    let work = env.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    assert_eq!(apply_with_patch(&work, &from, &patch), to);

    // git apply patches the file the header names (a/<id>.txt), outside any repository.
    let name = run
        .stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("--- a/"))
        .and_then(|l| l.split('\t').next())
        .expect("header name")
        .to_owned();
    let repo = env.path().join("git-apply");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join(&name), &from).expect("write");
    let out = Command::new("git")
        .arg("apply")
        .arg(&patch)
        .current_dir(&repo)
        .env("HOME", env.path())
        .output()
        .expect("git apply");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(repo.join(&name)).expect("read"), to);
}

/// Applies `patch` to `from` with GNU patch and returns the result.
fn apply_with_patch(dir: &Path, from: &str, patch: &Path) -> String {
    let old = dir.join("old.txt");
    let out_file = dir.join("new.txt");
    std::fs::write(&old, from).expect("write");
    let _ = std::fs::remove_file(&out_file);
    let out = Command::new("patch")
        .arg("--quiet")
        .arg("--force")
        .arg("-o")
        .arg(&out_file)
        .arg(&old)
        .arg(patch)
        .output()
        .expect("run patch (GNU patch)");
    assert!(
        out.status.success(),
        "patch failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&out_file).unwrap_or_default()
}

/// Rebuilds the new text from the old one and the JSON ops, by their character offsets.
fn rebuild(old: &str, json: &serde_json::Value) -> String {
    let old_chars: Vec<char> = old.chars().collect();
    let mut out = String::new();
    let mut new_len = 0;
    for op in json["ops"].as_array().expect("ops") {
        let text = op["text"].as_str().expect("text");
        let (os, oe) = (
            op["old_start"].as_u64().expect("o") as usize,
            op["old_end"].as_u64().expect("o") as usize,
        );
        let (ns, ne) = (
            op["new_start"].as_u64().expect("n") as usize,
            op["new_end"].as_u64().expect("n") as usize,
        );
        assert_eq!(ns, new_len, "ops are contiguous in the new text");
        match op["op"].as_str().expect("op") {
            "equal" | "delete" => {
                let slice: String = old_chars[os..oe].iter().collect();
                assert_eq!(slice, text, "old offsets point at the op's text");
                if op["op"] == "equal" {
                    out.push_str(text);
                    new_len += ne - ns;
                } else {
                    assert_eq!(ns, ne);
                }
            }
            "insert" => {
                assert_eq!(os, oe);
                assert_eq!(ne - ns, text.chars().count());
                out.push_str(text);
                new_len = ne;
            }
            other => panic!("unknown op {other}"),
        }
    }
    out
}

#[test]
fn json_ops_rebuild_the_new_text() {
    let (env, _) = two_versions();
    let (from, to) = (stored_text(&env, 1), stored_text(&env, 2));
    let run = env.run(&["diff", "article.txt", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["granularity"], "word");
    assert_eq!(json["identical"], false);
    assert_eq!(json["approximate"], false);
    assert_eq!(json["from"]["version"], 1);
    assert_eq!(json["to"]["version"], 2);
    assert_eq!(rebuild(&from, &json), to);
}

#[test]
fn unrelated_large_documents_give_an_approximate_diff_within_the_deadline() {
    let env = TestEnv::new();
    // Two unrelated texts of ~1 MB from a small vocabulary: the worst case for alignment.
    let words = |seed: u64| {
        let mut x = seed;
        let mut s = String::new();
        while s.len() < 1_000_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(
                ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"][(x >> 60) as usize % 6],
            );
            s.push(if (x >> 50).is_multiple_of(40) {
                '\n'
            } else {
                ' '
            });
        }
        s
    };
    env.write("a.txt", words(1).as_bytes());
    env.write("b.txt", words(2).as_bytes());
    let run = env.run(&["diff", "a.txt", "b.txt", "--stat", "--deadline", "0.5"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("approximate"), "{}", run.stdout);
    let json = env.run(&[
        "diff",
        "a.txt",
        "b.txt",
        "--format",
        "json",
        "--deadline",
        "0.5",
    ]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(json["approximate"], true);
    assert_eq!(rebuild(&words(1), &json), words(2));
}

#[test]
fn check_json_carries_the_change_summary_of_an_edit() {
    let env = TestEnv::with_store();
    env.write("article.txt", palantir().as_bytes());
    env.run(&["add", "article.txt"]).ok();
    env.write("article.txt", edited(&palantir()).as_bytes());
    let run = env.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let result = &json["results"][0];
    assert_eq!(result["verdict"], "edited");
    let summary = &result["change_summary"];
    let figures = summary["figures"].as_array().expect("figures");
    assert!(
        figures
            .iter()
            .any(|f| f["old"] == "$49,874,018.14" && f["new"] == "$51,000,000.00"),
        "{summary}"
    );
    assert!(summary["notes_added"][0].is_string(), "{summary}");
}

/// Text with the characters that break naive diffs: combining marks, CJK, emoji with
/// modifiers, right-to-left script, and every kind of line break and space.
fn unicode_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "word",
        "Wort",
        "e\u{301}",
        "\u{65e5}\u{672c}\u{8a9e}",
        "\u{1f44d}\u{1f3fd}",
        "\u{05e9}\u{05dc}\u{05d5}\u{05dd}",
        "\u{0627}\u{0644}\u{0639}\u{0631}\u{0628}\u{064a}\u{0629}",
        " ",
        " ",
        "\n",
        "\n\n",
        "\t",
        "\u{a0}",
        "\"",
        "\u{201c}",
        ".",
        "42",
        "\r\n",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The unified diff applied with GNU patch turns FROM into TO, whatever the text.
    #[test]
    fn unified_output_applied_with_patch_gives_to(old in unicode_text(), new in unicode_text(), context in 0usize..4) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut patch = Vec::new();
        verbatim::report::diff::diff_unified(
            &mut patch, old.as_bytes(), new.as_bytes(), "a/doc.txt", "b/doc.txt", context, std::time::Duration::from_secs(5),
        ).expect("write");
        let patch_file = dir.path().join("p.patch");
        std::fs::write(&patch_file, &patch).expect("write");
        let result = if patch.is_empty() { old.clone() } else { apply_with_patch(dir.path(), &old, &patch_file) };
        prop_assert_eq!(result, new);
    }
}

/// Files long enough to be mapped rather than read (64 KiB and up) give what read ones give:
/// a plain UTF-8 text (its own bytes), one with CRLF line ends and an HTML page (both
/// extracted); the patch applies, the JSON rebuilds the new text.
#[test]
fn long_local_files_diff_as_short_ones_do() {
    let env = TestEnv::new();
    let article = palantir();
    let mut old = String::new();
    while old.len() < 200_000 {
        old.push_str(&article);
        old.push('\n');
    }
    let new = old.replacen("$49,874,018.14", "$51,000,000.00", 3);
    env.write("old.txt", old.as_bytes());
    env.write("new.txt", new.as_bytes());
    let unified = env.run(&["diff", "old.txt", "new.txt", "--format", "unified"]);
    assert_eq!(unified.code, 1, "{}", unified.stderr);
    let patch = env.write("long.patch", unified.stdout.as_bytes());
    let work = env.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    assert_eq!(apply_with_patch(&work, &old, &patch), new);
    let json = env.run(&["diff", "old.txt", "new.txt", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(rebuild(&old, &value), new);
    assert_eq!(
        value["to"]["sha256"], value["to"]["text_sha256"],
        "a UTF-8 text file is its own text: {}",
        json.stdout
    );

    // CRLF line ends: the text is extracted (LF), not the bytes.
    env.write("old-crlf.txt", old.replace('\n', "\r\n").as_bytes());
    env.write("new-crlf.txt", new.replace('\n', "\r\n").as_bytes());
    let crlf = env.run(&["diff", "old-crlf.txt", "new-crlf.txt", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&crlf.stdout).expect("json");
    assert_eq!(rebuild(&old, &value), new);
    assert_ne!(value["to"]["sha256"], value["to"]["text_sha256"]);

    // HTML: the article text, as for a short page.
    let page_old = page(&old, 1);
    let page_new = page(&new, 2);
    assert!(page_old.len() > 64 << 10);
    env.write("old.html", &page_old);
    env.write("new.html", &page_new);
    let html = env.run(&["diff", "old.html", "new.html", "--color", "never"]);
    says_the_article_figure_changed(&html);

    // The same file twice: no changes, exit 0.
    env.run(&["diff", "old.txt", "old.txt", "--format", "unified"])
        .ok();
}

/// A file truncated while `diff` reads it: the diff is of the bytes it read, never a crash. A
/// word diff reads files (its text must be a `str`, which a mapping cannot promise); a patch
/// maps long files, reads zeros past a new end instead of dying of SIGBUS, and says the file
/// changed.
#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_during_a_diff_is_never_a_crash() {
    for format in ["human", "unified"] {
        a_file_truncated_during_a_diff(format);
    }
}

#[cfg(target_os = "linux")]
fn a_file_truncated_during_a_diff(format: &str) {
    let env = TestEnv::new();
    // Two unrelated texts of ~2 MB: aligning them takes long enough to truncate one meanwhile.
    let words: Vec<&str> = palantir().leak().split_whitespace().collect();
    let text = |seed: u64| {
        let mut state = seed;
        let mut out = String::new();
        while out.len() < 2_000_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.push_str(words[(state >> 33) as usize % words.len()]);
            out.push(if state.is_multiple_of(13) { '\n' } else { ' ' });
        }
        out
    };
    let x = env.write("x.txt", text(1).as_bytes());
    env.write("y.txt", text(2).as_bytes());
    let args = [
        "diff",
        "x.txt",
        "y.txt",
        "--color",
        "never",
        "--deadline",
        "30",
        "--format",
        format,
    ];
    let child = env
        .command()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Truncated while the diff starts, reads or aligns: whichever, it compares what it read.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::File::options()
        .write(true)
        .open(&x)
        .and_then(|f| f.set_len(0))
        .expect("truncate");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
    assert!(
        stderr.is_empty()
            || stderr.starts_with("verbatim: warning: x.txt changed while it was compared"),
        "{format}: {stderr}"
    );
}
