//! `verbatim verify` on an intact store, then on copies of it tampered with in every way the
//! store's layout allows: each tampering is detected and named, and every problem is reported in
//! one run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestEnv, seed_files};

/// A store holding the five seeds as local files, two of them with a second version, and a
/// check that recorded observations. Returns the environment and the edited files' paths.
fn seeded() -> (TestEnv, Vec<PathBuf>) {
    let env = TestEnv::with_store();
    let mut paths = Vec::new();
    for (i, seed) in seed_files().iter().enumerate() {
        let text = std::fs::read_to_string(seed).expect("seed");
        paths.push(env.write(&format!("a{i}.txt"), text.as_bytes()));
    }
    let mut add = vec!["add".to_owned()];
    add.extend(paths.iter().map(|p| p.display().to_string()));
    env.run(&add.iter().map(String::as_str).collect::<Vec<_>>())
        .ok();
    for i in [0, 3] {
        let text = std::fs::read_to_string(&paths[i]).expect("read");
        std::fs::write(&paths[i], format!("{text}\nA line added later.\n")).expect("write");
    }
    let run = env.run(&["check"]);
    assert_eq!(run.code, 1, "two edits: {}", run.stderr);
    (env, paths)
}

fn verify_json(env: &TestEnv, store: &Path) -> (i32, serde_json::Value) {
    let run = env.run_on(store, &["verify", "--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "verify could not run: {}",
        run.stderr
    );
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("verify json"),
    )
}

/// A copy of the store to tamper with.
fn copy_store(env: &TestEnv, name: &str) -> PathBuf {
    let to = env.path().join(name);
    let status = Command::new("cp")
        .arg("-a")
        .arg(env.store())
        .arg(&to)
        .status()
        .expect("cp");
    assert!(status.success());
    to
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "tamper")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "tamper")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The problems of a report whose kind is `kind`.
fn of_kind<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["kind"] == kind)
        .collect()
}

/// A version record of the first source with two versions: (source id, record path).
fn a_second_version(store: &Path) -> (String, String) {
    let listing = git(store, &["ls-tree", "-r", "--name-only", "main"]);
    let path = listing
        .lines()
        .find(|l| l.ends_with("/versions/00000002.json"))
        .expect("a second version")
        .to_owned();
    let id = path.split('/').nth(3).expect("id").to_owned();
    (id, path)
}

#[test]
fn an_intact_store_verifies() {
    let (env, _) = seeded();
    let (code, report) = verify_json(&env, &env.store());
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["checked"]["sources"], 5);
    assert_eq!(report["checked"]["versions"], 7);
    assert_eq!(report["checked"]["streams"], 14);
    assert!(report["checked"]["commits"].as_u64() >= Some(2));
    // Stock git agrees that nothing is wrong.
    git(&env.store(), &["fsck", "--full", "--strict"]);
    let human = env.run(&["verify"]).ok();
    assert!(
        human.stdout.contains("everything holds"),
        "{}",
        human.stdout
    );
    // One source at a time, too.
    let (code, one) = verify_json(&env, &env.store());
    assert_eq!(code, 0, "{one}");
    let run = env.run(&["verify", "a1.txt", "--format", "json"]).ok();
    let one: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(one["checked"]["sources"], 1);
}

#[test]
fn a_flipped_byte_in_a_loose_object_is_named() {
    let (env, _) = seeded();
    let store = copy_store(&env, "flipped");
    let (id, record) = a_second_version(&store);
    let json = git(&store, &["show", &format!("main:{record}")]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("record");
    let blob = v["raw"]["git_blob"].as_str().expect("blob").to_owned();
    let file = store.join("objects").join(&blob[..2]).join(&blob[2..]);
    let mut bytes = std::fs::read(&file).expect("loose object");
    // Past the zlib header, in the compressed stream: the object no longer reads back right.
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    // Loose objects are read-only.
    let writable: std::fs::Permissions = std::os::unix::fs::PermissionsExt::from_mode(0o644);
    std::fs::set_permissions(&file, writable).expect("chmod");
    std::fs::write(&file, &bytes).expect("write");
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let corrupt: Vec<_> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["object"] == blob.as_str())
        .collect();
    assert!(!corrupt.is_empty(), "{report}");
    assert!(
        corrupt
            .iter()
            .all(|p| p["kind"] == "corrupt_object" || p["kind"] == "digest_mismatch"),
        "{report}"
    );
    assert!(
        corrupt.iter().any(|p| p["source"] == id.as_str()),
        "{report}"
    );
}

