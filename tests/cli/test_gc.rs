//! `verbatim gc` (issue 15, item 13: "What killed runs leave behind"): unreachable objects and
//! stale temporary files go, everything a ref reaches stays, under the writer lock, and a kill
//! at any point leaves the store verifiable.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestEnv, seed_files};

/// Runs stock git in `dir`, with an identity for the commits it makes; asserts success.
fn git(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "other tool")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "other tool")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git");
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.unwrap_or("").as_bytes())
            .expect("git stdin");
    }
    let out = child.wait_with_output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the store holds object `oid`.
fn has_object(store: &Path, oid: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(store)
        .args(["cat-file", "-e", oid])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git cat-file")
        .success()
}

/// A blob, a tree holding it and a commit of that tree, as another tool writing into the store
/// leaves them; returns their ids (blob, tree, commit).
fn objects_of_another_tool(store: &Path, label: &str) -> [String; 3] {
    let file = store.join(format!("../{label}.txt"));
    std::fs::write(&file, format!("written by another tool: {label}\n")).expect("write");
    let blob = git(
        store,
        &["hash-object", "-w", &file.display().to_string()],
        None,
    );
    let tree = git(
        store,
        &["mktree"],
        Some(&format!("100644 blob {blob}\t{label}.txt\n")),
    );
    let commit = git(store, &["commit-tree", &tree, "-m", label], None);
    [blob, tree, commit]
}

/// Plants a temporary file in `objects/` (relative path), `hours_old` hours old.
fn plant_temp(store: &Path, relative: &str, hours_old: u32) -> PathBuf {
    let path = store.join("objects").join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, b"half-written object").expect("write temp");
    if hours_old > 0 {
        let status = Command::new("touch")
            .arg("-d")
            .arg(format!("{hours_old} hours ago"))
            .arg(&path)
            .status()
            .expect("touch");
        assert!(status.success());
    }
    path
}

/// Stock git's own list of unreachable objects (reflogs count as reachable, as for gc).
fn git_unreachable(store: &Path) -> Vec<String> {
    git(
        store,
        &["fsck", "--unreachable", "--no-dangling", "--no-progress"],
        None,
    )
    .lines()
    .filter_map(|l| l.strip_prefix("unreachable "))
    .filter_map(|l| l.split_whitespace().nth(1))
    .map(str::to_owned)
    .collect()
}

