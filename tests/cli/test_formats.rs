//! Stores written by earlier versions, and by a newer one, read with today's binary.
//!
//! Each fixture under `tests/fixtures/stores/` is a `git bundle` of a store written by the real
//! binary of a store format (`make.sh` there says how; `make-newer.sh` edits one as a newer
//! version might write it). Its sources are files under `/tmp/verbatim-store-fixtures/<dir>/`,
//! a fixed path because a file source's locator is its absolute path: the tests write them there
//! again, always with the same bytes, before `check` reads them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestEnv;

/// A fixture store and what it holds.
struct Fixture {
    /// The bundle's name.
    name: &'static str,
    /// The store format its marker states.
    format: u32,
    /// The directory of its sources, below `/tmp/verbatim-store-fixtures/`.
    sources: &'static str,
    /// Versions of a.txt, b.html and c.txt.
    versions: [u64; 3],
    /// What `verify` counts: versions, byte streams, observations.
    counts: (usize, usize, usize),
}

const FORMAT_2: Fixture = Fixture {
    name: "format-2-344ef4d",
    format: 2,
    sources: "format-2-344ef4d",
    versions: [1, 1, 2],
    counts: (4, 8, 12),
};

const FORMAT_3_FIRST: Fixture = Fixture {
    name: "format-3-c06506e",
    format: 3,
    sources: "format-3-c06506e",
    versions: [1, 1, 2],
    counts: (4, 8, 12),
};

const FORMAT_3: Fixture = Fixture {
    name: "format-3-10560d3",
    format: 3,
    sources: "format-3-10560d3",
    versions: [1, 1, 2],
    counts: (4, 8, 12),
};

const NEWER: Fixture = Fixture {
    name: "format-3-newer",
    format: 3,
    sources: "format-3-10560d3",
    versions: [2, 1, 2],
    counts: (5, 10, 15),
};

const A_TXT: &str = "Alpha.\n\nThe first source, in plain text.\n";