#[test]
fn a_deleted_pack_leaves_the_branch_unreadable_and_verify_says_so() {
    let (env, _) = seeded();
    let store = copy_store(&env, "packed");
    git(&store, &["gc", "--quiet"]);
    let pack_dir = store.join("objects/pack");
    for entry in std::fs::read_dir(&pack_dir).expect("pack dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pack" || e == "idx") {
            std::fs::remove_file(&path).expect("remove pack");
        }
    }
    // The branch's own commit went with the pack: nothing can be reached, and verify says so.
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let missing = of_kind(&report, "missing_object");
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["path"], "refs/heads/main", "{report}");
    // Other commands refuse the store in one line, pointing at verify.
    let list = env.run_on(&store, &["list"]).fails_with(3);
    assert!(
        list.stderr.contains("damaged") && list.stderr.contains("verify"),
        "{}",
        list.stderr
    );
}

#[test]
fn a_deleted_pack_under_newer_loose_objects_is_reported_object_by_object() {
    let (env, paths) = seeded();
    let store = copy_store(&env, "older-pack");
    git(&store, &["gc", "--quiet"]);
    // A new version after packing: its commit and the trees it rewrites are loose, the rest of
    // the store is in the pack.
    let text = std::fs::read_to_string(&paths[1]).expect("read");
    std::fs::write(&paths[1], format!("{text}\nAnother line.\n")).expect("write");
    env.run_on(&store, &["add", "a1.txt"]).ok();
    for entry in std::fs::read_dir(store.join("objects/pack")).expect("pack dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pack") {
            std::fs::remove_file(&path).expect("remove pack");
        }
    }
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let missing = of_kind(&report, "missing_object");
    // Every source's records went with the pack, and each is named with its path.
    assert!(missing.len() >= 5, "{report}");
    assert!(
        missing
            .iter()
            .all(|p| p["object"].is_string() && p["path"].is_string()),
        "{report}"
    );
    assert!(
        missing.iter().any(|p| p["path"]
            .as_str()
            .is_some_and(|s| s.starts_with("sources/"))),
        "{report}"
    );
}

#[test]
fn a_deleted_loose_blob_is_missing_with_its_source_and_version() {
    let (env, _) = seeded();
    let store = copy_store(&env, "deleted");
    let (id, record) = a_second_version(&store);
    let json = git(&store, &["show", &format!("main:{record}")]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("record");
    // The first version's text: only the version record refers to it now.
    let first = git(
        &store,
        &[
            "show",
            &format!("main:{}", record.replace("00000002", "00000001")),
        ],
    );
    let first: serde_json::Value = serde_json::from_str(&first).expect("record");
    let blob = first["text"]["git_blob"].as_str().expect("blob").to_owned();
    assert_ne!(Some(blob.as_str()), v["text"]["git_blob"].as_str());
    std::fs::remove_file(store.join("objects").join(&blob[..2]).join(&blob[2..])).expect("remove");
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let missing = of_kind(&report, "missing_object");
    assert!(
        missing.iter().any(|p| p["object"] == blob.as_str()
            && p["source"] == id.as_str()
            && p["version"] == 1),
        "{report}"
    );
}

/// Commits a change made with stock git in a clone of `store`, and force-updates the store's
/// branch to it, as someone rewriting the record would.
fn tamper(store: &Path, change: impl FnOnce(&Path)) {
    let work = store.with_extension("work");
    let out = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(store)
        .arg(&work)
        .output()
        .expect("clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    change(&work);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "--quiet", "-m", "tamper"]);
    git(
        &work,
        &["push", "--quiet", "--force", "origin", "HEAD:main"],
    );
}

#[test]
fn an_edited_text_recommitted_with_the_old_metadata_is_detected() {
    let (env, _) = seeded();
    let store = copy_store(&env, "edited");
    let (id, record) = a_second_version(&store);
    let dir = record.rsplit_once("/versions/").expect("dir").0.to_owned();
    tamper(&store, |work| {
        let text = work.join(&dir).join("text.txt");
        let old = std::fs::read_to_string(&text).expect("text");
        std::fs::write(&text, old.replacen("the", "THE", 1)).expect("write");
    });
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let found = of_kind(&report, "inconsistent");
    assert!(
        found.iter().any(|p| p["source"] == id.as_str()
            && p["path"].as_str().is_some_and(|s| s.ends_with("text.txt"))),
        "{report}"
    );
}

#[test]
fn a_version_record_pointed_at_other_bytes_breaks_the_digest_and_the_chain() {
    let (env, _) = seeded();
    let store = copy_store(&env, "repointed");
    let (id, record) = a_second_version(&store);
    let first_path = record.replace("00000002", "00000001");
    tamper(&store, |work| {
        // Point version 1's bytes at version 2's blob, keeping its recorded SHA-256: the digest
        // no longer matches, and version 2's chain no longer names version 1's record.
        let v1: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(work.join(&first_path)).expect("v1"))
                .expect("json");
        let v2: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(work.join(&record)).expect("v2"))
                .expect("json");
        let mut v1 = v1;
        v1["raw"]["git_blob"] = v2["raw"]["git_blob"].clone();
        std::fs::write(
            work.join(&first_path),
            serde_json::to_vec_pretty(&v1).expect("json"),
        )
        .expect("write");
    });
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    assert!(
        of_kind(&report, "digest_mismatch")
            .iter()
            .any(|p| p["source"] == id.as_str() && p["version"] == 1),
        "{report}"
    );
    assert!(
        of_kind(&report, "inconsistent")
            .iter()
            .any(|p| p["source"] == id.as_str()
                && p["version"] == 2
                && p["detail"].as_str().is_some_and(|d| d.contains("chain"))),
        "{report}"
    );
    assert!(
        of_kind(&report, "history_rewritten")
            .iter()
            .any(|p| p["path"] == first_path.as_str()),
        "{report}"
    );
}

