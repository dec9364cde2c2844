//! Store unit tests: real repositories in temp directories, read back through git2.

use std::path::Path;
use std::time::Duration;

use super::record::{IndexEntry, Observation, Outcome};
use super::snapshot::shard_may_match;
use super::*;
use crate::capture::{Capture, Origin};
use crate::classify::Verdict;
use crate::extract;
use crate::source::Locator;

fn capture(path: &str, bytes: &[u8]) -> Capture {
    Capture {
        locator: Locator::parse(path, Path::new("/")).expect("valid path"),
        captured_at: capture::now(),
        raw: bytes.to_vec(),
        extracted: extract::extract(bytes, None, Some(path)),
        origin: Origin::File {
            path: path.to_owned(),
        },
        from_content: false,
    }
}

fn write(store: &Store, captures: &[Capture]) -> Vec<Recorded> {
    let lock = store
        .lock(Duration::from_secs(1), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    let out = captures
        .iter()
        .map(|c| tx.record(c, None).expect("record"))
        .collect();
    tx.commit("test").expect("commit");
    out
}

#[test]
fn versions_chain_and_only_change_when_bytes_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    let a1 = capture("/a.txt", b"one");
    assert!(matches!(
        write(&store, std::slice::from_ref(&a1))[0],
        Recorded::Added(_)
    ));
    assert!(matches!(write(&store, &[a1])[0], Recorded::Unchanged(_)));
    assert!(matches!(
        write(&store, &[capture("/a.txt", b"two")])[0],
        Recorded::NewVersion(_)
    ));

    let snap = store.snapshot().expect("snapshot");
    let id = Locator::parse("/a.txt", Path::new("/")).expect("path").id();
    let versions = snap.versions(&id).expect("versions");
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(snap.version_count(&id).expect("count"), 2);
    assert_eq!(snap.latest(&id).expect("latest").as_ref(), versions.last());
    assert_eq!(snap.read(&versions[0].raw).expect("read"), b"one");
    assert_eq!(versions[1].raw.sha256, crate::hash::sha256_hex(b"two"));
    // Version 2 is chained to the exact bytes of version 1's record.
    let v1_path = format!("{}/versions/00000001.json", source_dir(&id));
    let v1_blob = snap
        .tree
        .get_path(Path::new(&v1_path))
        .expect("v1 record")
        .id();
    let v1_bytes = store
        .repo()
        .find_blob(v1_blob)
        .expect("blob")
        .content()
        .to_vec();
    assert_eq!(
        versions[1].previous_record_sha256,
        Some(crate::hash::sha256_hex(&v1_bytes))
    );
    assert_eq!(versions[0].previous_record_sha256, None);
    // Three observations: captured, unchanged, captured.
    let outcomes: Vec<_> = snap
        .observations(&id)
        .expect("obs")
        .iter()
        .map(|o| o.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Captured, Outcome::Unchanged, Outcome::Captured]
    );
}

#[test]
fn a_batch_is_one_commit_and_repeats_are_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    let before = store.snapshot().expect("snap").commit_id();
    let out = write(
        &store,
        &[
            capture("/b.txt", b"1"),
            capture("/c.txt", b"x"),
            capture("/b.txt", b"2"),
        ],
    );
    assert!(matches!(out[2], Recorded::NewVersion(ref v) if v.version == 2));
    let snap = store.snapshot().expect("snap");
    let commit = store.repo().find_commit(snap.commit_id()).expect("commit");
    assert_eq!(commit.parent_id(0).expect("parent"), before);
    assert_eq!(snap.sources().expect("sources").len(), 2);
    let message = commit.message().expect("utf-8 message");
    assert_eq!(message.matches("Verbatim-Source: ").count(), 3);
}

