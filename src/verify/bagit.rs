//! Validating any BagIt bag (RFC 8493), not only verbatim's: the declaration, every payload and
//! tag manifest of every algorithm it declares (MD5, SHA-1, SHA-256, SHA-512), `Payload-Oxum`,
//! and completeness — every failing file listed, not only the first.
//!
//! A bag is untrusted input: manifest paths that climb out of the bag (`..`), absolute paths, and
//! symbolic links that lead outside it are reported and never followed, so validation reads
//! nothing outside the bag's directory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::hash::to_hex;

/// What is wrong with a bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BagProblemKind {
    /// `bagit.txt` is missing or malformed.
    Declaration,
    /// A manifest or tag file is missing, or a line does not parse.
    Manifest,
    /// A file's digest is not the one its manifest records.
    Changed,
    /// A file a manifest lists is not in the bag.
    Missing,
    /// A payload file no payload manifest lists.
    Extra,
    /// `Payload-Oxum` does not match the payload.
    Oxum,
    /// A path that leads out of the bag (`..`, absolute, or a link outside): not read.
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
    let mut report = BagReport::default();
    declaration(root, &mut report);
    // Payload manifests: every algorithm the bag has one for, gathered by file so that each file
    // is read once for all its digests.
    let mut wanted: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
    for alg in ALGORITHMS {
        let name = format!("manifest-{alg}.txt");
        if !root.join(&name).is_file() {
            continue;
        }
        report.algorithms.push(alg.to_owned());
        for (path, expected) in manifest(root, &name, &mut report) {
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
    let listed = check_files(root, &wanted, &mut report);
    if report.algorithms.is_empty() {
        report.problem(
            BagProblemKind::Manifest,
            None,
            "the bag has no payload manifest (manifest-<algorithm>.txt)",
        );
    }
    // Completeness: every payload file listed.
    let mut payload = Vec::new();
    walk(root, "data", &mut payload, &mut report);
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
    oxum(root, &payload, &mut report);
    // Tag manifests cover the tag files.
    let mut tags: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
    for alg in ALGORITHMS {
        let name = format!("tagmanifest-{alg}.txt");
        if !root.join(&name).is_file() {
            continue;
        }
        for (path, expected) in manifest(root, &name, &mut report) {
            tags.entry(path).or_default().push((alg, expected));
        }
    }
    check_files(root, &tags, &mut report);
    let fetch = root.join("fetch.txt");
    if fetch.is_file() {
        let lines = std::fs::read_to_string(&fetch).unwrap_or_default();
        let count = lines.lines().filter(|l| !l.trim().is_empty()).count();
        if count > 0 {
            report.problem(
                BagProblemKind::Fetch,
                Some("fetch.txt"),
                format!("the bag lists {count} files to fetch; it is complete only once they are fetched"),
            );
        }
    }
    Ok(report)
}

fn declaration(root: &Path, report: &mut BagReport) {
    let Ok(text) = std::fs::read_to_string(root.join("bagit.txt")) else {
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
fn manifest(root: &Path, name: &str, report: &mut BagReport) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(root.join(name)) else {
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

/// Whether a manifest path stays inside the bag: relative, no `..`, and no symbolic link on the
/// way (a link could lead anywhere).
fn inside(root: &Path, path: &str) -> Result<PathBuf, &'static str> {
    let rel = Path::new(path);
    if rel.is_absolute() || path.starts_with('/') || path.starts_with('\\') {
        return Err("an absolute path");
    }
    let mut at = root.to_path_buf();
    for part in rel.components() {
        match part {
            Component::Normal(name) => {
                at.push(name);
                if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err("a symbolic link");
                }
            }
            Component::CurDir => {}
            _ => return Err("a path that climbs out of the bag"),
        }
    }
    Ok(at)
}

/// Checks every listed payload file against all its digests, on two threads, each file read
/// once. Returns the files that exist (inside the bag). Problems are reported in path order.
fn check_files(
    root: &Path,
    wanted: &BTreeMap<String, Vec<(&'static str, String)>>,
    report: &mut BagReport,
) -> BTreeSet<String> {
    let files: Vec<(&String, &Vec<(&'static str, String)>)> = wanted.iter().collect();
    let results = super::on_two_threads(
        &files,
        || Some(()),
        |(), (path, digests)| check_one(root, path, digests),
    );
    let mut listed = BTreeSet::new();
    for ((path, digests), check) in files.iter().zip(results) {
        match check {
            // A worker that died (a bug) leaves its files unchecked: say so rather than pass them.
            None => report.problem(BagProblemKind::Changed, Some(path), "could not be checked"),
            Some(FileCheck::Hostile(why)) => report.problem(
                BagProblemKind::Hostile,
                Some(path),
                format!("{why}: not read"),
            ),
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
    /// The path leads out of the bag.
    Hostile(&'static str),
    /// The file is not there.
    Missing,
    /// The file was read; each digest that differs, in words.
    Read(Vec<String>),
}

fn check_one(root: &Path, path: &str, digests: &[(&'static str, String)]) -> FileCheck {
    let full = match inside(root, path) {
        Ok(full) => full,
        Err(why) => return FileCheck::Hostile(why),
    };
    let Ok(file) = std::fs::File::open(&full) else {
        return FileCheck::Missing;
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

/// Every regular file below `dir` (relative path, size); links are reported, never followed.
fn walk(root: &Path, dir: &str, out: &mut Vec<(String, u64)>, report: &mut BagReport) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        if dir == "data" {
            report.problem(
                BagProblemKind::Missing,
                Some("data"),
                "the bag has no data/ directory",
            );
        }
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{dir}/{name}");
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            let known = report
                .problems
                .iter()
                .any(|p| p.kind == BagProblemKind::Hostile && p.path.as_deref() == Some(&rel));
            if !known {
                report.problem(
                    BagProblemKind::Hostile,
                    Some(&rel),
                    "a symbolic link in the payload: not followed",
                );
            }
        } else if kind.is_dir() {
            walk(root, &rel, out, report);
        } else if kind.is_file() {
            let size = entry.metadata().map_or(0, |m| m.len());
            out.push((rel, size));
        }
    }
}

fn oxum(root: &Path, payload: &[(String, u64)], report: &mut BagReport) {
    let Ok(text) = std::fs::read_to_string(root.join("bag-info.txt")) else {
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
    fn paths_are_kept_inside() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(inside(dir.path(), "data/a b.txt").is_ok());
        assert!(inside(dir.path(), "data/../../etc/passwd").is_err());
        assert!(inside(dir.path(), "/etc/passwd").is_err());
        std::fs::create_dir(dir.path().join("data")).expect("mkdir");
        std::os::unix::fs::symlink("/etc", dir.path().join("data/out")).expect("symlink");
        assert_eq!(
            inside(dir.path(), "data/out/passwd"),
            Err("a symbolic link")
        );
    }

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
