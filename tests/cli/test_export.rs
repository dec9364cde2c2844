//! `verbatim export --bagit`: bags that the Library of Congress's `bagit.py` validates, holding
//! the stored bytes exactly.

use std::path::Path;

use crate::common::{TestEnv, peer_python, seed_files, warc_record};

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

/// Runs `bagit.py --validate` (the pinned peer) as `python -m bagit`.
fn bagit_validate(bag: &Path) -> (bool, String) {
    let out = peer_python()
        .args(["-m", "bagit", "--validate"])
        .arg(bag)
        .output()
        .expect("run bagit.py");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
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
    // A destination that cannot be written is the user's to fix (2), not an internal error,
    // for a bag and for a WARC file alike, and the message names it.
    for flag in ["--bagit", "--warc"] {
        let run = env.run(&["export", flag, "a2.txt/inside"]).fails_with(2);
        assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
        assert!(run.stderr.contains("a2.txt"), "{}", run.stderr);
    }
    // An empty directory is fine.
    std::fs::create_dir(env.path().join("empty")).expect("mkdir");
    env.run(&["export", "--bagit", "empty"]).ok();
    assert!(bagit_validate(&env.path().join("empty")).0);
}

/// A bag made by bagit.py itself, with all four algorithms, of files with spaces and a percent
/// sign in their names.
fn bag_made_by_bagit_py(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.path().join("theirs");
    std::fs::create_dir_all(dir.join("sub dir")).expect("mkdir");
    std::fs::write(dir.join("a file.txt"), "first\n").expect("write");
    std::fs::write(dir.join("sub dir/100% sure.txt"), "second\n").expect("write");
    std::fs::write(dir.join("plain"), vec![0u8, 1, 2, 3]).expect("write");
    let out = peer_python()
        .args(["-m", "bagit", "--md5", "--sha1", "--sha256", "--sha512"])
        .arg(&dir)
        .output()
        .expect("python3 -m bagit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn verify_bag(env: &TestEnv, bag: &Path) -> (i32, serde_json::Value) {
    let run = env.run(&[
        "verify",
        "--bagit",
        &bag.display().to_string(),
        "--format",
        "json",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    (run.code, serde_json::from_str(&run.stdout).expect("json"))
}

fn kinds(report: &serde_json::Value) -> Vec<(String, String)> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default().to_owned(),
                p["path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn any_bag_is_validated_and_every_failing_file_listed() {
    let env = TestEnv::new();
    let bag = bag_made_by_bagit_py(&env);
    let (code, report) = verify_bag(&env, &bag);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["algorithms"],
        serde_json::json!(["md5", "sha1", "sha256", "sha512"])
    );
    assert_eq!(report["payload_files"], 3);
    // verbatim's own bags too, and both tools agree on them.
    let store = TestEnv::with_store();
    store.write("x.txt", b"x\n");
    store.run(&["add", "x.txt"]).ok();
    store.run(&["export", "--bagit", "ours"]).ok();
    assert_eq!(verify_bag(&store, &store.path().join("ours")).0, 0);

    // CRLF line endings in the tag files are allowed.
    for name in ["manifest-sha256.txt", "bagit.txt", "bag-info.txt"] {
        let text = std::fs::read_to_string(bag.join(name)).expect("read");
        std::fs::write(bag.join(name), text.replace('\n', "\r\n")).expect("write");
    }
    // The tag manifests now disagree with the files rewritten: those are listed, nothing else.
    let (code, report) = verify_bag(&env, &bag);
    assert_eq!(code, 1);
    assert!(
        kinds(&report).iter().all(|(k, p)| k == "changed"
            && ["manifest-sha256.txt", "bagit.txt", "bag-info.txt"].contains(&p.as_str())),
        "{report}"
    );

    // Several failures at once: a changed file, a missing one, an extra one, a wrong Oxum.
    let bag = {
        let env2 = env.path().join("second");
        std::fs::create_dir(&env2).expect("mkdir");
        let dir = env2.join("b");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("one.txt"), "one\n").expect("write");
        std::fs::write(dir.join("two.txt"), "two\n").expect("write");
        let out = peer_python()
            .args(["-m", "bagit"])
            .arg(&dir)
            .output()
            .expect("bagit");
        assert!(out.status.success());
        dir
    };
    std::fs::write(bag.join("data/one.txt"), "ONE\n").expect("write");
    std::fs::remove_file(bag.join("data/two.txt")).expect("rm");
    std::fs::write(bag.join("data/three.txt"), "three\n").expect("write");
    let (code, report) = verify_bag(&env, &bag);
    assert_eq!(code, 1);
    let found = kinds(&report);
    for want in [
        ("changed", "data/one.txt"),
        ("missing", "data/two.txt"),
        ("extra", "data/three.txt"),
        ("oxum", "bag-info.txt"),
    ] {
        assert!(
            found.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} in {found:?}"
        );
    }
    // bagit.py agrees that it is invalid.
    assert!(!bagit_validate(&bag).0);
}