#[test]
fn resolve_by_prefix_locator_and_ambiguity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    let captures: Vec<_> = (0..40)
        .map(|i| capture(&format!("/f{i}.txt"), b"x"))
        .collect();
    write(&store, &captures);
    let snap = store.snapshot().expect("snap");
    let ids: Vec<_> = snap
        .sources()
        .expect("sources")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids.len(), 40);
    for id in &ids {
        assert_eq!(
            &snap
                .resolve(&id.as_str()[..6], Path::new("/"))
                .expect("prefix")
                .id,
            id
        );
    }
    assert_eq!(
        snap.resolve("/f7.txt", Path::new("/"))
            .expect("by path")
            .locator,
        "file:///f7.txt"
    );
    // 40 ids over 16 first digits: some first digit is shared.
    let shared = ids
        .iter()
        .map(|i| &i.as_str()[..1])
        .find(|p| ids.iter().filter(|i| i.as_str().starts_with(p)).count() > 1)
        .expect("pigeonhole");
    assert!(matches!(
        snap.resolve(shared, Path::new("/")),
        Err(Error::AmbiguousSource { .. })
    ));
    assert!(matches!(
        snap.resolve("ffffffffffffffff", Path::new("/")),
        Err(Error::UnknownSource { .. })
    ));
}

#[test]
fn open_refuses_what_is_not_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        Store::open(&dir.path().join("none")),
        Err(Error::Missing { .. })
    ));
    assert!(matches!(
        Store::open(dir.path()),
        Err(Error::NotAStore { .. })
    ));
    git2::Repository::init_bare(dir.path().join("bare")).expect("bare repo");
    assert!(matches!(
        Store::open(&dir.path().join("bare")),
        Err(Error::NotAStore { .. })
    ));
    let s = dir.path().join("s");
    Store::init(&s).expect("init");
    assert!(matches!(Store::init(&s), Err(Error::AlreadyExists { .. })));
    Store::open(&s).expect("still a store");
}

#[test]
fn shard_prefix_matching() {
    assert!(shard_may_match("ab", "a", 0));
    assert!(shard_may_match("ab", "abcd", 0));
    assert!(!shard_may_match("ac", "ab", 0));
    assert!(shard_may_match("cd", "ab", 2));
    assert!(shard_may_match("cd", "abc", 2));
    assert!(!shard_may_match("ce", "abcd", 2));
}

#[test]
fn typography_only_changes_keep_the_canonical_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    write(
        &store,
        &[capture(
            "/q.txt",
            "He said \u{201C}no\u{201D} \u{2014} twice.".as_bytes(),
        )],
    );
    write(&store, &[capture("/q.txt", b"He said \"no\"  -  twice.")]);
    write(&store, &[capture("/q.txt", b"He said \"yes\" - twice.")]);
    let snap = store.snapshot().expect("snap");
    let id = Locator::parse("/q.txt", Path::new("/")).expect("path").id();
    let v = snap.versions(&id).expect("versions");
    assert_ne!(v[0].raw.sha256, v[1].raw.sha256);
    assert_eq!(v[0].canonical_sha256, v[1].canonical_sha256);
    assert_ne!(v[1].canonical_sha256, v[2].canonical_sha256);
}

fn observe(store: &Store, id: &SourceId, verdict: Verdict) {
    let lock = store
        .lock(Duration::from_secs(1), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    tx.observe(Observation {
        source: id.clone(),
        at: capture::now(),
        since: capture::now(),
        outcome: Outcome::Unchanged,
        version: 1,
        raw_sha256: None,
        canonical_sha256: None,
        http_status: Some(404),
        verdict: Some(verdict),
        reason: None,
        final_url: None,
    })
    .expect("observe");
    tx.commit("observe").expect("commit");
}

#[test]
fn states_keep_their_start_across_runs_and_history_is_per_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    write(
        &store,
        &[capture("/a.txt", b"one"), capture("/b.txt", b"two")],
    );
    let a = Locator::parse("/a.txt", Path::new("/")).expect("path").id();
    let b = Locator::parse("/b.txt", Path::new("/")).expect("path").id();
    observe(&store, &a, Verdict::Cosmetic);
    observe(&store, &a, Verdict::Retracted);
    observe(&store, &a, Verdict::Retracted);

    let snap = store.snapshot().expect("snapshot");
    let history = snap.observations(&a).expect("observations");
    assert_eq!(history.len(), 4, "{history:?}");
    assert!(history.iter().all(|o| o.source == a));
    // The capture and the cosmetic check are one state; so are the two retractions.
    assert_eq!(history[1].since, history[0].at);
    assert_eq!(history[2].since, history[2].at);
    assert_eq!(history[3].since, history[2].at);
    // The state index holds the observation that began each source's current state: the
    // second retraction continued the first and rewrote nothing.
    let states = snap.states().expect("states");
    assert_eq!(states.len(), 2);
    assert_eq!(states[&a], history[2]);
    assert_eq!(
        snap.state(&b).expect("state").map(|o| o.verdict),
        Some(None)
    );
    assert_eq!(snap.observations(&b).expect("observations").len(), 1);
    // Each write is its own run directory, whatever the number of sources it observed.
    let runs = snap.tree_at(OBSERVATIONS_DIR).expect("read").expect("dir");
    let month = snap
        .entry_tree(&runs.iter().next().expect("month"))
        .expect("read");
    assert_eq!(month.expect("month tree").len(), 4);
}