#[test]
fn a_removed_observation_and_a_removed_version_are_detected_in_one_run() {
    let (env, _) = seeded();
    let store = copy_store(&env, "removed");
    let (id, record) = a_second_version(&store);
    let listing = git(&store, &["ls-tree", "-r", "--name-only", "main"]);
    let run_file = listing
        .lines()
        .rfind(|l| l.starts_with("observations/") && l.ends_with(".jsonl"))
        .expect("a run file")
        .to_owned();
    tamper(&store, |work| {
        // Drop the check's last observation line, and version 2 of one source.
        let path = work.join(&run_file);
        let text = std::fs::read_to_string(&path).expect("run file");
        let kept: Vec<&str> = text.lines().collect();
        let kept = &kept[..kept.len().saturating_sub(1)];
        std::fs::write(&path, format!("{}\n", kept.join("\n"))).expect("write");
        std::fs::remove_file(work.join(&record)).expect("remove version");
    });
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    let rewritten = of_kind(&report, "history_rewritten");
    assert!(
        rewritten.iter().any(|p| p["path"] == run_file.as_str()),
        "{report}"
    );
    assert!(
        rewritten
            .iter()
            .any(|p| p["path"] == record.as_str() && p["source"] == id.as_str()),
        "{report}"
    );
    // Version 2's loss also shows as a dangling reference from its observations and the index.
    assert!(
        !of_kind(&report, "dangling_reference").is_empty()
            || !of_kind(&report, "inconsistent").is_empty(),
        "{report}"
    );
    let human = env.run_on(&store, &["verify"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.lines().count() >= 3, "{}", human.stdout);
    assert!(human.stdout.contains(&id), "{}", human.stdout);
}

fn anchor_of(env: &TestEnv, store: &Path) -> String {
    let run = env.run_on(store, &["anchor"]).ok();
    let token = run.stdout.trim().to_owned();
    assert!(token.starts_with("va1-"), "{token}");
    token
}

fn verify_anchor(env: &TestEnv, store: &Path, anchor: &str) -> (i32, serde_json::Value) {
    let run = env.run_on(store, &["verify", "--anchor", anchor, "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    (run.code, serde_json::from_str(&run.stdout).expect("json"))
}

#[test]
fn an_anchor_holds_through_later_additions() {
    let (env, paths) = seeded();
    let anchor = anchor_of(&env, &env.store());
    // The same state gives the same anchor.
    assert_eq!(anchor_of(&env, &env.store()), anchor);
    let json = env.run(&["anchor", "--format", "json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(json["anchor"], anchor.as_str());
    assert!(json["records"].as_u64() > Some(7), "{json}");
    // New versions and observations since are allowed.
    let text = std::fs::read_to_string(&paths[2]).expect("read");
    std::fs::write(&paths[2], format!("{text}\nLater.\n")).expect("write");
    env.run(&["check"]);
    assert_ne!(anchor_of(&env, &env.store()), anchor);
    let (code, report) = verify_anchor(&env, &env.store(), &anchor);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["anchor"], anchor.as_str());
    let human = env.run(&["verify", "--anchor", &anchor]).ok();
    assert!(human.stdout.contains("anchored"), "{}", human.stdout);
    // A malformed anchor is an input error, in one line.
    env.run(&["verify", "--anchor", "va1-xyz"]).fails_with(2);
}

#[test]
fn an_anchor_catches_a_force_rewritten_branch_and_a_removed_observation() {
    let (env, _) = seeded();
    let anchor = anchor_of(&env, &env.store());

    // History rewritten: the last commit amended (its observations edited) and force-pushed.
    let rewritten = copy_store(&env, "rewritten");
    let work = rewritten.with_extension("work");
    let out = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(&rewritten)
        .arg(&work)
        .output()
        .expect("clone");
    assert!(out.status.success());
    let listing = git(&work, &["ls-files", "observations"]);
    // A run file with an observation of an unchanged source (which shard holds one depends on
    // the ids, which depend on the temporary directory's name).
    let run_file = listing
        .lines()
        .filter(|l| l.ends_with(".jsonl"))
        .rfind(|l| std::fs::read_to_string(work.join(l)).is_ok_and(|t| t.contains("\"unchanged\"")))
        .expect("run file")
        .to_owned();
    let path = work.join(&run_file);
    let text = std::fs::read_to_string(&path).expect("run file");
    std::fs::write(&path, text.replacen("\"unchanged\"", "\"captured\"", 1)).expect("write");
    git(&work, &["commit", "--quiet", "-a", "--amend", "--no-edit"]);
    git(
        &work,
        &["push", "--quiet", "--force", "origin", "HEAD:main"],
    );
    let (code, report) = verify_anchor(&env, &rewritten, &anchor);
    assert_eq!(code, 1, "{report}");
    let mismatches = of_kind(&report, "anchor_mismatch");
    assert!(
        mismatches.iter().any(|p| p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("history was rewritten"))),
        "{report}"
    );
    assert!(
        mismatches.iter().any(|p| p["path"] == run_file.as_str()),
        "{report}"
    );
    // Once git collects the old commit, the anchor's commit is gone altogether.
    git(&rewritten, &["reflog", "expire", "--expire=now", "--all"]);
    git(&rewritten, &["gc", "--quiet", "--prune=now"]);
    let (code, report) = verify_anchor(&env, &rewritten, &anchor);
    assert_eq!(code, 1, "{report}");
    assert!(
        of_kind(&report, "anchor_mismatch")
            .iter()
            .any(|p| p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("not in this store"))),
        "{report}"
    );

    // An observation removed by a new commit: the anchor names the record.
    let removed = copy_store(&env, "removed-observation");
    tamper(&removed, |work| {
        let path = work.join(&run_file);
        let text = std::fs::read_to_string(&path).expect("run file");
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, format!("{}\n", lines[..lines.len() - 1].join("\n"))).expect("write");
    });
    let (code, report) = verify_anchor(&env, &removed, &anchor);
    assert_eq!(code, 1, "{report}");
    assert!(
        of_kind(&report, "anchor_mismatch")
            .iter()
            .any(|p| p["path"] == run_file.as_str()),
        "{report}"
    );

    // Another store, even of the same files, does not hold this anchor.
    let other = TestEnv::with_store();
    for (i, seed) in seed_files().iter().enumerate() {
        let text = std::fs::read_to_string(seed).expect("seed");
        other.write(&format!("a{i}.txt"), text.as_bytes());
        other.run(&["add", &format!("a{i}.txt")]).ok();
    }
    let (code, _) = verify_anchor(&other, &other.store(), &anchor);
    assert_eq!(code, 1);
}

/// The runs of observations (`observations/YYYY-MM/<run>`), oldest first.
fn runs_of(store: &Path) -> Vec<String> {
    let listing = git(
        store,
        &["ls-tree", "-r", "--name-only", "main", "observations"],
    );
    let mut runs: Vec<String> = listing
        .lines()
        .filter_map(|l| l.rsplit_once('/').map(|(dir, _)| dir.to_owned()))
        .collect();
    runs.dedup();
    runs
}

#[test]
fn the_chain_of_runs_catches_observations_removed_by_a_consistent_rewrite() {
    let (env, _) = seeded();
    env.run(&["check"]);
    let runs = runs_of(&env.store());
    assert_eq!(runs.len(), 3, "add, check, check: {runs:?}");

    // A middle run removed from the whole history, as `git filter-branch` does: no commit shows a
    // record changing, but the next run's manifest names the run that is gone.
    let removed = copy_store(&env, "removed-run");
    let work = removed.with_extension("work");
    let out = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(&removed)
        .arg(&work)
        .output()
        .expect("clone");
    assert!(out.status.success());
    let out = Command::new("git")
        .current_dir(&work)
        .args(["filter-branch", "--index-filter"])
        .arg(format!(
            "git rm -r -q --cached --ignore-unmatch {}",
            runs[1]
        ))
        .arg("HEAD")
        .env("GIT_FILTER_BRANCH_SQUELCH_WARNING", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .expect("filter-branch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(
        &work,
        &["push", "--quiet", "--force", "origin", "HEAD:main"],
    );
    let (code, report) = verify_json(&env, &removed);
    assert_eq!(code, 1, "{report}");
    assert!(
        of_kind(&report, "history_rewritten").is_empty(),
        "the rewrite left no trace in the history itself: {report}"
    );
    let manifest = format!("{}/run.json", runs[2]);
    assert!(
        of_kind(&report, "inconsistent")
            .iter()
            .any(|p| p["path"] == manifest.as_str()
                && p["detail"].as_str().is_some_and(|d| d.contains("removed"))),
        "{report}"
    );

    // One observation dropped from the last run by amending its commit: the run's manifest no
    // longer matches its files.
    let amended = copy_store(&env, "amended");
    let work = amended.with_extension("work");
    let out = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(&amended)
        .arg(&work)
        .output()
        .expect("clone");
    assert!(out.status.success());
    let listing = git(&work, &["ls-files", &runs[2]]);
    let shard = listing
        .lines()
        .find(|l| l.ends_with(".jsonl"))
        .expect("a shard")
        .to_owned();
    let text = std::fs::read_to_string(work.join(&shard)).expect("shard");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(
        work.join(&shard),
        format!("{}\n", lines[1..].join("\n")).trim_start(),
    )
    .expect("write");
    git(&work, &["commit", "--quiet", "-a", "--amend", "--no-edit"]);
    git(
        &work,
        &["push", "--quiet", "--force", "origin", "HEAD:main"],
    );
    let (code, report) = verify_json(&env, &amended);
    assert_eq!(code, 1, "{report}");
    assert!(
        of_kind(&report, "digest_mismatch")
            .iter()
            .any(|p| p["path"] == manifest.as_str()),
        "{report}"
    );
}

// `verify --bagit` on hostile bags (issue 15, item 6): nothing outside the bag is read, nothing
// that is not a regular file is opened, and no tag file is read past a size limit.

/// The words planted outside the bags: they must never appear in what verify prints.
const SECRET: &str = "SECRET-3f9a";

/// A valid bag of one payload file at `dir`, with a tag manifest, written by hand.
fn small_bag(dir: &Path) {
    use sha2::Digest as _;
    let sha = |bytes: &[u8]| verbatim::hash::to_hex(&sha2::Sha256::digest(bytes));
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    let payload = b"one\n";
    std::fs::write(dir.join("data/a.txt"), payload).expect("write");
    let tags = [
        (
            "bagit.txt",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_owned(),
        ),
        (
            "bag-info.txt",
            format!("Payload-Oxum: {}.1\n", payload.len()),
        ),
        (
            "manifest-sha256.txt",
            format!("{}  data/a.txt\n", sha(payload)),
        ),
    ];
    let mut tagmanifest = String::new();
    for (name, text) in &tags {
        std::fs::write(dir.join(name), text).expect("write");
        tagmanifest.push_str(&format!("{}  {name}\n", sha(text.as_bytes())));
    }
    std::fs::write(dir.join("tagmanifest-sha256.txt"), tagmanifest).expect("write");
}

/// How `verify --bagit` ended: its exit code, its JSON report and its human output (each run
/// once), each run killed if it has not finished in 30 seconds, so that a regression (a read
/// that never ends, an open that blocks) fails instead of hanging the suite. With `memory_kib`,
/// each run may reserve no more than that (`ulimit -v`).
fn verify_bag_in_time(
    env: &TestEnv,
    bag: &Path,
    memory_kib: Option<u64>,
) -> (i32, serde_json::Value, String) {
    let bag = bag.display().to_string();
    let run = |format: &str| {
        let limit = memory_kib.map_or_else(String::new, |kib| format!("ulimit -v {kib}; "));
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("{limit}exec \"$0\" \"$@\""))
            .arg(crate::common::bin())
            .args(["verify", "--bagit", &bag, "--format", format])
            .current_dir(env.path())
            .env_clear()
            .env("HOME", env.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run verbatim");
        let out = crate::common::wait_within(child, 30, &format!("verify --bagit {bag}"));
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "something outside the bag was read:\n{stdout}\n{stderr}"
        );
        (out.status.code().unwrap_or(-1), stdout, stderr)
    };
    let (code, json, stderr) = run("json");
    assert!(code == 0 || code == 1, "verify could not run: {stderr}");
    let (human_code, human, _) = run("human");
    assert_eq!(code, human_code, "{human}");
    let json = serde_json::from_str(&json).expect("json report");
    (code, json, human)
}

/// Whether the report has a problem of `kind` at `path`.
fn has(report: &serde_json::Value, kind: &str, path: &str) -> bool {
    of_kind(report, kind).iter().any(|p| p["path"] == path)
}

#[test]
fn a_hand_made_bag_is_valid() {
    let env = TestEnv::new();
    let bag = env.path().join("bag");
    small_bag(&bag);
    let (code, report, human) = verify_bag_in_time(&env, &bag, None);
    assert_eq!(code, 0, "{report}");
    assert!(human.contains("valid"), "{human}");
}

#[test]
fn tag_files_linked_outside_the_bag_are_never_read() {
    let env = TestEnv::new();
    // Read as any tag file, the secret would show: as the BagIt version, as an Oxum, or as the
    // path of a file a manifest lists.
    let secret = env.write(
        "secret.txt",
        format!(
            "BagIt-Version: {SECRET}\nTag-File-Character-Encoding: UTF-8\nPayload-Oxum: {SECRET}\n{}  data/{SECRET}\n",
            "0".repeat(64)
        )
        .as_bytes(),
    );
    for name in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        "fetch.txt",
    ] {
        let bag = env.path().join(format!("bag-{name}"));
        small_bag(&bag);
        let _ = std::fs::remove_file(bag.join(name));
        std::os::unix::fs::symlink(&secret, bag.join(name)).expect("symlink");
        let (code, report, _) = verify_bag_in_time(&env, &bag, None);
        assert_eq!(code, 1, "{name}: {report}");
        assert!(has(&report, "hostile", name), "{name}: {report}");
        assert!(of_kind(&report, "fetch").is_empty(), "{name}: {report}");
    }
}

