//! Golden tests of the store format: the bytes of every record type, pinned.
//!
//! Two kinds of fixture, under `tests/fixtures/records/`:
//!
//! - `constructed/`: each record type built here with every field set, and with every optional
//!   field absent, written as the store writes it ([`to_json`] for record files, [`json_line`]
//!   for `.jsonl` lines). A renamed field, a reordered one or a changed serde attribute changes
//!   these bytes and fails here.
//! - one directory per fixture store (`tests/fixtures/stores/`, made by the real binaries of
//!   each store format; `extract.sh` copies their records): every record the binaries of
//!   formats 2 and 3 wrote must read, and write back byte for byte.
//!
//! Each fixture also reads back to the value it was written from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().expect("a valid timestamp")
}

fn id(text: &str) -> SourceId {
    SourceId::parse(text).expect("a valid id")
}

fn hex(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

/// Asserts that `value`, written as a record file, is the fixture `name`, and that the fixture
/// reads back to `value`.
#[track_caller]
fn golden_file<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    name: &str,
    value: &T,
) {
    let expected = read(&fixtures().join("constructed").join(name));
    let written = to_json(value);
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&expected),
        "{name}: the bytes written changed"
    );
    let back: T = serde_json::from_slice(&expected).expect("the fixture reads");
    assert_eq!(
        &back, value,
        "{name}: the fixture reads back to another value"
    );
}

/// As [`golden_file`], for a one-line `.jsonl` fixture.
#[track_caller]
fn golden_line<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    name: &str,
    value: &T,
) {
    let expected = read(&fixtures().join("constructed").join(name));
    let written = json_line(value);
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&expected),
        "{name}: the bytes written changed"
    );
    let back: T = serde_json::from_slice(&expected).expect("the fixture reads");
    assert_eq!(
        &back, value,
        "{name}: the fixture reads back to another value"
    );
}

fn full_source() -> SourceRecord {
    SourceRecord {
        id: id("0427f8476fc75811"),
        locator: "https://example.org/a".to_owned(),
        title: Some("A \"quoted\" title — with non-ASCII".to_owned()),
        added_at: at("2026-11-24T01:50:07.123456Z"),
        selector: Some("article .body".to_owned()),
        ignore: vec![r"Updated \d+ minutes ago".to_owned(), "Share".to_owned()],
        from_content: true,
        learned_ignore: vec![r"\d+ comments".to_owned()],
    }
}

fn minimal_source() -> SourceRecord {
    SourceRecord {
        id: id("4f7e0c7c3bf7ad9a"),
        locator: "file:///data/004.txt".to_owned(),
        title: None,
        added_at: at("2026-11-24T01:50:07Z"),
        selector: None,
        ignore: Vec::new(),
        from_content: false,
        learned_ignore: Vec::new(),
    }
}

fn blob(c: char, bytes: u64) -> StoredBlob {
    StoredBlob {
        sha256: hex(c),
        bytes,
        git_blob: std::iter::repeat_n(c, 40).collect(),
    }
}

