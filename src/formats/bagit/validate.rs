//! Validating any BagIt bag (RFC 8493), not only verbatim's: the declaration, every payload and
//! tag manifest of every algorithm it declares (MD5, SHA-1, SHA-256, SHA-512), `Payload-Oxum`,
//! and completeness — every failing file listed, not only the first.
//!
//! A bag is untrusted input: manifest paths that climb out of the bag (`..`), absolute paths,
//! symbolic links (anywhere in the bag, `data/` itself included) and anything that is not a
//! regular file (a named pipe, a device) are reported and never opened, so validation reads
//! nothing outside the bag's directory and cannot be made to wait; every file is opened through
//! `formats::confined`, and tag files read whole are refused unread past a size limit.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::formats::confined::{Dir, Kind, Refusal};
use crate::hash::to_hex;

/// The most `bagit.txt` and `bag-info.txt` may hold, as they are read whole into memory.
/// `bagit.txt` is two short lines, and `bag-info.txt` a few dozen `Label: value` lines (a few
/// KB in real bags); 1 MiB leaves room for long descriptions while a bag cannot make `verify`
/// hold gigabytes (a sparse `bag-info.txt` of 3 GB costs nothing to make).
const TAG_LIMIT: u64 = 1 << 20;

/// The most a manifest, a tag manifest or `fetch.txt` may hold, as each is read whole into
/// memory. A manifest has a line per file: a digest (64 hex digits for SHA-256, 128 for SHA-512)
/// and a path, so 128 MiB is a million files with SHA-256 and 60-byte paths, or half a million
/// with SHA-512 and 120-byte paths: beyond most bags, yet a bound on what one can make `verify`
/// hold. A larger one is reported, not read.
const MANIFEST_LIMIT: u64 = 128 << 20;

/// What is wrong with a bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BagProblemKind {
    /// `bagit.txt` is missing or malformed.
    Declaration,
    /// A manifest or tag file is missing, too large to read, or a line does not parse.
    Manifest,
    /// A file's digest is not the one its manifest records.
    Changed,
    /// A file a manifest lists is not in the bag.
    Missing,
    /// A payload file no payload manifest lists.
    Extra,
    /// `Payload-Oxum` does not match the payload.
    Oxum,
    /// A path that leads out of the bag (`..`, absolute, a symbolic link), or a file that is not a
    /// regular file (a named pipe, a device): not read.
    Hostile,
    /// The bag lists files to fetch (`fetch.txt`): it is not complete until they are fetched.
    Fetch,
}

/// One problem, with the file it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BagProblem {
    /// What is wrong.
    pub kind: BagProblemKind,
    /// The file concerned, as the bag names it (relative to the bag), if one is.
    pub path: Option<String>,
    /// What is wrong, in words.
    pub detail: String,
}

/// The result of validating a bag.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BagReport {
    /// The BagIt version the bag declares.
    pub version: Option<String>,
    /// The algorithms of its payload manifests.
    pub algorithms: Vec<String>,
    /// Payload files checked.
    pub payload_files: usize,
    /// Payload bytes read.
    pub payload_bytes: u64,
    /// Every problem found.
    pub problems: Vec<BagProblem>,
}

impl BagReport {
    /// Whether the bag is valid: complete, every digest right.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, kind: BagProblemKind, path: Option<&str>, detail: impl Into<String>) {
        self.problems.push(BagProblem {
            kind,
            path: path.map(str::to_owned),
            detail: detail.into(),
        });
    }
}

