//! `verbatim export --bagit`: bags that the Library of Congress's `bagit.py` validates, holding
//! the stored bytes exactly.

use std::path::Path;
use std::process::Command;

use crate::common::{TestEnv, seed_files};

/// A store of the five seeds, one of them with a second version.
fn seeded() -> TestEnv {
    let env = TestEnv::with_store();
    for (i, seed) in seed_files().iter().enumerate() {
        let text = std::fs::read_to_string(seed).expect("seed");
        env.write(&format!("a{i}.txt"), text.as_bytes());
        env.run(&["add", &format!("a{i}.txt")]).ok();
    }
    let text = std::fs::read_to_string(env.path().join("a2.txt")).expect("read");
    env.write(
        "a2.txt",
        format!("{text}\nCorrection: a later line.\n").as_bytes(),
    );
    env.run(&["add", "a2.txt"]).ok();
    env
}

/// Runs `bagit.py --validate` (pip package `bagit`, which `.ci/run` installs) as
/// `python3 -m bagit`, which does not depend on where pip put the script.
fn bagit_validate(bag: &Path) -> (bool, String) {
    let out = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(bag)
        .output()
        .expect("python3 must be on PATH for the BagIt tests");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("No module named bagit"),
        "the BagIt tests need bagit.py: pip install bagit"
    );
    (out.status.success(), stderr)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_exported_bag_validates_with_bagit_py_and_holds_the_exact_bytes() {
    let env = seeded();
    let run = env.run(&["export", "--bagit", "bag"]).ok();
    assert!(
        run.stderr.contains("6 versions of 5 sources"),
        "{}",
        run.stderr
    );
    let bag = env.path().join("bag");
    let (valid, log) = bagit_validate(&bag);
    assert!(valid, "{log}");

    let manifest = lines(&bag.join("manifest-sha256.txt"));
    assert_eq!(manifest.len(), 12, "bytes and text of 6 versions");
    assert_eq!(lines(&bag.join("manifest-sha512.txt")).len(), 12);
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).expect("bag-info");
    assert!(
        info.contains("BagIt") || info.contains("Bagging-Date: "),
        "{info}"
    );
    assert_eq!(
        info.matches("External-Identifier: file://").count(),
        5,
        "{info}"
    );
    let total: u64 = manifest
        .iter()
        .map(|l| {
            let path = l.split_once("  ").expect("line").1;
            std::fs::metadata(bag.join(path)).expect("payload").len()
        })
        .sum();
    assert!(
        info.contains(&format!("Payload-Oxum: {total}.12")),
        "{info}"
    );
    let tags = lines(&bag.join("tagmanifest-sha256.txt"));
    for tag in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "verbatim-metadata.jsonl",
    ] {
        assert!(
            tags.iter().any(|l| l.ends_with(&format!("  {tag}"))),
            "{tags:?}"
        );
    }

    // The payload is the store's bytes, exactly.
    let log = env.run(&["log", "a2.txt", "--format", "json"]).ok();
    let log: serde_json::Value = serde_json::from_str(&log.stdout).expect("json");
    let list = env.run(&["list", "--format", "json"]).ok();
    let list: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let id = list
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| {
            s["locator"]
                .as_str()
                .is_some_and(|l| l.ends_with("/a2.txt"))
        })
        .and_then(|s| s["id"].as_str())
        .expect("a2's id")
        .to_owned();
    assert_eq!(log.as_array().map(Vec::len), Some(2));
    let v1 = env.run(&["show", "a2.txt", "--version", "1", "--raw"]).ok();
    let exported = std::fs::read(bag.join(format!("data/{id}/00000001/raw"))).expect("payload");
    assert_eq!(exported, v1.stdout_bytes);
    // verbatim's records ride along as a tag file, one line a version.
    let metadata = lines(&bag.join("verbatim-metadata.jsonl"));
    assert_eq!(metadata.len(), 6);
    let first: serde_json::Value = serde_json::from_str(&metadata[0]).expect("json");
    assert!(first["version"]["raw"]["sha256"].is_string(), "{first}");

    // A changed payload byte is caught by bagit.py: the validation is real.
    let victim = bag.join(format!("data/{id}/00000002/text.txt"));
    let mut bytes = std::fs::read(&victim).expect("read");
    bytes[0] ^= 1;
    std::fs::write(&victim, bytes).expect("write");
    let (valid, _) = bagit_validate(&bag);
    assert!(!valid);
}

#[test]
fn a_bag_at_a_time_holds_the_versions_current_then_and_never_overwrites() {
    let env = seeded();
    let now = jiff::Timestamp::now().to_string();
    env.run(&["export", "--bagit", "now", "--at", &now, "a2.txt"])
        .ok();
    let bag = env.path().join("now");
    let (valid, log) = bagit_validate(&bag);
    assert!(valid, "{log}");
    let manifest = lines(&bag.join("manifest-sha256.txt"));
    assert_eq!(manifest.len(), 2, "{manifest:?}");
    assert!(
        manifest.iter().all(|l| l.contains("/00000002/")),
        "{manifest:?}"
    );

    // An existing bag is never written over, and nothing is left half-written.
    let before = std::fs::read(bag.join("bag-info.txt")).expect("read");
    env.run(&["export", "--bagit", "now"]).fails_with(2);
    assert_eq!(
        std::fs::read(bag.join("bag-info.txt")).expect("read"),
        before
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty());
    // An empty directory is fine.
    std::fs::create_dir(env.path().join("empty")).expect("mkdir");
    env.run(&["export", "--bagit", "empty"]).ok();
    assert!(bagit_validate(&env.path().join("empty")).0);
}
