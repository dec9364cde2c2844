//! Stock git reads the store: log with trailers, text history as a readable diff, show, clone.

use crate::common::TestEnv;

#[test]
fn stock_git_reads_the_store() {
    let env = TestEnv::with_store();
    let doc = env.write(
        "article.txt",
        b"The contract runs until 2020.\n\nSecond paragraph.\n",
    );
    let doc = doc.to_str().expect("utf-8");
    env.run(&["add", doc]).ok();
    env.write(
        "article.txt",
        b"The contract runs until 2021.\n\nSecond paragraph.\n",
    );
    env.run(&["add", doc]).ok();

    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let id = list[0]["id"].as_str().expect("id");
    let sha = list[0]["sha256"].as_str().expect("sha");
    let text_path = format!("sources/{}/{}/{id}/text.txt", &id[..2], &id[2..4]);

    // Trailers are machine-readable by git itself.
    let trailers = env
        .git(&["log", "-1", "--format=%(trailers:key=Verbatim-Source,valueonly)%(trailers:key=Verbatim-Sha256,valueonly)"])
        .ok();
    assert_eq!(
        trailers.stdout.split_whitespace().collect::<Vec<_>>(),
        [id, sha]
    );

    // The text's history is a readable diff of the changed line.
    let log = env
        .git(&["log", "-p", "--format=%s", "--", &text_path])
        .ok();
    assert!(
        log.stdout.contains("-The contract runs until 2020."),
        "{}",
        log.stdout
    );
    assert!(
        log.stdout.contains("+The contract runs until 2021."),
        "{}",
        log.stdout
    );
    assert_eq!(log.stdout.matches("add: capture 1 source").count(), 2);

    // A version record is plain JSON at a stable path.
    let record = env
        .git(&[
            "show",
            &format!(
                "main:sources/{}/{}/{id}/versions/00000002.json",
                &id[..2],
                &id[2..4]
            ),
        ])
        .ok();
    let record: serde_json::Value = serde_json::from_str(&record.stdout).expect("record json");
    assert_eq!(record["version"], 2);
    assert_eq!(record["raw"]["sha256"], sha);

    // A clone is a complete, valid copy that verbatim itself can read.
    let clone = env.path().join("copy.git");
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(env.store())
        .arg(&clone)
        .status()
        .expect("git clone");
    assert!(status.success());
    let original = env.git(&["rev-parse", "main"]).ok().stdout;
    let copied = std::process::Command::new("git")
        .arg("-C")
        .arg(&clone)
        .args(["rev-parse", "main"])
        .output()
        .expect("rev-parse");
    assert_eq!(String::from_utf8_lossy(&copied.stdout), original);
    let shown = env
        .run(&["--store", "copy.git", "show", id, "--version", "1"])
        .ok();
    assert_eq!(
        shown.stdout,
        "The contract runs until 2020.\n\nSecond paragraph.\n"
    );
    env.git(&["fsck", "--full", "--strict", "--no-progress"])
        .ok();
}