/// Why a bag could not be validated at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory cannot be read.
    #[error("cannot read the bag at {path}: {source}")]
    Unreadable {
        /// The bag's directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

const ALGORITHMS: [&str; 4] = ["md5", "sha1", "sha256", "sha512"];

/// Validates the bag at `root`.
pub fn validate(root: &Path) -> Result<BagReport, Error> {
    let meta = std::fs::symlink_metadata(root).map_err(|source| Error::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(Error::Unreadable {
            path: root.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let mut bag = Bag {
        dir: Dir::open(root).map_err(|source| Error::Unreadable {
            path: root.to_path_buf(),
            source,
        })?,
        refused: Default::default(),
    };
    let mut report = BagReport::default();
    declaration(&mut bag, &mut report);
    // Payload manifests: every algorithm the bag has one for, gathered by file so that each file
    // is read once for all its digests.
    let mut wanted: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
    for alg in ALGORITHMS {
        let name = format!("manifest-{alg}.txt");
        let Tag::Read(bytes) = tag_file(&mut bag, &name, MANIFEST_LIMIT, &mut report) else {
            continue;
        };
        report.algorithms.push(alg.to_owned());
        for (path, expected) in manifest(&bytes, &name, &mut report) {
            let escapes = Path::new(&path).is_absolute()
                || Path::new(&path)
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
            if escapes {
                report.problem(
                    BagProblemKind::Hostile,
                    Some(&path),
                    "a path that leads out of the bag: not read",
                );
                continue;
            }
            if !path.starts_with("data/") {
                report.problem(
                    BagProblemKind::Manifest,
                    Some(&path),
                    format!("{name} lists a file outside data/"),
                );
                continue;
            }
            wanted.entry(path).or_default().push((alg, expected));
        }
    }
    let listed = check_files(&bag.dir, &wanted, &mut report);
    if report.algorithms.is_empty() {
        report.problem(
            BagProblemKind::Manifest,
            None,
            "the bag has no payload manifest (manifest-<algorithm>.txt)",
        );
    }
    // Completeness: every payload file listed.
    let mut payload = Vec::new();
    match bag.dir.open_dir("data") {
        Ok(data) => walk(&data, "data", &mut payload, &mut report),
        Err(Refusal::Missing) => report.problem(
            BagProblemKind::Missing,
            Some("data"),
            "the bag has no data/ directory",
        ),
        Err(refused) => refuse(&mut report, "data", &refused, BagProblemKind::Missing),
    }
    let mut bytes = 0;
    for (path, size) in &payload {
        bytes += size;
        if !listed.contains(path)
            && !report
                .problems
                .iter()
                .any(|p| p.path.as_deref() == Some(path))
        {
            report.problem(
                BagProblemKind::Extra,
                Some(path),
                "a payload file that no manifest lists",
            );
        }
    }
    report.payload_files = payload.len();
    report.payload_bytes = bytes;
    oxum(&mut bag, &payload, &mut report);
    if let Tag::Read(bytes) = tag_file(&mut bag, "fetch.txt", MANIFEST_LIMIT, &mut report) {
        let count = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.trim_ascii().is_empty())
            .count();
        if count > 0 {
            report.problem(
                BagProblemKind::Fetch,
                Some("fetch.txt"),
                format!("the bag lists {count} files to fetch; it is complete only once they are fetched"),
            );
        }
    }
    // Tag manifests cover the tag files.
    let mut tags: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
    for alg in ALGORITHMS {
        let name = format!("tagmanifest-{alg}.txt");
        let Tag::Read(bytes) = tag_file(&mut bag, &name, MANIFEST_LIMIT, &mut report) else {
            continue;
        };
        for (path, expected) in manifest(&bytes, &name, &mut report) {
            tags.entry(path).or_default().push((alg, expected));
        }
    }
    // A tag file refused above is reported once, and not read here either.
    tags.retain(|path, _| !bag.refused.contains(path));
    check_files(&bag.dir, &tags, &mut report);
    Ok(report)
}

/// What reading a tag file found.
enum Tag {
    /// The bag has no such file.
    Absent,
    /// It is there but was not read: the problem is recorded.
    Refused,
    /// Its bytes.
    Read(Vec<u8>),
}

/// Reads the tag file `name` whole, if it is a regular file of the bag no larger than `limit`;
/// anything else is recorded as a problem and not read.
fn tag_file(bag: &mut Bag, name: &str, limit: u64, report: &mut BagReport) -> Tag {
    let kind = if name == "bagit.txt" {
        BagProblemKind::Declaration
    } else {
        BagProblemKind::Manifest
    };
    match bag.dir.read_file(name, limit) {
        Ok(bytes) => Tag::Read(bytes),
        Err(Refusal::Missing) => Tag::Absent,
        Err(Refusal::TooLarge(size)) => {
            report.problem(
                kind,
                Some(name),
                format!(
                    "{size} bytes, more than the {} MiB a tag file may hold here: not read",
                    limit >> 20
                ),
            );
            bag.refused.insert(name.to_owned());
            Tag::Refused
        }
        Err(refused) => {
            refuse(report, name, &refused, kind);
            bag.refused.insert(name.to_owned());
            Tag::Refused
        }
    }
}

/// A bag being validated.
struct Bag {
    /// Its directory, every file opened from it.
    dir: Dir,
    /// The tag files refused unread (reported once): a tag manifest that lists them does not
    /// get them read either.
    refused: BTreeSet<String>,
}

/// Records why a file of the bag was not opened: a path out of the bag or something that is
/// not a regular file is hostile; a file that cannot be read is a problem of `kind`.
fn refuse(report: &mut BagReport, path: &str, refused: &Refusal, kind: BagProblemKind) {
    let (kind, detail) = match refused {
        Refusal::Outside(why) => (BagProblemKind::Hostile, format!("{why}: not read")),
        Refusal::NotFile(what) => (
            BagProblemKind::Hostile,
            format!("{what}, not a regular file: not read"),
        ),
        Refusal::Missing => (kind, "missing".to_owned()),
        Refusal::TooLarge(size) => (kind, format!("{size} bytes: too large to read")),
        Refusal::Io(e) => (kind, format!("cannot be read: {e}")),
    };
    report.problem(kind, Some(path), detail);
}

fn declaration(bag: &mut Bag, report: &mut BagReport) {
    let text = match tag_file(bag, "bagit.txt", TAG_LIMIT, report) {
        Tag::Read(bytes) => String::from_utf8(bytes).ok(),
        Tag::Absent => None,
        Tag::Refused => return,
    };
    let Some(text) = text else {
        report.problem(
            BagProblemKind::Declaration,
            Some("bagit.txt"),
            "bagit.txt is missing or not UTF-8",
        );
        return;
    };
    let fields = tag_fields(&text);
    match fields.get("BagIt-Version") {
        Some(v) => report.version = Some(v.clone()),
        None => report.problem(
            BagProblemKind::Declaration,
            Some("bagit.txt"),
            "bagit.txt has no BagIt-Version",
        ),
    }
    if !fields.contains_key("Tag-File-Character-Encoding") {
        report.problem(
            BagProblemKind::Declaration,
            Some("bagit.txt"),
            "bagit.txt has no Tag-File-Character-Encoding",
        );
    }
}

/// The `Label: value` fields of a tag file (continuation lines folded, CRLF allowed).
fn tag_fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some(label) = &last
                && let Some(value) = out.get_mut(label)
            {
                let value: &mut String = value;
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((label, value)) = line.split_once(':') {
            out.insert(label.trim().to_owned(), value.trim().to_owned());
            last = Some(label.trim().to_owned());
        }
    }
    out
}

/// The entries of a manifest file: (path, digest), paths percent-decoded.
fn manifest(bytes: &[u8], name: &str, report: &mut BagReport) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        report.problem(
            BagProblemKind::Manifest,
            Some(name),
            "the manifest cannot be read as UTF-8",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once([' ', '\t']) {
            Some((digest, path)) if !path.trim().is_empty() => {
                out.push((decode_path(path.trim_start()), digest.to_ascii_lowercase()));
            }
            _ => report.problem(
                BagProblemKind::Manifest,
                Some(name),
                format!("line {} is not \"<digest> <path>\"", n + 1),
            ),
        }
    }
    out
}

/// Undoes the percent-encoding of CR, LF and `%` in manifest paths.
fn decode_path(path: &str) -> String {
    path.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
}

/// Checks every listed payload file against all its digests, on two threads, each file read
/// once. Returns the files that exist (inside the bag). Problems are reported in path order.
fn check_files(
    bag: &Dir,
    wanted: &BTreeMap<String, Vec<(&'static str, String)>>,
    report: &mut BagReport,
) -> BTreeSet<String> {
    let files: Vec<(&String, &Vec<(&'static str, String)>)> = wanted.iter().collect();
    let results = crate::pool::on_two_threads(
        &files,
        || Some(()),
        |(), (path, digests)| check_one(bag, path, digests),
    );
    let mut listed = BTreeSet::new();
    for ((path, digests), check) in files.iter().zip(results) {
        match check {
            // A worker that died (a bug) leaves its files unchecked: say so rather than pass them.
            None => report.problem(BagProblemKind::Changed, Some(path), "could not be checked"),
            Some(FileCheck::Refused(refused)) => {
                refuse(report, path, &refused, BagProblemKind::Changed);
            }
            Some(FileCheck::Missing) => {
                for (alg, _) in digests.iter() {
                    report.problem(
                        BagProblemKind::Missing,
                        Some(path),
                        format!("listed in the {alg} manifest, not in the bag"),
                    );
                }
            }
            Some(FileCheck::Read(problems)) => {
                listed.insert((*path).clone());
                for detail in problems {
                    report.problem(BagProblemKind::Changed, Some(path), detail);
                }
            }
        }
    }
    listed
}

/// What checking one payload file found.
enum FileCheck {
    /// The path leads out of the bag, or to something that is not a regular file, or the file
    /// cannot be opened.
    Refused(Refusal),
    /// The file is not there.
    Missing,
    /// The file was read; each digest that differs, in words.
    Read(Vec<String>),
}

fn check_one(bag: &Dir, path: &str, digests: &[(&'static str, String)]) -> FileCheck {
    let file = match bag.open_file(path) {
        Ok((file, _)) => file,
        Err(Refusal::Missing) => return FileCheck::Missing,
        Err(refused) => return FileCheck::Refused(refused),
    };
    let algorithms: Vec<&str> = digests.iter().map(|(a, _)| *a).collect();
    match digest_all(file, &algorithms) {
        Ok(actual) => FileCheck::Read(
            digests
                .iter()
                .zip(actual)
                .filter(|((_, expected), actual)| expected != actual)
                .map(|((alg, expected), actual)| {
                    format!("its {alg} is {actual}, the manifest says {expected}")
                })
                .collect(),
        ),
        Err(e) => FileCheck::Read(vec![format!("cannot be read: {e}")]),
    }
}

/// A file's digests in the algorithms asked, in one read, in blocks so memory stays flat.
fn digest_all(mut file: std::fs::File, algorithms: &[&str]) -> std::io::Result<Vec<String>> {
    enum Hasher {
        Md5(md5::Md5),
        Sha1(sha1::Sha1),
        Sha256(sha2::Sha256),
        Sha512(sha2::Sha512),
    }
    use sha2::Digest as _;
    let mut hashers: Vec<Hasher> = algorithms
        .iter()
        .map(|alg| match *alg {
            "md5" => Hasher::Md5(md5::Md5::new()),
            "sha1" => Hasher::Sha1(sha1::Sha1::new()),
            "sha256" => Hasher::Sha256(sha2::Sha256::new()),
            _ => Hasher::Sha512(sha2::Sha512::new()),
        })
        .collect();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for h in &mut hashers {
            match h {
                Hasher::Md5(d) => d.update(&buf[..n]),
                Hasher::Sha1(d) => d.update(&buf[..n]),
                Hasher::Sha256(d) => d.update(&buf[..n]),
                Hasher::Sha512(d) => d.update(&buf[..n]),
            }
        }
    }
    Ok(hashers
        .into_iter()
        .map(|h| match h {
            Hasher::Md5(d) => to_hex(&d.finalize()),
            Hasher::Sha1(d) => to_hex(&d.finalize()),
            Hasher::Sha256(d) => to_hex(&d.finalize()),
            Hasher::Sha512(d) => to_hex(&d.finalize()),
        })
        .collect())
}

/// Every regular file below `dir` (relative path, size); links and anything else that is not a
/// regular file or a directory are reported, never followed or opened.
fn walk(dir: &Dir, rel: &str, out: &mut Vec<(String, u64)>, report: &mut BagReport) {
    let entries = match dir.entries() {
        Ok(entries) => entries,
        Err(e) => {
            report.problem(
                BagProblemKind::Missing,
                Some(rel),
                format!("the directory cannot be read: {e}"),
            );
            return;
        }
    };
    for (name, kind) in entries {
        let path = format!("{rel}/{name}");
        let what = match kind {
            Kind::File(size) => {
                out.push((path, size));
                continue;
            }
            Kind::Dir => {
                match dir.open_dir(&name) {
                    Ok(sub) => walk(&sub, &path, out, report),
                    Err(refused) => refuse(report, &path, &refused, BagProblemKind::Missing),
                }
                continue;
            }
            Kind::Link => "a symbolic link in the payload: not followed".to_owned(),
            Kind::Other(what) => format!("{what} in the payload, not a regular file: not read"),
        };
        // A manifest that lists it has had it reported already.
        let known = report
            .problems
            .iter()
            .any(|p| p.kind == BagProblemKind::Hostile && p.path.as_deref() == Some(&path));
        if !known {
            report.problem(BagProblemKind::Hostile, Some(&path), what);
        }
    }
}

fn oxum(bag: &mut Bag, payload: &[(String, u64)], report: &mut BagReport) {
    let Tag::Read(bytes) = tag_file(bag, "bag-info.txt", TAG_LIMIT, report) else {
        return;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return;
    };
    let Some(oxum) = tag_fields(&text).get("Payload-Oxum").cloned() else {
        return;
    };
    let bytes: u64 = payload.iter().map(|(_, s)| s).sum();
    let actual = format!("{bytes}.{}", payload.len());
    if oxum != actual {
        report.problem(
            BagProblemKind::Oxum,
            Some("bag-info.txt"),
            format!("Payload-Oxum says {oxum}, the payload is {actual} (octets.files)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_paths() {
        let f = tag_fields(
            "BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\nLong: a\r\n  b\r\n",
        );
        assert_eq!(f["BagIt-Version"], "1.0");
        assert_eq!(f["Long"], "a b");
        assert_eq!(decode_path("data/100%25%0Afile"), "data/100%\nfile");
    }
}