#[test]
fn a_hostile_bag_is_rejected_without_reading_outside_it() {
    let env = TestEnv::new();
    let bag = bag_made_by_bagit_py(&env);
    // A secret outside the bag, and a manifest that names it three ways.
    let secret = env.path().join("secret.txt");
    std::fs::write(&secret, "secret\n").expect("write");
    let digest = {
        use sha2::Digest as _;
        verbatim::hash::to_hex(&sha2::Sha256::digest(b"secret\n"))
    };
    std::os::unix::fs::symlink(&secret, bag.join("data/link.txt")).expect("symlink");
    let mut manifest = std::fs::read_to_string(bag.join("manifest-sha256.txt")).expect("read");
    manifest.push_str(&format!("{digest}  data/../../secret.txt\n"));
    manifest.push_str(&format!("{digest}  {}\n", secret.display()));
    manifest.push_str(&format!("{digest}  data/link.txt\n"));
    std::fs::write(bag.join("manifest-sha256.txt"), manifest).expect("write");
    std::fs::write(
        bag.join("fetch.txt"),
        "http://example.org/x 12 data/x.txt\n",
    )
    .expect("write");
    let (code, report) = verify_bag(&env, &bag);
    assert_eq!(code, 1, "{report}");
    let found = kinds(&report);
    let hostile: Vec<&String> = found
        .iter()
        .filter(|(k, _)| k == "hostile")
        .map(|(_, p)| p)
        .collect();
    assert!(hostile.iter().any(|p| p.contains("..")), "{found:?}");
    assert!(hostile.iter().any(|p| p.starts_with('/')), "{found:?}");
    assert!(
        hostile.iter().any(|p| p.as_str() == "data/link.txt"),
        "{found:?}"
    );
    // Nothing outside was read: no digest of the secret was reported as matching or not.
    assert!(
        !found
            .iter()
            .any(|(k, p)| k == "changed" && p.contains("secret")),
        "{found:?}"
    );
    assert!(
        found.contains(&("fetch".to_owned(), "fetch.txt".to_owned())),
        "{found:?}"
    );
}