#[test]
fn a_payload_directory_linked_outside_the_bag_is_not_walked() {
    let env = TestEnv::new();
    let outside = env.path().join("outside");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::write(outside.join(format!("{SECRET}.txt")), "x").expect("write");
    std::fs::write(outside.join("a.txt"), "one\n").expect("write");
    let bag = env.path().join("bag");
    small_bag(&bag);
    std::fs::remove_dir_all(bag.join("data")).expect("rm");
    std::os::unix::fs::symlink(&outside, bag.join("data")).expect("symlink");
    let (code, report, _) = verify_bag_in_time(&env, &bag, None);
    assert_eq!(code, 1, "{report}");
    assert!(has(&report, "hostile", "data"), "{report}");
    // The file the manifest lists, there through the link, is not read either.
    assert!(has(&report, "hostile", "data/a.txt"), "{report}");
    assert_eq!(report["payload_files"], 0, "{report}");
}

#[test]
fn a_tag_file_linked_to_an_endless_device_is_refused_at_once() {
    let env = TestEnv::new();
    for name in ["bagit.txt", "bag-info.txt"] {
        let bag = env.path().join(format!("bag-{name}"));
        small_bag(&bag);
        std::fs::remove_file(bag.join(name)).expect("rm");
        std::os::unix::fs::symlink("/dev/zero", bag.join(name)).expect("symlink");
        // Without a tag manifest (which would name the link too), the refusal is the tag
        // file's own.
        std::fs::remove_file(bag.join("tagmanifest-sha256.txt")).expect("rm");
        // 2 GiB of address space: reading /dev/zero to its end would exhaust it, not the machine.
        let (code, report, _) = verify_bag_in_time(&env, &bag, Some(2 << 20));
        assert_eq!(code, 1, "{name}: {report}");
        assert!(has(&report, "hostile", name), "{name}: {report}");
    }
}