fn full_version() -> VersionRecord {
    VersionRecord {
        version: 2,
        source: id("0427f8476fc75811"),
        captured_at: at("2026-11-25T08:00:00.000001Z"),
        raw: blob('a', 5908),
        text: blob('b', 5901),
        canonical_sha256: Some(hex('c')),
        media_type: "text/html".to_owned(),
        charset: Some("windows-1252".to_owned()),
        charset_source: CharsetSource::Meta,
        origin: Origin::Http {
            requested_url: "http://example.org/a".to_owned(),
            final_url: "https://example.org/a/".to_owned(),
            status: 200,
            headers: BTreeMap::from(
                [
                    ("content-type", "text/html; charset=windows-1252"),
                    ("date", "Wed, 25 Nov 2026 08:00:00 GMT"),
                    ("etag", "\"abc\""),
                    ("last-modified", "Tue, 24 Nov 2026 23:58:18 GMT"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            ),
            redirects: vec![Redirect {
                url: "http://example.org/a".to_owned(),
                status: 301,
                location: "https://example.org/a/".to_owned(),
            }],
        },
        previous_record_sha256: Some(hex('d')),
    }
}

fn minimal_version() -> VersionRecord {
    VersionRecord {
        version: 1,
        source: id("4f7e0c7c3bf7ad9a"),
        captured_at: at("2026-11-24T01:50:07Z"),
        raw: blob('e', 0),
        text: blob('f', 0),
        canonical_sha256: None,
        media_type: "application/octet-stream".to_owned(),
        charset: None,
        charset_source: CharsetSource::None,
        origin: Origin::File {
            path: "/data/004.bin".to_owned(),
        },
        previous_record_sha256: None,
    }
}

fn full_observation() -> Observation {
    Observation {
        source: id("0427f8476fc75811"),
        at: at("2026-11-25T08:00:00.000001Z"),
        since: at("2026-11-24T01:50:07.123456Z"),
        outcome: Outcome::Unchanged,
        version: 1,
        raw_sha256: Some(hex('a')),
        canonical_sha256: Some(hex('c')),
        http_status: Some(301),
        verdict: Some(Verdict::Moved),
        reason: Some("answers from https://example.org/b".to_owned()),
        final_url: Some("https://example.org/b".to_owned()),
    }
}

fn minimal_observation() -> Observation {
    Observation {
        source: id("4f7e0c7c3bf7ad9a"),
        at: at("2026-11-24T01:50:07Z"),
        since: at("2026-11-24T01:50:07Z"),
        outcome: Outcome::Captured,
        version: 1,
        raw_sha256: None,
        canonical_sha256: None,
        http_status: None,
        verdict: None,
        reason: None,
        final_url: None,
    }
}

#[test]
fn store_marker_bytes_are_pinned() {
    for (name, version) in [("verbatim-store-2.json", 2), ("verbatim-store-3.json", 3)] {
        let meta = StoreMeta {
            format: "verbatim-store".to_owned(),
            version,
            created_at: at("2026-11-24T01:50:07.123456Z"),
        };
        let expected = read(&fixtures().join("constructed").join(name));
        assert_eq!(to_json(&meta), expected, "{name}");
        let back: StoreMeta = serde_json::from_slice(&expected).expect("reads");
        assert_eq!(
            (back.format, back.version, back.created_at),
            (meta.format, meta.version, meta.created_at)
        );
    }
    assert_eq!(
        (FORMAT_VERSION, OLDEST_FORMAT),
        (3, 2),
        "a new format needs its own fixtures"
    );
}

#[test]
fn source_record_bytes_are_pinned() {
    golden_file("source-full.json", &full_source());
    golden_file("source-minimal.json", &minimal_source());
}

#[test]
fn version_record_bytes_are_pinned() {
    golden_file("version-full.json", &full_version());
    golden_file("version-minimal.json", &minimal_version());
}

#[test]
fn every_charset_source_is_pinned() {
    let all = [
        CharsetSource::Bom,
        CharsetSource::Header,
        CharsetSource::Meta,
        CharsetSource::Utf8,
        CharsetSource::Detected,
        CharsetSource::None,
    ];
    let names: Vec<String> = all
        .iter()
        .map(|c| serde_json::to_string(c).expect("writes"))
        .collect();
    assert_eq!(
        names,
        [
            "\"bom\"",
            "\"header\"",
            "\"meta\"",
            "\"utf8\"",
            "\"detected\"",
            "\"none\""
        ]
    );
}

#[test]
fn observation_bytes_are_pinned() {
    golden_line("observation-full.jsonl", &full_observation());
    golden_line("observation-minimal.jsonl", &minimal_observation());
}

#[test]
fn every_verdict_and_outcome_is_pinned() {
    let names: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| serde_json::to_string(v).expect("writes"))
        .collect();
    assert_eq!(
        names,
        [
            "\"unchanged\"",
            "\"cosmetic\"",
            "\"edited\"",
            "\"retracted\"",
            "\"moved\"",
            "\"blocked\"",
            "\"unreachable\"",
            "\"error\""
        ]
    );
    for v in Verdict::ALL {
        assert_eq!(
            serde_json::to_string(&v).expect("writes"),
            format!("\"{}\"", v.as_str())
        );
        assert_eq!(Verdict::from_name(v.as_str()), Some(v));
    }
    assert_eq!(
        serde_json::to_string(&Verdict::Unknown).expect("writes"),
        "\"unknown\""
    );
    assert_eq!(Verdict::from_name("unknown"), None);
    assert_eq!(
        [Outcome::Captured, Outcome::Unchanged].map(|o| serde_json::to_string(&o).expect("writes")),
        ["\"captured\"", "\"unchanged\""]
    );
}

#[test]
fn index_entry_bytes_are_pinned() {
    let mut full = IndexEntry::new(&full_source(), Some(&full_version()));
    assert_eq!(full.etag.as_deref(), Some("\"abc\""));
    full.compared = Some(ComparedText {
        by: "4:0123456789abcdef0123456789abcdef".to_owned(),
        sha256: hex('d'),
    });
    golden_line("index-full.jsonl", &full);
    golden_line(
        "index-minimal.jsonl",
        &IndexEntry::new(&minimal_source(), None),
    );
}

#[test]
fn run_manifest_bytes_are_pinned() {
    let full = RunManifest {
        run: "2026-11/20261125T080000.000000Z".to_owned(),
        files: BTreeMap::from([
            ("04.jsonl".to_owned(), hex('a')),
            ("4f.jsonl".to_owned(), hex('b')),
        ]),
        previous: Some(PreviousRun {
            run: "2026-11/20261124T015007.123456Z".to_owned(),
            sha256: hex('c'),
        }),
    };
    golden_file("run-full.json", &full);
    let first = RunManifest {
        run: "2026-11/20261124T015007.123456Z".to_owned(),
        files: BTreeMap::from([("04.jsonl".to_owned(), hex('d'))]),
        previous: None,
    };
    golden_file("run-minimal.json", &first);
}

/// What kind of record a fixture file holds, by the name `extract.sh` gave it.
enum Kind {
    Marker,
    Source,
    Version,
    Run,
    Observations,
    Index,
}

fn kind(name: &str) -> Kind {
    match name {
        "verbatim-store.json" => Kind::Marker,
        "observations.jsonl" | "state.jsonl" => Kind::Observations,
        "index.jsonl" => Kind::Index,
        _ if name.starts_with("source-") => Kind::Source,
        _ if name.starts_with("version-") => Kind::Version,
        _ if name.starts_with("run-") => Kind::Run,
        _ => panic!("{name}: not a record fixture"),
    }
}

/// Reads `bytes` as a `T`, and writes it back with `write`.
fn rewrite<T: Serialize + DeserializeOwned>(bytes: &[u8], write: fn(&T) -> Vec<u8>) -> Vec<u8> {
    let value: T = serde_json::from_slice(bytes).expect("the record reads");
    write(&value)
}

fn rewrite_lines<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Vec<u8> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .flat_map(|line| rewrite::<T>(line, json_line))
        .collect()
}