/// Runs a Python snippet with `warcio` (the pinned peer).
fn python(script: &str, args: &[&str]) -> (bool, String, String) {
    let out = peer_python()
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn an_exported_warc_passes_warcio_check_and_holds_the_exact_bytes() {
    let env = seeded();
    let page = b"<html><head><title>Hello</title></head><body><article><p>An article paragraph long enough to be read as the article itself, with words.</p></article></body></html>".to_vec();
    let server = crate::common::Server::with(&[(
        "/news/1",
        crate::common::Reply::ok("text/html; charset=utf-8", page.clone()).header("ETag", "\"v1\""),
    )]);
    let url = server.url("/news/1");
    env.run(&["add", "--no-learn", &url]).ok();
    let run = env.run(&["export", "--warc", "out.warc.gz"]).ok();
    assert!(
        run.stderr.contains("7 versions of 6 sources"),
        "{}",
        run.stderr
    );
    let warc = env.path().join("out.warc.gz");
    let path = warc.display().to_string();

    let (ok, out, err) = python(
        "import sys; from warcio.cli import main; main(['check', '-v', sys.argv[1]])",
        &[&path],
    );
    assert!(ok, "warcio check: {out}{err}");
    assert!(out.contains("digest pass"), "{out}");
    assert!(!out.contains("fail"), "{out}");

    // Every record, as warcio reads it: type, target, payload SHA-256.
    let (ok, out, err) = python(
        "import sys, hashlib\n\
         from warcio.archiveiterator import ArchiveIterator\n\
         with open(sys.argv[1], 'rb') as f:\n\
         \x20   for r in ArchiveIterator(f):\n\
         \x20       body = r.content_stream().read()\n\
         \x20       print(r.rec_type, r.rec_headers.get_header('WARC-Target-URI'), hashlib.sha256(body).hexdigest(), r.http_headers.get_statuscode() if r.http_headers else '-')\n",
        &[&path],
    );
    assert!(ok, "{err}");
    let records: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(records[0][0], "warcinfo");
    assert_eq!(
        records.iter().filter(|r| r[0] == "resource").count(),
        6,
        "{out}"
    );
    assert_eq!(
        records.iter().filter(|r| r[0] == "metadata").count(),
        7,
        "{out}"
    );
    let response: Vec<&Vec<&str>> = records.iter().filter(|r| r[0] == "response").collect();
    assert_eq!(response.len(), 1, "{out}");
    assert_eq!(response[0][1], url);
    assert_eq!(response[0][3], "200");
    let page_sha = {
        use sha2::Digest as _;
        verbatim::hash::to_hex(&sha2::Sha256::digest(&page))
    };
    assert_eq!(
        response[0][2], page_sha,
        "the payload is the exact bytes served"
    );
    // Every stored version's bytes are in the WARC.
    let list = env.run(&["list", "--format", "json"]).ok();
    let list: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    for source in list.as_array().expect("sources") {
        let sha = source["sha256"].as_str().expect("sha");
        assert!(records.iter().any(|r| r[2] == sha), "{sha} in {out}");
    }
    // Never written over.
    env.run(&["export", "--warc", "out.warc.gz"]).fails_with(2);
}

/// `list --format json` as (locator, versions, sha256), sorted.
fn listing(env: &TestEnv, store: &Path) -> Vec<(String, u64, String)> {
    let run = env.run_on(store, &["list", "--format", "json"]).ok();
    let list: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let mut out: Vec<(String, u64, String)> = list
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            (
                s["locator"].as_str().unwrap_or_default().to_owned(),
                s["versions"].as_u64().unwrap_or_default(),
                s["sha256"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_warc_imports_back_losslessly_and_check_reports_drift_since_the_archive() {
    let env = seeded();
    let served = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let article = "<html><head><title>Report</title></head><body><article><p>The agency spent 12 million dollars on the contract, according to the documents published on Monday.</p></article></body></html>";
    served.lock().expect("routes").insert(
        "/news/1".to_owned(),
        crate::common::Reply::ok("text/html; charset=utf-8", article),
    );
    let server = crate::common::Server::start(served.clone());
    let url = server.url("/news/1");
    env.run(&["add", "--no-learn", &url]).ok();
    env.run(&["export", "--warc", "a.warc.gz"]).ok();

    // Into a new store: the same sources, versions and bytes.
    let other = env.path().join("other");
    env.run_on(&other, &["init"]).ok();
    let run = env
        .run_on(&other, &["import", "--trusted", "a.warc.gz"])
        .ok();
    assert!(run.stderr.contains("6 sources added"), "{}", run.stderr);
    assert_eq!(listing(&env, &other), listing(&env, &env.store()));
    env.run_on(&other, &["verify"]).ok();
    // Importing again adds nothing.
    let before = listing(&env, &other);
    let again = env
        .run_on(&other, &["import", "--trusted", "a.warc.gz"])
        .ok();
    assert!(
        again.stderr.contains("7 captures already in the store"),
        "{}",
        again.stderr
    );
    assert_eq!(listing(&env, &other), before);

    // A whole-file gzip of the same WARC, with a malformed record in the middle: reported with
    // its offset, the others imported.
    let plain = {
        let mut d = flate2::read::MultiGzDecoder::new(
            std::fs::File::open(env.path().join("a.warc.gz")).expect("open"),
        );
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut out).expect("gunzip");
        out
    };
    let cut = plain
        .windows(8)
        .enumerate()
        .skip(100)
        .find(|(_, w)| *w == b"WARC/1.1")
        .map(|(i, _)| i)
        .expect("a second record");
    let mut damaged = plain[..cut].to_vec();
    damaged.extend_from_slice(b"NOT A RECORD\r\n");
    damaged.extend_from_slice(&plain[cut..]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &damaged).expect("gzip");
    env.write("damaged.warc.gz", &gz.finish().expect("gzip"));
    let third = env.path().join("third");
    env.run_on(&third, &["init"]).ok();
    let run = env.run_on(&third, &["import", "--trusted", "damaged.warc.gz"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("offset {cut}")) && run.stderr.contains("NOT A RECORD"),
        "{}",
        run.stderr
    );
    assert_eq!(listing(&env, &third), listing(&env, &env.store()));

    // After an import, check re-fetches the archived URL and reports the drift since.
    served.lock().expect("routes").insert(
        "/news/1".to_owned(),
        crate::common::Reply::ok(
            "text/html; charset=utf-8",
            article.replace("12 million", "15 million"),
        ),
    );
    let run = env.run_on(&other, &["check", "--format", "json", &url]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["results"][0]["verdict"], "edited", "{json}");
    assert!(
        json["results"][0]["change_summary"]["figures"][0]["new"]
            .as_str()
            .is_some_and(|f| f.contains("15")),
        "{json}"
    );
}

#[test]
fn another_tool_s_warc_with_chunked_gzip_bodies_revisits_and_requests() {
    let env = TestEnv::with_store();
    let uri = "https://example.org/story";
    let body = b"<html><head><title>Story</title></head><body><p>A story of some length to be read as an article by the extractor here.</p></body></html>";
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut e, body).expect("gzip");
        e.finish().expect("gzip")
    };
    let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
    chunked.extend_from_slice(&gz);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nSet-Cookie: session=secret\r\n\r\n".to_vec();
    http.extend_from_slice(&chunked);
    let mut warc = Vec::new();
    warc.extend(warc_record(
        "request",
        uri,
        "2020-01-01T00:00:00Z",
        "application/http;msgtype=request",
        b"GET /story HTTP/1.1\r\n\r\n",
    ));
    warc.extend(warc_record(
        "response",
        uri,
        "2020-01-01T00:00:01Z",
        "application/http;msgtype=response",
        &http,
    ));
    warc.extend(warc_record(
        "revisit",
        uri,
        "2021-06-01T00:00:00Z",
        "application/http;msgtype=response",
        b"",
    ));
    env.write("theirs.warc", &warc);
    let run = env.run(&["import", "theirs.warc"]).ok();
    assert!(run.stderr.contains("1 source added"), "{}", run.stderr);
    assert!(run.stderr.contains("1 revisit recorded"), "{}", run.stderr);
    assert!(run.stderr.contains("1 request record"), "{}", run.stderr);
    // The body is stored decoded, with its capture date, and no cookie reaches the store.
    let raw = env.run(&["show", uri, "--raw"]).ok();
    assert_eq!(raw.stdout_bytes, body);
    let log = env.run(&["log", uri, "--format", "json"]).ok();
    let log: serde_json::Value = serde_json::from_str(&log.stdout).expect("json");
    assert_eq!(log[0]["captured_at"], "2020-01-01T00:00:01Z");
    assert_eq!(log[0]["origin"]["status"], 200);
    assert!(!log.to_string().contains("secret"), "{log}");
    let everything = env.git(&["log", "-p", "--all"]).ok().stdout;
    assert!(!everything.contains("session=secret"));
    env.run(&["verify"]).ok();
}