#[test]
fn a_store_of_an_older_format_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    let store = Store::init(&path).expect("init");
    let lock = store
        .lock(Duration::from_secs(1), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    let mut meta: StoreMeta = serde_json::from_slice(
        store
            .repo()
            .find_blob(
                store
                    .snapshot()
                    .expect("snap")
                    .blob_at(MARKER)
                    .expect("read")
                    .expect("marker"),
            )
            .expect("blob")
            .content(),
    )
    .expect("marker json");
    meta.version = 1;
    tx.put(MARKER.to_owned(), &to_json(&meta)).expect("put");
    tx.commit("downgrade").expect("commit");
    drop(lock);
    let err = Store::open(&path).expect_err("refused");
    assert!(err.to_string().contains("format 1"), "{err}");
}

/// Every source's index entry, as the index has it and as derived from its records.
fn index_and_records(store: &Store) -> (Vec<IndexEntry>, Vec<IndexEntry>) {
    let snap = store.snapshot().expect("snapshot");
    let derived = snap
        .sources()
        .expect("sources")
        .iter()
        .map(|s| IndexEntry::new(s, snap.latest(&s.id).expect("latest").as_ref()))
        .collect();
    (snap.index().expect("index"), derived)
}

#[test]
fn the_index_follows_every_new_source_version_and_record_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    write(
        &store,
        &[capture("/a.txt", b"one"), capture("/b.txt", b"bee")],
    );
    write(
        &store,
        &[capture("/a.txt", b"two"), capture("/b.txt", b"bee")],
    );
    let (index, derived) = index_and_records(&store);
    assert_eq!(index.len(), 2);
    assert_eq!(index, derived);
    let a = Locator::parse("/a.txt", Path::new("/")).expect("path").id();
    let entry = index.iter().find(|e| e.source == a).expect("a indexed");
    assert_eq!(entry.version, 2);
    assert_eq!(
        entry.raw_sha256.as_deref(),
        Some(crate::hash::sha256_hex(b"two").as_str())
    );

    let lock = store
        .lock(Duration::from_secs(1), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    tx.update_source(&a, |s| s.title = Some("Renamed".to_owned()))
        .expect("update");
    tx.commit("rename").expect("commit");
    drop(lock);
    let (index, derived) = index_and_records(&store);
    assert_eq!(index, derived);
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(
        snap.index_entry(&a).expect("read").and_then(|e| e.title),
        Some("Renamed".to_owned())
    );
    let mut ids = snap.source_ids().expect("ids");
    ids.sort();
    assert_eq!(
        ids,
        index.iter().map(|e| e.source.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn a_format_2_store_is_read_without_an_index_and_upgraded_by_its_next_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    let store = Store::init(&path).expect("init");
    write(
        &store,
        &[capture("/a.txt", b"one"), capture("/b.txt", b"bee")],
    );
    write(&store, &[capture("/a.txt", b"two")]);
    let (expected, _) = index_and_records(&store);

    // Rewrite the branch as format 2 wrote it: no index/, marker version 2.
    let repo = store.repo();
    let snap = store.snapshot().expect("snapshot");
    let mut meta: StoreMeta = snap
        .read_json(MARKER, snap.blob_at(MARKER).expect("read").expect("marker"))
        .expect("marker json");
    meta.version = 2;
    let mut root = repo.treebuilder(Some(&snap.tree)).expect("builder");
    root.remove(INDEX_DIR).expect("had an index");
    root.insert(MARKER, repo.blob(&to_json(&meta)).expect("blob"), 0o100644)
        .expect("marker");
    let tree = repo.find_tree(root.write().expect("tree")).expect("tree");
    let parent = repo.find_commit(snap.commit_id()).expect("parent");
    let sig = signature(capture::now()).expect("sig");
    repo.commit(Some(BRANCH), &sig, &sig, "as format 2", &tree, &[&parent])
        .expect("commit");
    drop(snap);

    let store = Store::open(&path).expect("format 2 is read");
    let snap = store.snapshot().expect("snapshot");
    assert!(!snap.has_index());
    assert_eq!(snap.index().expect("derived index"), expected);
    assert_eq!(snap.source_ids().expect("ids").len(), 2);
    drop(snap);

    // Any write adds the whole index and marks the store format 3.
    write(&store, &[capture("/c.txt", b"sea")]);
    let snap = store.snapshot().expect("snapshot");
    assert!(snap.has_index());
    let (index, derived) = index_and_records(&store);
    assert_eq!(index.len(), 3);
    assert_eq!(index, derived);
    let meta: StoreMeta = snap
        .read_json(MARKER, snap.blob_at(MARKER).expect("read").expect("marker"))
        .expect("marker json");
    assert_eq!(meta.version, FORMAT_VERSION);
}

#[test]
fn observations_flushed_early_are_kept_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    write(&store, &[capture("/a.txt", b"one")]);
    let id = Locator::parse("/a.txt", Path::new("/")).expect("path").id();
    let lock = store
        .lock(Duration::from_secs(1), &mut |_| {})
        .expect("lock");
    let mut tx = store.transaction(&lock).expect("transaction");
    let seen = |at: &str, verdict| Observation {
        source: id.clone(),
        at: at.parse().expect("time"),
        since: at.parse().expect("time"),
        outcome: Outcome::Unchanged,
        version: 1,
        raw_sha256: None,
        canonical_sha256: None,
        http_status: Some(404),
        verdict: Some(verdict),
        reason: None,
        final_url: None,
    };
    tx.observe(seen("2030-01-01T00:00:00Z", Verdict::Retracted))
        .expect("observe");
    tx.flush_observations().expect("flush");
    // The same shard again, after its files were written: read back, not overwritten.
    tx.observe(seen("2030-01-02T00:00:00Z", Verdict::Retracted))
        .expect("observe");
    tx.commit("two observations").expect("commit");
    drop(lock);
    let snap = store.snapshot().expect("snapshot");
    let history = snap.observations(&id).expect("observations");
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[2].since, history[1].at, "the state continued");
    assert_eq!(snap.state(&id).expect("state"), Some(history[1].clone()));
}

