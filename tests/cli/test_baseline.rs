//! `snapshots/` is a BagIt bag of the seed corpus's baseline capture, written by
//! `verbatim export --bagit snapshots` from a store of `seeds/*.txt`. It must stay a valid bag,
//! for verbatim and for the Library of Congress's bagit.py, and hold the seeds byte for byte.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{TestEnv, peer_python, seed_files};

fn snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    verbatim::hash::to_hex(&sha2::Sha256::digest(bytes))
}

#[test]
fn the_snapshots_bag_is_valid_and_holds_the_seeds() {
    let env = TestEnv::new();
    let bag = snapshots();
    let run = env.run(&["verify", "--bagit", &bag.display().to_string()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = peer_python()
        .args(["-m", "bagit", "--validate"])
        .arg(&bag)
        .output()
        .expect("python3 -m bagit");
    assert!(
        out.status.success(),
        "bagit.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let seeds: BTreeSet<String> = seed_files()
        .iter()
        .map(|p| sha256(&std::fs::read(p).expect("seed")))
        .collect();
    let mut raws = BTreeSet::new();
    for source in std::fs::read_dir(bag.join("data")).expect("data") {
        let source = source.expect("entry").path();
        for version in std::fs::read_dir(&source).expect("versions") {
            let version = version.expect("entry").path();
            let raw = std::fs::read(version.join("raw")).expect("raw");
            // The seeds are plain UTF-8 text: their text is their bytes.
            assert_eq!(std::fs::read(version.join("text.txt")).expect("text"), raw);
            raws.insert(sha256(&raw));
        }
    }
    assert_eq!(raws, seeds, "snapshots/ holds exactly the five seeds");
}