impl Fixture {
    /// Clones the fixture into `env`'s default store directory.
    fn unpack(&self, env: &TestEnv) {
        let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/stores")
            .join(format!("{}.bundle", self.name));
        let out = Command::new("git")
            .args([
                "-c",
                "init.defaultBranch=main",
                "clone",
                "--quiet",
                "--bare",
            ])
            .arg(&bundle)
            .arg(env.store())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", env.path())
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn source(&self, file: &str) -> PathBuf {
        Path::new("/tmp/verbatim-store-fixtures")
            .join(self.sources)
            .join(file)
    }

    fn arg(&self, file: &str) -> String {
        self.source(file).display().to_string()
    }

    /// Writes the sources as every test leaves them (tests of two fixtures share a directory
    /// and may run at once): a.txt as first added, b.html edited, c.txt deleted.
    fn write_sources(&self) {
        let dir = self.source("");
        std::fs::create_dir_all(&dir).expect("create the sources' directory");
        let b = "<!doctype html><html><head><title>Beta page</title></head>\n\
                 <body><article><h1>Beta</h1><p>Beta is closed today.</p></article></body></html>\n";
        for (name, bytes) in [("a.txt", A_TXT), ("b.html", b)] {
            // Renamed into place, so that a check running meanwhile reads old or new bytes.
            let temp = dir.join(format!(
                ".{name}.{}.{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&temp, bytes).expect("write a source");
            std::fs::rename(&temp, dir.join(name)).expect("rename a source");
        }
        match std::fs::remove_file(dir.join("c.txt")) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("remove c.txt: {e}"),
        }
    }

    fn marker_version(&self, env: &TestEnv) -> u64 {
        let marker = env.git(&["show", "HEAD:verbatim-store.json"]).ok().stdout;
        let marker: serde_json::Value = serde_json::from_str(&marker).expect("the marker is JSON");
        assert_eq!(marker["format"], "verbatim-store");
        marker["version"].as_u64().expect("a version")
    }

    fn verifies(&self, env: &TestEnv) -> String {
        let run = env.run(&["verify"]).ok();
        assert!(run.stdout.contains("everything holds"), "{}", run.stdout);
        run.stdout
    }

    /// list, log, show and verify read the store as its writer left it; a check of it works
    /// and the store still verifies afterwards.
    fn reads_and_checks(&self) {
        let env = TestEnv::new();
        self.unpack(&env);
        assert_eq!(self.marker_version(&env), u64::from(self.format));

        let list: serde_json::Value =
            serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout)
                .expect("JSON");
        let list = list.as_array().expect("an array");
        assert_eq!(list.len(), 3, "{list:?}");
        for (file, versions) in ["a.txt", "b.html", "c.txt"].iter().zip(self.versions) {
            let locator = format!("file://{}", self.arg(file));
            let entry = list
                .iter()
                .find(|s| s["locator"] == locator.as_str())
                .unwrap_or_else(|| panic!("{locator} not listed: {list:?}"));
            assert_eq!(entry["versions"], versions, "{entry}");
        }
        let human = env.run(&["list"]).ok().stdout;
        assert_eq!(human.lines().count(), 4, "{human}");
        assert!(human.starts_with("ID  "), "{human}");

        let a = list.iter().find(|s| s["title"] == "Alpha, the first");
        assert!(a.is_some(), "a.txt keeps its title: {list:?}");

        let log: serde_json::Value = serde_json::from_str(
            &env.run(&["log", &self.arg("c.txt"), "--format", "json"])
                .ok()
                .stdout,
        )
        .expect("JSON");
        let log = log.as_array().expect("an array");
        assert_eq!(
            log.iter()
                .map(|v| v["version"].as_u64())
                .collect::<Vec<_>>(),
            [Some(1), Some(2)]
        );
        assert_eq!(log[1]["origin"]["kind"], "file");
        assert_eq!(log[1]["charset"], "UTF-8");
        let human = env.run(&["log", &self.arg("b.html")]).ok().stdout;
        assert!(human.contains("— Beta"), "{human}");

        let show = |args: &[&str]| env.run(args).ok().stdout;
        assert_eq!(
            show(&["show", &self.arg("c.txt"), "--version", "1"]),
            "Gamma, first draft.\n"
        );
        assert_eq!(
            show(&["show", &self.arg("c.txt")]),
            "Gamma, second draft.\n"
        );
        // Decoded from windows-1252, as its meta tag says.
        assert_eq!(
            show(&["show", &self.arg("b.html")]),
            "Beta\n\nCafé opens at nine. \u{201c}Quoted\u{201d} text.\n\nUpdated 12 minutes ago"
        );
        assert_eq!(show(&["show", &self.arg("a.txt"), "--version", "1"]), A_TXT);

        let (versions, streams, observations) = self.counts;
        let verified = self.verifies(&env);
        assert!(
            verified.contains(&format!(
                "3 sources, {versions} versions, {streams} byte streams, {observations} observations"
            )),
            "{verified}"
        );

        self.write_sources();
        let check = env.run(&["check", "--format", "json"]);
        assert_eq!(
            check.code, 1,
            "an edit was found: {}\n{}",
            check.stdout, check.stderr
        );
        let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("JSON");
        let verdict = |file: &str| {
            let locator = format!("file://{}", self.arg(file));
            let results = report["results"].as_array().expect("results");
            let r = results
                .iter()
                .find(|r| r["locator"] == locator.as_str())
                .unwrap_or_else(|| panic!("{locator} not checked: {report}"));
            (
                r["verdict"].as_str().map(str::to_owned),
                r["reason"].as_str().map(str::to_owned),
            )
        };
        // a.txt was deleted by the last check that wrote the fixture (the newer one stored
        // other bytes since): its first bytes are back.
        let a = if self.versions[0] == 1 {
            "unchanged"
        } else {
            "edited"
        };
        assert_eq!(verdict("a.txt"), (Some(a.to_owned()), None));
        assert_eq!(verdict("b.html").0.as_deref(), Some("edited"));
        assert_eq!(
            verdict("c.txt"),
            (
                Some("retracted".to_owned()),
                Some("file deleted".to_owned())
            )
        );
        // A write to a format-2 store upgrades it, index and all.
        assert_eq!(self.marker_version(&env), 3);
        assert!(
            !env.git(&["ls-tree", "HEAD", "index/"])
                .ok()
                .stdout
                .is_empty()
        );
        self.verifies(&env);
        assert_eq!(
            show(&["show", &self.arg("b.html")]),
            "Beta\n\nBeta is closed today."
        );
        // c.txt is still gone, and retracted is in the default --fail-on.
        let again = env.run(&["check", "--format", "json"]);
        assert_eq!(again.code, 1, "{}", again.stderr);
        let again: serde_json::Value = serde_json::from_str(&again.stdout).expect("JSON");
        assert_eq!(
            again["summary"],
            serde_json::json!({"retracted": 1, "unchanged": 2})
        );
    }
}

#[test]
fn a_format_2_store_is_read_checked_and_upgraded() {
    FORMAT_2.reads_and_checks();
}

#[test]
fn a_store_of_the_first_format_3_writer_is_read_and_checked() {
    FORMAT_3_FIRST.reads_and_checks();
}

#[test]
fn a_format_3_store_with_run_manifests_is_read_and_checked() {
    FORMAT_3.reads_and_checks();
}

/// Issue 16: a record written by a newer version, with a verdict this one does not know
/// ("quarantined"), a charset source it does not know, and fields it does not know in every
/// kind of record, is read: listed, logged, shown, verified and checked, not refused as corrupt.
#[test]
fn a_store_written_by_a_newer_version_is_read_not_refused() {
    NEWER.reads_and_checks();
    let env = TestEnv::new();
    NEWER.unpack(&env);
    let state = env
        .git(&["grep", "-h", "quarantined", "HEAD", "--", "state/"])
        .ok()
        .stdout;
    assert!(
        state.contains("\"reviewer\""),
        "the fixture has what it should: {state}"
    );
    assert_eq!(
        env.run(&["show", &NEWER.arg("a.txt")]).ok().stdout,
        "Alpha.\n\nThe first source, restored.\n"
    );
    let log: serde_json::Value = serde_json::from_str(
        &env.run(&["log", &NEWER.arg("a.txt"), "--format", "json"])
            .ok()
            .stdout,
    )
    .expect("JSON");
    assert_eq!(log[1]["version"], 2);
}

/// `--fail-on` takes only the verdicts a check can reach: not `unknown`, the name an unknown
/// verdict reads as, nor a newer version's name; the message lists them from the enum.
#[test]
fn fail_on_accepts_only_verdicts_a_check_reaches() {
    let env = TestEnv::with_store();
    for name in ["unknown", "quarantined"] {
        let run = env.run(&["check", "--fail-on", name]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "\"{name}\" is not a verdict; use unchanged, cosmetic, edited, retracted, moved, \
                 blocked, unreachable or error"
            )),
            "{}",
            run.stderr
        );
    }
    env.run(&["check", "--fail-on", "moved,error"]).ok();
}
