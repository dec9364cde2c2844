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

/// A loose object's file in the store.
fn object_path(env: &TestEnv, blob: &str) -> std::path::PathBuf {
    env.store()
        .join("objects")
        .join(&blob[..2])
        .join(&blob[2..])
}

/// The size on disk of a loose object.
fn object_size(env: &TestEnv, blob: &str) -> u64 {
    std::fs::metadata(object_path(env, blob))
        .expect("object")
        .len()
}

/// A source's current text blob and the type of its loose object's first deflate block.
fn text_blob_level(env: &TestEnv, doc: &str) -> (String, u8) {
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout).expect("json");
    let entry = list
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["locator"].as_str().is_some_and(|l| l.ends_with(doc)))
        .expect("source listed");
    let id = entry["id"].as_str().expect("id");
    let path = format!("main:sources/{}/{}/{id}/text.txt", &id[..2], &id[2..4]);
    let blob = env.git(&["rev-parse", &path]).ok().stdout.trim().to_owned();
    let bytes = std::fs::read(object_path(env, &blob)).expect("loose object");
    // BTYPE, bits 1–2 of the byte after the two-byte zlib header: 0 for a stored block.
    (blob, bytes[2] & 0b110)
}

#[test]
fn new_stores_keep_blobs_stored_and_honour_git_s_loose_compression() {
    let env = TestEnv::with_store();
    let text = "A paragraph that zlib would shrink a great deal. ".repeat(200);
    let doc = env.write("a.txt", text.as_bytes());
    env.run(&["add", doc.to_str().expect("utf-8")]).ok();
    let (blob, btype) = text_blob_level(&env, "a.txt");
    assert_eq!(btype, 0, "the blob is deflated, not stored");
    let size = object_size(&env, &blob);
    assert!(
        size > text.len() as u64,
        "{size} bytes for {} of text",
        text.len()
    );
    env.git(&["fsck", "--full", "--strict", "--no-progress"])
        .ok();

    // Git's own setting turns deflating back on, for the blobs written from then on.
    env.git(&["config", "core.looseCompression", "6"]).ok();
    let doc = env.write("b.txt", format!("Another. {text}").as_bytes());
    env.run(&["add", doc.to_str().expect("utf-8")]).ok();
    let (blob, btype) = text_blob_level(&env, "b.txt");
    assert_ne!(btype, 0, "the blob is stored, not deflated");
    let size = object_size(&env, &blob);
    assert!(
        size < text.len() as u64 / 10,
        "{size} bytes for {} of text",
        text.len()
    );
    env.git(&["fsck", "--full", "--strict", "--no-progress"])
        .ok();
    env.run(&["verify"]).ok();
}