#[test]
fn named_pipes_in_a_bag_are_not_opened() {
    let env = TestEnv::new();
    // As a tag file.
    let bag = env.path().join("tag-pipe");
    small_bag(&bag);
    std::fs::remove_file(bag.join("bagit.txt")).expect("rm");
    crate::common::mkfifo(&bag.join("bagit.txt"));
    let (code, report, _) = verify_bag_in_time(&env, &bag, None);
    assert_eq!(code, 1, "{report}");
    assert!(has(&report, "hostile", "bagit.txt"), "{report}");
    // As a payload file its manifest lists.
    let bag = env.path().join("payload-pipe");
    small_bag(&bag);
    std::fs::remove_file(bag.join("data/a.txt")).expect("rm");
    crate::common::mkfifo(&bag.join("data/a.txt"));
    let (code, report, _) = verify_bag_in_time(&env, &bag, None);
    assert_eq!(code, 1, "{report}");
    assert!(has(&report, "hostile", "data/a.txt"), "{report}");
}

#[test]
fn a_huge_sparse_bag_info_is_refused_by_its_size_unread() {
    let env = TestEnv::new();
    let bag = env.path().join("bag");
    small_bag(&bag);
    // 3 GB that take no disk: holes, read back as zeros.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(bag.join("bag-info.txt"))
        .expect("open");
    file.set_len(3 << 30).expect("set_len");
    drop(file);
    // 1.5 GiB of address space: reading it whole would fail; refusing it by its size does not.
    let (code, report, _) = verify_bag_in_time(&env, &bag, Some(3 << 19));
    assert_eq!(code, 1, "{report}");
    assert!(has(&report, "manifest", "bag-info.txt"), "{report}");
}

