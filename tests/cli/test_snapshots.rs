//! Snapshots of check's human and JSON output, the interfaces people and pipelines read. Paths,
//! ids, hashes and times differ per run and are replaced by placeholders; the sources are named
//! on the command line, so results come in that order.

use crate::common::{TestEnv, redact_patterns, seed_files};

/// Five seed articles as local files, checked once after: a figure changed, a file deleted,
/// typography only (curly quotes made straight), nothing, and a correction appended.
fn scripted_check(env: &TestEnv, format: &str) -> String {
    let mut paths = Vec::new();
    for (i, seed) in seed_files().iter().enumerate() {
        let text = std::fs::read_to_string(seed).expect("seed");
        paths.push(env.write(&format!("article{i}.txt"), text.as_bytes()));
    }
    let mut add = vec!["add".to_owned()];
    add.extend(paths.iter().map(|p| p.display().to_string()));
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    env.run(&add).ok();

    let text = |i: usize| std::fs::read_to_string(&paths[i]).expect("article");
    env.write("article0.txt", text(0).replacen("680", "700", 1).as_bytes());
    std::fs::remove_file(&paths[1]).expect("delete");
    env.write(
        "article2.txt",
        text(2).replace(['\u{201c}', '\u{201d}'], "\"").as_bytes(),
    );
    env.write(
        "article4.txt",
        format!(
            "{}\n\nCorrection: an earlier version misstated a date.\n",
            text(4).trim_end()
        )
        .as_bytes(),
    );
    let mut check = vec!["check", "--format", format, "--color", "never"];
    let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    check.extend(named.iter().map(String::as_str));
    let run = env.run(&check);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.stdout
        .replace(&env.path().display().to_string(), "[dir]")
}

fn redact(text: &str) -> String {
    redact_patterns(
        text,
        &[
            (r"\b[0-9a-f]{64}\b", "[sha256]"),
            (r"\b[0-9a-f]{16}\b", "[id]"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
            (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?( UTC)?", "[time]"),
        ],
    )
}

#[test]
fn check_human_output() {
    let env = TestEnv::with_store();
    insta::assert_snapshot!(redact(&scripted_check(&env, "human")));
}

#[test]
fn check_json_output() {
    let env = TestEnv::with_store();
    insta::assert_snapshot!(redact(&scripted_check(&env, "json")));
}

/// Five seed articles as local files added, then added again with a sixth: a figure changed,
/// nothing, typography only, a removal notice in place of the article, and a new file.
fn scripted_add(env: &TestEnv) -> String {
    let mut paths = Vec::new();
    for (i, seed) in seed_files().iter().enumerate() {
        let text = std::fs::read_to_string(seed).expect("seed");
        paths.push(env.write(&format!("article{i}.txt"), text.as_bytes()));
    }
    let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut add = vec!["add"];
    add.extend(named.iter().map(String::as_str));
    let first = env.run(&add).ok().stdout;

    let text = |i: usize| std::fs::read_to_string(&paths[i]).expect("article");
    env.write("article0.txt", text(0).replacen("680", "700", 1).as_bytes());
    env.write(
        "article2.txt",
        text(2).replace(['\u{201c}', '\u{201d}'], "\"").as_bytes(),
    );
    env.write(
        "article3.txt",
        format!(
            "{}\n\nThis article has been removed pending a review of its sources.\n",
            text(3).lines().next().unwrap_or_default()
        )
        .as_bytes(),
    );
    let new = env.write("article5.txt", b"A new article.\n\nIt has one paragraph.\n");
    let new = new.display().to_string();
    add.push(&new);
    let again = env.run(&add).ok().stdout;
    format!("{first}--\n{again}").replace(&env.path().display().to_string(), "[dir]")
}

#[test]
fn add_human_output() {
    let env = TestEnv::with_store();
    insta::assert_snapshot!(redact(&scripted_add(&env)));
}

/// The README's citation example on local copies of the seeds: a quote standing, a figure gone
/// (changed in version 2), a quote altered by one word.
fn scripted_cite(env: &TestEnv, format: &str) -> String {
    let seeds = seed_files();
    let copy = |i: usize, name: &str| {
        let text = std::fs::read_to_string(&seeds[i]).expect("seed");
        env.write(name, text.as_bytes())
    };
    let (a, b, c) = (
        copy(0, "bhrrc.txt"),
        copy(4, "vice.txt"),
        copy(3, "vice2.txt"),
    );
    for p in [&a, &b, &c] {
        env.run(&["add", &p.display().to_string()]).ok();
    }
    let renewed = std::fs::read_to_string(&b).expect("article");
    env.write(
        "vice.txt",
        renewed
            .replace("$49,874,018.14", "$51,000,000.00")
            .as_bytes(),
    );
    env.run(&["add", &b.display().to_string()]).ok();
    let url = |p: &std::path::Path| format!("file://{}", p.display());
    env.write(
        "essay.md",
        format!(
            "Mass raids followed: \u{201C}680 undocumented immigrants across Mississippi were arrested in mass raids\u{201D} ([BHRRC]({})).\n\n\
             Vice put the renewed contract at \"$49,874,018.14\" ([Vice]({})).\n\n\
             The company \"has revealed more details about how it supports U.S. Immigration and Customs Enforcement deportation operations\" ([Vice]({})).\n",
            url(&a),
            url(&b),
            url(&c)
        )
        .as_bytes(),
    );
    let run = env.run(&[
        "cite",
        "check",
        "--offline",
        "--format",
        format,
        "--color",
        "never",
        "essay.md",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.stdout
        .replace(&env.path().display().to_string(), "[dir]")
}

#[test]
fn cite_human_output() {
    let env = TestEnv::with_store();
    insta::assert_snapshot!(redact(&scripted_cite(&env, "human")));
}

#[test]
fn cite_json_output() {
    let env = TestEnv::with_store();
    insta::assert_snapshot!(redact(&scripted_cite(&env, "json")));
}
