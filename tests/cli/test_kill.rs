//! Crash safety and locking: `kill -9` at random points, a held lock, stale lock files.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::common::TestEnv;

/// Checks the store with stock git and with verbatim: fsck clean, every source's versions
/// contiguous from 1, and the current bytes hash to what the latest record says.
fn assert_consistent(env: &TestEnv) -> usize {
    assert_consistent_sample(env, usize::MAX)
}

/// As [`assert_consistent`], reading the history of at most `sample` sources (spread evenly).
fn assert_consistent_sample(env: &TestEnv, sample: usize) -> usize {
    let fsck = env.git(&["fsck", "--full", "--no-progress"]);
    assert_eq!(
        fsck.code, 0,
        "git fsck failed:\n{}{}",
        fsck.stdout, fsck.stderr
    );
    for bad in ["error", "missing", "broken", "corrupt"] {
        assert!(
            !fsck.stderr.contains(bad) && !fsck.stdout.contains(bad),
            "fsck: {}{}",
            fsck.stdout,
            fsck.stderr
        );
    }
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout)
            .expect("list json");
    let items = list.as_array().expect("array");
    let step = items.len().div_ceil(sample.max(1)).max(1);
    for item in items.iter().step_by(step) {
        let id = item["id"].as_str().expect("id");
        let log: serde_json::Value =
            serde_json::from_str(&env.run(&["log", id, "--format", "json"]).ok().stdout)
                .expect("log json");
        let versions: Vec<u64> = log
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v["version"].as_u64().expect("version"))
            .collect();
        assert_eq!(
            versions,
            (1..=versions.len() as u64).collect::<Vec<_>>(),
            "{id}"
        );
        let raw = env.run(&["show", id, "--raw"]).ok().stdout_bytes;
        let sha: String = Sha256::digest(&raw)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(item["sha256"].as_str(), Some(sha.as_str()), "{id}");
    }
    items.len()
}

/// A tiny deterministic generator, so a failing round can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn kill_9_at_random_points_leaves_the_store_consistent() {
    let _alone = crate::common::timing_sensitive();
    let env = TestEnv::with_store();
    let files = 80;
    let write_round = |round: usize| {
        let mut list = String::new();
        for i in 0..files {
            // Every round changes every file, so every run has a full batch to commit.
            let body = format!(
                "file {i} round {round}\n{}\n",
                "lorem ipsum dolor ".repeat(40 + i)
            );
            let path = env.write(&format!("docs/f{i:03}.txt"), body.as_bytes());
            list.push_str(&format!("{}\n", path.display()));
        }
        env.write("list.txt", list.as_bytes());
    };
    // Calibrate on a run like the killed ones (every file a new version), not on the first,
    // which also pays for creating the sources and warming the disk cache.
    // The fastest of three such runs: one slowed by other load on the machine would put most
    // kills after the run ends (seen in CI: 9 of 40 mid-run).
    write_round(0);
    env.run(&["add", "--from", "list.txt"]).ok();
    let mut full = std::time::Duration::MAX;
    for round in 100..103 {
        write_round(round);
        let start = Instant::now();
        env.run(&["add", "--from", "list.txt"]).ok();
        full = full.min(start.elapsed());
    }
    assert_eq!(assert_consistent(&env), files);

    let seed = 0x5eed_u64;
    eprintln!("kill test: seed {seed:#x}, uninterrupted run {full:?}");
    let mut rng = Lcg(seed);
    let (mut mid_run, mut moved, mut kept) = (0, 0, 0);
    for round in 1..=40 {
        write_round(round);
        let before = env.head();
        let mut child = env
            .command()
            .args(["add", "--from", "list.txt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn add");
        // Delays from 0 to 1.2x a full run, so kills land before, during and after the commit.
        let delay = full.mul_f64(rng.next() as f64 % 1200.0 / 1000.0);
        std::thread::sleep(delay);
        // A run's length varies with what else the machine writes (the commit flushes the file
        // system): the estimate follows the runs, shrinking when one ended before its kill and
        // growing when one did not, so that most kills land mid-run and some after the end.
        if child.try_wait().expect("poll child").is_none() {
            mid_run += 1;
            full = full.mul_f64(1.1);
        } else {
            full = full.mul_f64(0.8);
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        if env.head() == before {
            kept += 1;
        } else {
            moved += 1;
        }
        assert_consistent_sample(&env, 6);
    }
    eprintln!(
        "kill test: {mid_run} kills mid-run; store kept old state {kept}x, moved to new state {moved}x"
    );
    assert!(
        mid_run >= 10,
        "only {mid_run} kills landed mid-run; the test is not testing"
    );
    // The store is still usable: a full run completes and every file's current bytes are stored.
    write_round(99);
    env.run(&["add", "--from", "list.txt"]).ok();
    assert_eq!(assert_consistent(&env), files);
}

#[test]
fn a_held_lock_makes_a_second_run_fail_clearly() {
    let env = TestEnv::with_store();
    let file = env.write("a.txt", b"a");
    let lock = env.hold_lock();
    let before = env.head();
    let run = env
        .command()
        .env("VERBATIM_LOCK_TIMEOUT", "0.5")
        .args(["add", file.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("locked"), "{stderr}");
    assert!(
        stderr.lines().any(|l| l.starts_with("verbatim: error: ")),
        "{stderr}"
    );
    assert_eq!(env.head(), before);
    drop(lock);
}

#[test]
fn a_second_run_waits_for_the_lock() {
    let env = TestEnv::with_store();
    let file = env.write("a.txt", b"a");
    let lock = env.hold_lock();
    let child = env
        .command()
        .args(["add", file.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    drop(lock);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the store lock"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("added"));
}

#[test]
fn a_lock_held_by_a_killed_process_does_not_block() {
    let env = TestEnv::with_store();
    // A process that holds the flock, then dies by SIGKILL.
    // -o: the lock stays with flock itself, not with the `sleep` it runs, so killing flock
    // really kills the holder.
    let Ok(mut holder) = std::process::Command::new("flock")
        .arg("-o")
        .arg(env.store().join("verbatim.lock"))
        .args(["sleep", "30"])
        .spawn()
    else {
        eprintln!("flock(1) not installed; skipping");
        return;
    };
    std::thread::sleep(Duration::from_millis(200));
    holder.kill().expect("SIGKILL the holder");
    holder.wait().expect("reap");
    let file = env.write("a.txt", b"a");
    let start = Instant::now();
    env.command()
        .env("VERBATIM_LOCK_TIMEOUT", "2")
        .args(["add", file.to_str().expect("utf-8")])
        .output()
        .map(|o| {
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .expect("run");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_stale_ref_lock_left_by_libgit2_is_cleared() {
    let env = TestEnv::with_store();
    // What libgit2 leaves if killed between creating and renaming the ref's lock file.
    std::fs::write(
        env.store().join("refs/heads/main.lock"),
        b"0000000000000000000000000000000000000000\n",
    )
    .expect("stale lock");
    let file = env.write("a.txt", b"a");
    env.run(&["add", file.to_str().expect("utf-8")]).ok();
    assert!(!env.store().join("refs/heads/main.lock").exists());
    assert_eq!(assert_consistent(&env), 1);
}

#[test]
fn concurrent_runs_both_land() {
    let env = TestEnv::with_store();
    let children: Vec<_> = (0..4)
        .map(|i| {
            let file = env.write(&format!("c{i}.txt"), format!("content {i}").as_bytes());
            env.command()
                .args(["add", file.to_str().expect("utf-8")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(assert_consistent(&env), 4);
}
