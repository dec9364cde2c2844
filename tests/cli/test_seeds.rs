//! The seed corpus: the manifest matches the files byte for byte, and every seed round-trips
//! through the store with its manifest title.

use sha2::{Digest as _, Sha256};

use crate::common::{TestEnv, seeds_dir};

#[derive(serde::Deserialize)]
struct Manifest {
    seed: Vec<Seed>,
}

#[derive(serde::Deserialize)]
struct Seed {
    file: String,
    title: String,
    publisher: Option<String>,
    publisher_evidence: Option<String>,
    sha256: String,
    bytes: u64,
}

fn manifest() -> Manifest {
    let text =
        std::fs::read_to_string(seeds_dir().join("sources.toml")).expect("seeds/sources.toml");
    toml::from_str(&text).expect("valid manifest")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn manifest_matches_the_files() {
    let m = manifest();
    assert_eq!(m.seed.len(), 5);
    assert_eq!(
        m.seed.len(),
        crate::common::seed_files().len(),
        "every seed file is in the manifest"
    );
    for seed in &m.seed {
        let bytes = std::fs::read(seeds_dir().join(&seed.file)).expect("seed file");
        assert_eq!(hex(&Sha256::digest(&bytes)), seed.sha256, "{}", seed.file);
        assert_eq!(bytes.len() as u64, seed.bytes, "{}", seed.file);
        let text = String::from_utf8(bytes).expect("seeds are UTF-8");
        assert_eq!(
            text.lines().next().map(str::trim),
            Some(seed.title.as_str())
        );
        // A publisher is named only with the sentence of the article that states it.
        if let (Some(publisher), Some(evidence)) = (&seed.publisher, &seed.publisher_evidence) {
            assert!(evidence.contains(publisher.as_str()));
            assert!(
                text.contains(publisher.as_str()),
                "{} names {publisher}",
                seed.file
            );
        }
        assert_eq!(seed.publisher.is_some(), seed.publisher_evidence.is_some());
    }
}

#[test]
fn seeds_round_trip_with_titles() {
    let env = TestEnv::with_store();
    let m = manifest();
    for seed in &m.seed {
        let path = seeds_dir().join(&seed.file);
        env.run(&[
            "add",
            path.to_str().expect("utf-8 path"),
            "--title",
            &seed.title,
        ])
        .ok();
    }
    let list: serde_json::Value =
        serde_json::from_str(&env.run(&["list", "--format", "json"]).ok().stdout)
            .expect("list json");
    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 5);
    for seed in &m.seed {
        let item = items
            .iter()
            .find(|i| i["sha256"] == seed.sha256.as_str())
            .unwrap_or_else(|| panic!("{} is listed", seed.file));
        assert_eq!(item["title"], seed.title.as_str());
        assert_eq!(item["versions"], 1);
        let id = item["id"].as_str().expect("id");
        let original = std::fs::read(seeds_dir().join(&seed.file)).expect("seed");
        assert_eq!(env.run(&["show", id, "--raw"]).ok().stdout_bytes, original);
        let log: serde_json::Value =
            serde_json::from_str(&env.run(&["log", id, "--format", "json"]).ok().stdout)
                .expect("log json");
        assert_eq!(log.as_array().map(Vec::len), Some(1));
        assert_eq!(log[0]["sha256"], seed.sha256.as_str());
        assert_eq!(log[0]["charset"], "UTF-8");
        assert!(env.run(&["log", id]).ok().stdout.contains(&seed.title));
        // Plain UTF-8 text is its own extracted text.
        assert_eq!(env.run(&["show", id]).ok().stdout_bytes, original);
    }
}