/// `git fsck --full` finds nothing wrong.
#[track_caller]
fn assert_fsck_clean(store: &Path) {
    let out = Command::new("git")
        .arg("-C")
        .arg(store)
        .args(["fsck", "--full", "--no-progress", "--no-dangling"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git fsck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "git fsck failed:\n{text}");
    for bad in ["error", "missing", "broken", "corrupt", "invalid"] {
        assert!(!text.contains(bad), "git fsck:\n{text}");
    }
}

/// `verbatim verify --format json` on `store`: passes, and returns the report.
#[track_caller]
fn verify_ok(env: &TestEnv, store: &Path) -> serde_json::Value {
    let run = env.run_on(store, &["verify", "--format", "json"]);
    assert_eq!(run.code, 0, "verify failed:\n{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).expect("verify json")
}

/// Every version of every source, as `show --raw` prints it, with the branch's history.
fn everything_readable(env: &TestEnv, store: &Path) -> (String, Vec<Vec<u8>>) {
    let log = git(
        store,
        &["log", "--format=%H %T %s", "refs/heads/main"],
        None,
    );
    let list: serde_json::Value =
        serde_json::from_str(&env.run_on(store, &["list", "--format", "json"]).ok().stdout)
            .expect("list json");
    let mut contents = Vec::new();
    for item in list.as_array().expect("array") {
        let id = item["id"].as_str().expect("id");
        let versions = item["versions"].as_u64().expect("versions");
        for v in 1..=versions {
            let v = v.to_string();
            contents.push(
                env.run_on(store, &["show", id, "--version", &v, "--raw"])
                    .ok()
                    .stdout_bytes,
            );
        }
    }
    (log, contents)
}

/// A store of the seeds, one of them in two versions.
fn seeded() -> TestEnv {
    let env = TestEnv::with_store();
    let mut args = vec!["add".to_owned()];
    args.extend(seed_files().iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args).ok();
    let file = env.write("changing.txt", b"first version\n");
    env.run(&["add", file.to_str().expect("utf-8")]).ok();
    env.write("changing.txt", b"second version\n");
    env.run(&["add", file.to_str().expect("utf-8")]).ok();
    env
}

#[test]
fn gc_removes_what_nothing_reaches_and_keeps_what_any_ref_reaches() {
    let env = seeded();
    let store = env.store();
    let garbage = objects_of_another_tool(&store, "garbage");
    // Reached only by a tag: kept, though the branch never sees it.
    let tagged = objects_of_another_tool(&store, "tagged");
    git(&store, &["tag", "kept", &tagged[2]], None);
    let stale = plant_temp(&store, "ab/tmp_obj_x", 2);
    let stale_pack = plant_temp(&store, "pack/tmp_pack_y", 3);
    let fresh = plant_temp(&store, "pack/tmp_pack_z", 0);
    let unreachable = git_unreachable(&store);
    for oid in &garbage {
        assert!(unreachable.contains(oid), "{oid} in {unreachable:?}");
    }
    let before = everything_readable(&env, &store);

    // verify tells of the space, as information: it still passes.
    let human = env.run(&["verify"]).ok().stdout;
    assert!(
        human.contains(&format!("{} unreachable loose objects", unreachable.len()))
            && human.contains("2 stale temporary files")
            && human.contains("`verbatim gc`"),
        "{human}"
    );
    let report = verify_ok(&env, &store);
    assert_eq!(
        report["unreachable"]["objects"].as_u64(),
        Some(unreachable.len() as u64)
    );
    assert_eq!(report["unreachable"]["temp_files"].as_u64(), Some(2));

    // A dry run says what would go, and removes nothing.
    let dry: serde_json::Value = serde_json::from_str(
        &env.run(&["gc", "--dry-run", "--format", "json"])
            .ok()
            .stdout,
    )
    .expect("gc json");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        dry["removed"]["objects"].as_u64(),
        Some(unreachable.len() as u64)
    );
    assert_eq!(dry["removed"]["temp_files"].as_u64(), Some(2));
    assert_eq!(dry["recent_temp_files"].as_u64(), Some(1));
    assert!(garbage.iter().all(|oid| has_object(&store, oid)));
    assert!(stale.exists() && stale_pack.exists());
    let human = env.run(&["gc", "--dry-run"]).ok().stdout;
    assert!(
        human.starts_with(&format!(
            "would remove {} unreachable objects (",
            unreachable.len()
        )),
        "{human}"
    );

    let run = env.run(&["gc", "--format", "json"]).ok();
    let done: serde_json::Value = serde_json::from_str(&run.stdout).expect("gc json");
    assert_eq!(done["dry_run"], false);
    assert_eq!(
        done["removed"]["objects"].as_u64(),
        Some(unreachable.len() as u64)
    );
    assert!(done["removed"]["bytes"].as_u64().expect("bytes") > 0);
    assert_eq!(done["removed"]["temp_files"].as_u64(), Some(2));
    assert!(done["packed"].is_null());
    for oid in &garbage {
        assert!(!has_object(&store, oid), "{oid} survived");
    }
    for oid in &tagged {
        assert!(
            has_object(&store, oid),
            "{oid} reachable from a tag was removed"
        );
    }
    assert!(!stale.exists() && !stale_pack.exists());
    assert!(
        fresh.exists(),
        "a temporary file younger than an hour was removed"
    );
    assert!(git_unreachable(&store).is_empty());
    assert_fsck_clean(&store);
    assert_eq!(everything_readable(&env, &store), before);
    let report = verify_ok(&env, &store);
    assert_eq!(report["unreachable"]["objects"].as_u64(), Some(0));
    let human = env.run(&["verify"]).ok().stdout;
    assert!(!human.contains("verbatim gc"), "{human}");

    // Nothing left: a second gc removes nothing, and says so in one line.
    let again = env.run(&["gc"]).ok().stdout;
    assert!(
        again.starts_with("removed 0 unreachable objects (0 B) and 0 stale temporary files (0 B)"),
        "{again}"
    );
    assert_eq!(again.lines().count(), 1);
}

#[test]
fn gc_pack_moves_reachable_loose_objects_into_one_pack() {
    let env = seeded();
    let store = env.store();
    let garbage = objects_of_another_tool(&store, "garbage");
    let before = everything_readable(&env, &store);
    let loose_before = git(&store, &["count-objects", "-v"], None);
    assert!(loose_before.contains("packs: 0"), "{loose_before}");

    let done: serde_json::Value =
        serde_json::from_str(&env.run(&["gc", "--pack", "--format", "json"]).ok().stdout)
            .expect("gc json");
    let packed = &done["packed"];
    let name = packed["pack"].as_str().expect("pack name");
    assert!(
        store
            .join("objects/pack")
            .join(format!("{name}.pack"))
            .exists()
    );
    assert_eq!(
        packed["objects"].as_u64(),
        done["reachable_objects"].as_u64(),
        "every reachable object was loose"
    );
    let counts = git(&store, &["count-objects", "-v"], None);
    let lines: Vec<&str> = counts.lines().collect();
    assert!(
        lines.contains(&"count: 0") && lines.contains(&"packs: 1"),
        "{counts}"
    );
    assert!(garbage.iter().all(|oid| !has_object(&store, oid)));
    assert_fsck_clean(&store);
    verify_ok(&env, &store);
    assert_eq!(everything_readable(&env, &store), before);
    // The store still takes writes, and a later gc packs only the new loose objects.
    let file = env.write("changing.txt", b"third version\n");
    env.run(&["add", file.to_str().expect("utf-8")]).ok();
    let later: serde_json::Value =
        serde_json::from_str(&env.run(&["gc", "--pack", "--format", "json"]).ok().stdout)
            .expect("gc json");
    let new = later["packed"]["objects"].as_u64().expect("objects");
    assert!(new > 0 && new < 20, "{later}");
    assert_fsck_clean(&store);
    verify_ok(&env, &store);
    // Nothing loose is left to pack, and gc says so.
    let run = env.run(&["gc", "--pack"]).ok().stdout;
    assert!(run.contains("; nothing loose to pack;"), "{run}");
    assert_eq!(
        git(&store, &["count-objects", "-v"], None)
            .lines()
            .find(|l| l.starts_with("packs:")),
        Some("packs: 2")
    );
}

#[test]
fn gc_takes_the_writer_lock() {
    let env = seeded();
    let store = env.store();
    let garbage = objects_of_another_tool(&store, "garbage");
    let lock = env.hold_lock();
    // Held too long: gc gives up as a writer does, with the store's exit code, removing nothing.
    env.command()
        .env("VERBATIM_LOCK_TIMEOUT", "0.5")
        .arg("gc")
        .output()
        .map(|o| {
            assert_eq!(o.status.code(), Some(3));
            assert!(String::from_utf8_lossy(&o.stderr).contains("locked"));
        })
        .expect("run gc");
    assert!(garbage.iter().all(|oid| has_object(&store, oid)));
    // Released while it waits: gc goes on.
    let mut child = env
        .command()
        .arg("gc")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gc");
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().expect("poll").is_none(), "gc did not wait");
    assert!(garbage.iter().all(|oid| has_object(&store, oid)));
    drop(lock);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the store lock"));
    assert!(garbage.iter().all(|oid| !has_object(&store, oid)));
}