/// Every record in the fixture store directory `name`, read and written back.
fn each_written_record(name: &str, mut check: impl FnMut(&str, &[u8], Vec<u8>)) -> usize {
    let dir = fixtures().join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable entry").path())
        .collect();
    files.sort();
    for path in &files {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 name");
        let bytes = read(path);
        let written = match kind(file) {
            Kind::Marker => rewrite::<StoreMeta>(&bytes, to_json),
            Kind::Source => rewrite::<SourceRecord>(&bytes, to_json),
            Kind::Version => rewrite::<VersionRecord>(&bytes, to_json),
            Kind::Run => rewrite::<RunManifest>(&bytes, to_json),
            Kind::Observations => rewrite_lines::<Observation>(&bytes),
            Kind::Index => rewrite_lines::<IndexEntry>(&bytes),
        };
        check(file, &bytes, written);
    }
    files.len()
}

/// Every record the binaries of formats 2 and 3 wrote reads, and is written back byte for byte.
#[test]
fn records_written_by_each_format_read_and_write_back_unchanged() {
    for (store, format) in [
        ("format-2-344ef4d", 2),
        ("format-3-c06506e", 3),
        ("format-3-10560d3", 3),
    ] {
        let marker: StoreMeta =
            serde_json::from_slice(&read(&fixtures().join(store).join("verbatim-store.json")))
                .expect("the marker reads");
        assert_eq!(marker.version, format, "{store}");
        let files = each_written_record(store, |file, bytes, written| {
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(bytes),
                "{store}/{file}: today's types write it otherwise"
            );
        });
        assert!(files >= 9, "{store}: {files} record files");
    }
}