/// A compared text's hash is saved only on the version it was computed for: a check that
/// judged version 1 while another run stored version 2 must not give version 2's entry the
/// hash of version 1's text (a later reload of the old text would then read as cosmetic).
#[test]
fn a_compared_text_is_saved_only_on_its_own_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::init(&dir.path().join("s")).expect("init");
    write(&store, &[capture("/a.txt", b"one")]);
    write(&store, &[capture("/a.txt", b"two")]);
    let a = Locator::parse("/a.txt", Path::new("/")).expect("path").id();
    let compared = |sha: char| super::record::ComparedText {
        by: "3:fingerprint".to_owned(),
        sha256: sha.to_string().repeat(64),
    };
    let remember = |version: u32, sha: char| {
        let lock = store
            .lock(Duration::from_secs(1), &mut |_| {})
            .expect("lock");
        let mut tx = store.transaction(&lock).expect("transaction");
        tx.remember_compared(&a, compared(sha), version);
        tx.commit("test").expect("commit");
        let snap = store.snapshot().expect("snapshot");
        let index = snap.index().expect("index");
        index
            .into_iter()
            .find(|e| e.source == a)
            .and_then(|e| e.compared)
    };
    assert_eq!(remember(1, 'a'), None);
    assert_eq!(remember(2, 'b'), Some(compared('b')));
    // A new version drops it.
    write(&store, &[capture("/a.txt", b"three")]);
    let snap = store.snapshot().expect("snapshot");
    let entry = snap
        .index()
        .expect("index")
        .into_iter()
        .find(|e| e.source == a)
        .expect("a");
    assert_eq!(entry.compared, None);
}