#[test]
fn gc_refuses_a_store_missing_a_reachable_object_and_removes_nothing() {
    let env = seeded();
    let store = env.store();
    let garbage = objects_of_another_tool(&store, "garbage");
    // A tree of the branch deleted: what it referred to can no longer be told reachable.
    let tree = git(&store, &["rev-parse", "refs/heads/main^{tree}"], None);
    let sources = git(&store, &["rev-parse", &format!("{tree}:sources")], None);
    let path = store
        .join("objects")
        .join(&sources[..2])
        .join(&sources[2..]);
    std::fs::remove_file(&path).expect("delete a reachable tree");
    let run = env.run(&["gc"]).fails_with(3);
    assert!(run.stderr.contains("removed nothing"), "{}", run.stderr);
    assert!(garbage.iter().all(|oid| has_object(&store, oid)));
}

/// Copies a store directory.
fn copy_store(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

#[test]
fn kill_9_during_gc_leaves_the_store_verifiable() {
    let _alone = crate::common::timing_sensitive();
    let env = TestEnv::with_store();
    let store = env.store();
    // A few hundred sources, then runs killed mid-write, as in the issue.
    let files = 300;
    let write_round = |round: usize| {
        let mut list = String::new();
        for i in 0..files {
            let body = format!(
                "file {i} round {round}\n{}\n",
                "lorem ipsum dolor ".repeat(20 + i % 50)
            );
            let path = env.write(&format!("docs/f{i:03}.txt"), body.as_bytes());
            list.push_str(&format!("{}\n", path.display()));
        }
        env.write("list.txt", list.as_bytes());
    };
    write_round(0);
    let start = Instant::now();
    env.run(&["add", "--from", "list.txt"]).ok();
    let full_add = start.elapsed();
    // Kills at several points of a run, until some have left objects behind (a kill before
    // the first object or after the commit leaves none).
    let mut killed = 0;
    for round in 1..=12 {
        if killed >= 3 {
            break;
        }
        write_round(round);
        let before = git_unreachable(&store).len();
        let mut child = env
            .command()
            .args(["add", "--from", "list.txt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn add");
        std::thread::sleep(full_add.mul_f64([0.3, 0.5, 0.7, 0.9][round % 4]));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        if git_unreachable(&store).len() > before {
            killed += 1;
        }
    }
    let unreachable = git_unreachable(&store).len();
    eprintln!("gc kill test: {unreachable} unreachable objects after the killed adds");
    assert!(unreachable > 0, "the killed adds left nothing behind");

    // How long an uninterrupted gc takes, on a copy.
    let base = env.path().join("base");
    copy_store(&store, &base);
    let timing = env.path().join("timing");
    copy_store(&base, &timing);
    let start = Instant::now();
    env.run_on(&timing, &["gc", "--pack"]).ok();
    let full = start.elapsed();
    eprintln!("gc kill test: uninterrupted gc --pack {full:?}");

    let rounds = 6;
    let mut mid_run = 0;
    for round in 0..rounds {
        let copy = env.path().join(format!("round{round}"));
        copy_store(&base, &copy);
        let mut child = env
            .command()
            .arg("--store")
            .arg(&copy)
            .args(["gc", "--pack"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gc");
        // Spread over the whole run, and a little past it.
        std::thread::sleep(full.mul_f64(round as f64 / rounds as f64 * 1.1));
        if child.try_wait().expect("poll").is_none() {
            mid_run += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        assert_fsck_clean(&copy);
        verify_ok(&env, &copy);
        // And gc, run again, finishes the job (checked once: it is the run timed above).
        if round == rounds / 2 {
            env.run_on(&copy, &["gc", "--pack"]).ok();
            assert!(git_unreachable(&copy).is_empty());
            assert_fsck_clean(&copy);
            verify_ok(&env, &copy);
        }
        let _ = std::fs::remove_dir_all(&copy);
    }
    eprintln!("gc kill test: {mid_run} of {rounds} kills mid-run");
    assert!(
        mid_run >= rounds / 3,
        "only {mid_run} kills landed mid-run; the test is not testing"
    );
}