/// Records a newer version wrote, with fields, a verdict and a charset source this version does
/// not know, read rather than fail; what is known reads as written.
#[test]
fn records_from_a_newer_version_read() {
    let store = "format-3-newer";
    // Every record reads (each_written_record fails on one that does not); written back, it
    // loses the fields this version does not know, and only those.
    let mut dropped = Vec::new();
    each_written_record(store, |file, bytes, written| {
        if written != bytes {
            dropped.push(file.to_owned());
        }
    });
    // The last run (the newer version's) is the one whose manifest has a field more.
    let dir = fixtures().join(store);
    let mut runs: Vec<String> = std::fs::read_dir(&dir)
        .expect("the fixture directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("run-"))
        .collect();
    runs.sort();
    assert_eq!(
        dropped,
        [
            "index.jsonl",
            "observations.jsonl",
            runs.last().expect("runs"),
            "source-a34b681110d99859.json",
            "state.jsonl",
            "verbatim-store.json",
            "version-a34b681110d99859-00000002.json",
        ]
    );
    let lines = read(&dir.join("state.jsonl"));
    let states: Vec<Observation> = lines
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a state line reads"))
        .collect();
    let quarantined: Vec<&Observation> = states
        .iter()
        .filter(|o| o.verdict == Some(Verdict::Unknown))
        .collect();
    assert_eq!(quarantined.len(), 1, "{states:?}");
    assert_eq!(quarantined[0].reason.as_deref(), Some("held for review"));
    let version: VersionRecord =
        serde_json::from_slice(&read(&dir.join("version-a34b681110d99859-00000002.json")))
            .expect("the version record reads");
    assert_eq!(version.charset_source, CharsetSource::Unknown);
    assert_eq!(
        version.previous_record_sha256.as_ref().map(String::len),
        Some(64)
    );
}

/// The same, for a record edited by hand here: every record type ignores a field it does not
/// know, wherever it stands, and an unknown verdict is [`Verdict::Unknown`].
#[test]
fn unknown_fields_and_verdicts_are_read() {
    let line = r#"{"future":1,"source":"0427f8476fc75811","at":"2026-11-25T08:00:00Z","since":"2026-11-25T08:00:00Z","outcome":"unchanged","version":1,"verdict":"quarantined","nested":{"a":[1,2]}}"#;
    let o: Observation = serde_json::from_str(line).expect("reads");
    assert_eq!(o.verdict, Some(Verdict::Unknown));
    assert_eq!(o.verdict.map(Verdict::as_str), Some("unknown"));
    let v: Verdict = serde_json::from_str("\"quarantined\"").expect("reads");
    assert_eq!(v, Verdict::Unknown);
    let o: Observation =
        serde_json::from_str(&line.replace("\"unchanged\"", "\"imported\"")).expect("reads");
    assert_eq!(o.outcome, Outcome::Unknown);
    let c: CharsetSource = serde_json::from_str("\"sniffed\"").expect("reads");
    assert_eq!(c, CharsetSource::Unknown);

    let mut source = serde_json::to_value(full_source()).expect("JSON");
    source["future"] = serde_json::json!({"x": true});
    assert_eq!(
        serde_json::from_value::<SourceRecord>(source).expect("reads"),
        full_source()
    );
    let mut version = serde_json::to_value(full_version()).expect("JSON");
    version["future"] = serde_json::json!(null);
    version["raw"]["future"] = serde_json::json!("x");
    version["origin"]["future"] = serde_json::json!(3);
    version["origin"]["redirects"][0]["future"] = serde_json::json!([]);
    assert_eq!(
        serde_json::from_value::<VersionRecord>(version).expect("reads"),
        full_version()
    );
    let mut index = serde_json::to_value(IndexEntry::new(&full_source(), None)).expect("JSON");
    index["future"] = serde_json::json!(1);
    assert_eq!(
        serde_json::from_value::<IndexEntry>(index).expect("reads"),
        IndexEntry::new(&full_source(), None)
    );
    let manifest: RunManifest = serde_json::from_str(
        r#"{"run":"2026-11/x","files":{},"previous":{"run":"2026-11/w","sha256":"00","future":1},"future":2}"#,
    )
    .expect("reads");
    assert_eq!(
        manifest.previous.map(|p| p.run),
        Some("2026-11/w".to_owned())
    );
    let meta: StoreMeta = serde_json::from_str(
        r#"{"format":"verbatim-store","version":3,"created_at":"2026-11-24T01:50:07Z","future":[]}"#,
    )
    .expect("reads");
    assert_eq!(meta.version, 3);
}

#[test]
fn verdict_list_is_the_help_texts() {
    assert_eq!(
        Verdict::list(),
        "unchanged, cosmetic, edited, retracted, moved, blocked, unreachable or error"
    );
}

#[test]
fn an_unknown_verdict_is_a_state_of_its_own() {
    use super::verdict::continues;
    assert!(continues(Some(Verdict::Unknown), Some(Verdict::Unknown)));
    assert!(!continues(Some(Verdict::Unknown), Some(Verdict::Unchanged)));
    assert!(!continues(None, Some(Verdict::Unknown)));
    assert!(continues(None, Some(Verdict::Cosmetic)));
    assert!(!continues(Some(Verdict::Edited), Some(Verdict::Edited)));
}