// git's side doors (issue 15, item 12): state beside the tree that changes what stock git shows
// of a store, and entries of the tree that no record accounts for, are each named.

/// The problems of a report that are not of `kind`.
fn other_than<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["kind"] != kind)
        .collect()
}

/// Verifies a copy of the store with `plant` applied to it; asserts that it fails with a side
/// door at `path` and nothing else, and returns the report.
fn with_side_door(env: &TestEnv, name: &str, path: &str, plant: impl FnOnce(&Path)) {
    let store = copy_store(env, name);
    plant(&store);
    let (code, report) = verify_json(env, &store);
    assert_eq!(code, 1, "{name}: {report}");
    assert!(has(&report, "side_door", path), "{name}: {report}");
    // verify reads objects as stored: the door changes nothing else it checks.
    assert!(
        other_than(&report, "side_door").is_empty(),
        "{name}: {report}"
    );
    let human = env.run_on(&store, &["verify"]);
    assert_eq!(human.code, 1, "{name}");
    assert!(human.stdout.contains("side-door"), "{}", human.stdout);
}

#[test]
fn git_s_side_doors_are_each_named() {
    let (env, _) = seeded();
    let (_, record) = a_second_version(&env.store());
    let head = env.head();

    // A replace ref: stock git shows another record in place of a version record.
    let original = git(&env.store(), &["rev-parse", &format!("main:{record}")]);
    with_side_door(
        &env,
        "replaced",
        &format!("refs/replace/{original}"),
        |store| {
            let text = git(store, &["cat-file", "blob", &original]);
            let forged = store.with_extension("forged");
            std::fs::write(&forged, text.replacen("\"version\"", "\"version\" ", 1))
                .expect("write");
            let forged = git(store, &["hash-object", "-w", &forged.display().to_string()]);
            git(store, &["replace", &original, &forged]);
            assert!(
                git(store, &["cat-file", "-p", &format!("main:{record}")]).contains("\"version\" "),
                "stock git shows the replacement"
            );
        },
    );
    // Grafts: stock git shows a history of one commit.
    with_side_door(&env, "grafted", "info/grafts", |store| {
        std::fs::write(store.join("info/grafts"), format!("{head}\n")).expect("write");
    });
    with_side_door(&env, "shallow", "shallow", |store| {
        std::fs::write(store.join("shallow"), format!("{head}\n")).expect("write");
    });
    with_side_door(&env, "http", "objects/info/http-alternates", |store| {
        std::fs::write(
            store.join("objects/info/http-alternates"),
            "http://example.org/objects\n",
        )
        .expect("write");
    });
    // A packed-refs that git cannot parse (the branch itself stays loose).
    with_side_door(&env, "packed", "packed-refs", |store| {
        std::fs::write(
            store.join("packed-refs"),
            format!(
                "# pack-refs with: peeled fully-peeled sorted \n{head} refs/tags/x\nnot a ref\n"
            ),
        )
        .expect("write");
    });
    // HEAD on another branch, and detached.
    with_side_door(&env, "other-head", "HEAD", |store| {
        git(store, &["branch", "other", &format!("{head}~1")]);
        git(store, &["symbolic-ref", "HEAD", "refs/heads/other"]);
    });
    with_side_door(&env, "detached", "HEAD", |store| {
        git(
            store,
            &["update-ref", "--no-deref", "HEAD", &format!("{head}~1")],
        );
    });

    // What stock git itself writes is no side door: tags, and references packed with peeled
    // lines.
    let packed = copy_store(&env, "packed-by-git");
    git(&packed, &["tag", "-a", "-m", "a tag", "v1", "main"]);
    git(&packed, &["tag", "light", "main"]);
    git(&packed, &["pack-refs", "--all"]);
    let (code, report) = verify_json(&env, &packed);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn objects_borrowed_from_an_alternate_are_named() {
    let (env, _) = seeded();
    // A clone that shares the store's objects instead of holding its own.
    let shared = env.path().join("shared.git");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--bare", "--shared"])
        .arg(env.store())
        .arg(&shared)
        .output()
        .expect("clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report) = verify_json(&env, &shared);
    assert_eq!(code, 1, "{report}");
    let doors: Vec<_> = of_kind(&report, "side_door")
        .into_iter()
        .filter(|p| p["path"] == "objects/info/alternates")
        .collect();
    assert!(
        doors.iter().any(|p| p["object"].is_string()
            && p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("not in the store"))),
        "{report}"
    );
    assert!(other_than(&report, "side_door").is_empty(), "{report}");
    // Once the objects are copied in and the file removed, the clone verifies.
    git(&shared, &["repack", "-a", "-d", "-q"]);
    std::fs::remove_file(shared.join("objects/info/alternates")).expect("rm");
    let (code, report) = verify_json(&env, &shared);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn files_no_record_accounts_for_are_named() {
    let (env, _) = seeded();
    let store = copy_store(&env, "strays");
    let (id, record) = a_second_version(&store);
    let dir = record.rsplit_once("/versions/").expect("dir").0.to_owned();
    let strays = [
        "notes.txt".to_owned(),
        format!("{dir}/notes.txt"),
        "observations/notes.txt".to_owned(),
        "index/notes.md".to_owned(),
    ];
    tamper(&store, |work| {
        for path in &strays {
            std::fs::write(work.join(path), "planted\n").expect("write");
        }
    });
    let (code, report) = verify_json(&env, &store);
    assert_eq!(code, 1, "{report}");
    for path in &strays {
        assert!(has(&report, "stray_entry", path), "{path}: {report}");
    }
    assert!(
        of_kind(&report, "stray_entry")
            .iter()
            .any(|p| p["source"] == id.as_str()),
        "{report}"
    );
    assert_eq!(
        of_kind(&report, "stray_entry").len(),
        strays.len(),
        "{report}"
    );
}
