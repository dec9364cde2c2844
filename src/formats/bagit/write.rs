//! Writing stored versions as a BagIt bag (RFC 8493, version 1.0): each version's exact bytes
//! and extracted text as payload (`data/<source id>/<version, 8 digits>/raw` and `…/text.txt`),
//! SHA-256 and SHA-512 manifests, `bag-info.txt` with the locators as `External-Identifier`,
//! and verbatim's records as a tag file, all covered by a SHA-256 tag manifest.
//!
//! Each payload file is read from the store once and hashed with SHA-256 and SHA-512 as it is
//! written, so memory stays flat whatever the store's size. A [`Bag`] writes into the directory
//! it is given; choosing the versions, and staging the bag beside its destination to rename it
//! into place only when complete, is the job's (`ops::export::bagit`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sha2::Digest as _;

use crate::hash::to_hex;
use crate::model::{SourceRecord, StoredBlob, VersionRecord};

/// Why a bag could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing a file of the bag failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record could not be serialised (a bug).
    #[error("cannot write a record: {0}")]
    Json(#[from] serde_json::Error),
}

/// The tag file holding verbatim's metadata for every exported version, one JSON object a line.
pub const METADATA_TAG_FILE: &str = "verbatim-metadata.jsonl";

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A tag file written as it goes, hashed (SHA-256, for the tag manifest) as it is written.
struct HashingFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    sha256: sha2::Sha256,
}

impl HashingFile {
    fn create(path: &Path) -> Result<HashingFile, Error> {
        let file = std::fs::File::create(path).map_err(io(path))?;
        Ok(HashingFile {
            path: path.to_path_buf(),
            out: std::io::BufWriter::with_capacity(64 * 1024, file),
            sha256: sha2::Sha256::new(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.sha256.update(bytes);
        self.out.write_all(bytes).map_err(io(&self.path))
    }

    fn line(&mut self, line: &str) -> Result<(), Error> {
        self.write(line.as_bytes())?;
        self.write(b"\n")
    }

    /// Appends everything `from` holds.
    fn copy_from(&mut self, from: &mut std::fs::File, from_path: &Path) -> Result<(), Error> {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = std::io::Read::read(from, &mut buf).map_err(io(from_path))?;
            if n == 0 {
                return Ok(());
            }
            self.write(&buf[..n])?;
        }
    }

    /// Flushes the file to disk; its digests (SHA-512 is not kept for tag files: the tag
    /// manifest is SHA-256).
    fn finish(self) -> Result<Digests, Error> {
        let file = self.out.into_inner().map_err(|e| Error::Io {
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io(&self.path))?;
        Ok(Digests {
            sha256: to_hex(&self.sha256.finalize()),
            sha512: String::new(),
        })
    }
}

/// One payload or tag file's digests.
struct Digests {
    sha256: String,
    sha512: String,
}

/// Writes `bytes` to `path`, returning its digests.
fn write_file(path: &Path, bytes: &[u8]) -> Result<Digests, Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut file = std::fs::File::create(path).map_err(io(path))?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(Digests {
        sha256: to_hex(&sha2::Sha256::digest(bytes)),
        sha512: to_hex(&sha2::Sha512::digest(bytes)),
    })
}

/// A manifest line's path: `/`-separated, with CR, LF and `%` percent-encoded (RFC 8493 §2.1.3).
fn manifest_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A bag being written: payload, manifests, records and locators reach the disk as versions are
/// added; [`Bag::finish`] writes the tag files that need them all.
pub struct Bag {
    root: PathBuf,
    manifest256: HashingFile,
    manifest512: HashingFile,
    metadata: HashingFile,
    identifiers_path: PathBuf,
    identifiers: HashingFile,
    files: usize,
    bytes: u64,
}

impl Bag {
    /// Begins a bag in `root`, an empty directory.
    pub fn create(root: &Path) -> Result<Bag, Error> {
        // Manifests, the records' tag file and the locators for bag-info are written as the
        // payload is, not gathered in memory: a bag of the whole store takes no more memory than
        // one of a single source. The locators wait in a scratch file until bag-info is written.
        let manifest256 = HashingFile::create(&root.join("manifest-sha256.txt"))?;
        let manifest512 = HashingFile::create(&root.join("manifest-sha512.txt"))?;
        let metadata = HashingFile::create(&root.join(METADATA_TAG_FILE))?;
        let identifiers_path = root.join(".external-identifiers");
        let identifiers = HashingFile::create(&identifiers_path)?;
        Ok(Bag {
            root: root.to_path_buf(),
            manifest256,
            manifest512,
            metadata,
            identifiers_path,
            identifiers,
            files: 0,
            bytes: 0,
        })
    }

    /// Adds a source: its locator, as an `External-Identifier` of `bag-info.txt`.
    pub fn source(&mut self, source: &SourceRecord) -> Result<(), Error> {
        self.identifiers.line(&format!(
            "External-Identifier: {}",
            one_line(&source.locator)
        ))
    }

    /// Adds one version of `source`: its exact bytes and text as payload, each read through
    /// `read` just before it is written (one file in memory at a time), and verbatim's records
    /// of it as a line of the metadata tag file.
    pub fn version<E: From<Error>>(
        &mut self,
        source: &SourceRecord,
        version: &VersionRecord,
        mut read: impl FnMut(&StoredBlob) -> Result<Vec<u8>, E>,
    ) -> Result<(), E> {
        let dir = format!("data/{}/{:08}", source.id, version.version);
        for (file, blob) in [("raw", &version.raw), ("text.txt", &version.text)] {
            let rel = format!("{dir}/{file}");
            let bytes = read(blob)?;
            let digests = write_file(&self.root.join(&rel), &bytes)?;
            self.manifest256
                .line(&format!("{}  {}", digests.sha256, manifest_path(&rel)))?;
            self.manifest512
                .line(&format!("{}  {}", digests.sha512, manifest_path(&rel)))?;
            self.files += 1;
            self.bytes += bytes.len() as u64;
        }
        let line = serde_json::to_vec(&serde_json::json!({
            "payload": dir,
            "source": source,
            "version": version,
        }))
        .map_err(Error::from)?;
        self.metadata.write(&line)?;
        self.metadata.write(b"\n")?;
        Ok(())
    }

    /// Payload files written so far.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Payload bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Completes the bag: `bagit.txt`, `bag-info.txt` (naming the store `commit` the versions
    /// were read at and, for the versions current at a time, `at`), the tag manifest, and the
    /// bag's directory entries flushed to disk.
    pub fn finish(self, commit: &str, at: Option<Timestamp>, now: Timestamp) -> Result<(), Error> {
        let Bag {
            root,
            manifest256,
            manifest512,
            metadata,
            identifiers_path,
            identifiers,
            files,
            bytes,
        } = self;
        let root = root.as_path();
        let manifest256 = manifest256.finish()?;
        let manifest512 = manifest512.finish()?;
        let metadata = metadata.finish()?;
        identifiers.finish()?;
        let mut tags = Vec::new();
        let bagit_txt = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
        tags.push((
            "bagit.txt",
            write_file(&root.join("bagit.txt"), bagit_txt.as_bytes())?,
        ));
        tags.push(("manifest-sha256.txt", manifest256));
        tags.push(("manifest-sha512.txt", manifest512));
        let mut info = HashingFile::create(&root.join("bag-info.txt"))?;
        info.write(
            format!(
                "Bag-Software-Agent: verbatim {}\n\
             Bagging-Date: {}\n\
             Payload-Oxum: {}.{}\n\
             Bag-Size: {}\n\
             Verbatim-Store-Commit: {}\n",
                env!("CARGO_PKG_VERSION"),
                now.strftime("%Y-%m-%d"),
                bytes,
                files,
                human_size(bytes),
                commit,
            )
            .as_bytes(),
        )?;
        if let Some(at) = at {
            info.line(&format!("Verbatim-Versions-Current-At: {at}"))?;
        }
        let mut scratch = std::fs::File::open(&identifiers_path).map_err(io(&identifiers_path))?;
        info.copy_from(&mut scratch, &identifiers_path)?;
        drop(scratch);
        std::fs::remove_file(&identifiers_path).map_err(io(&identifiers_path))?;
        tags.push(("bag-info.txt", info.finish()?));
        tags.push((METADATA_TAG_FILE, metadata));
        let mut tagmanifest = String::new();
        for (name, digests) in &tags {
            tagmanifest.push_str(&format!("{}  {name}\n", digests.sha256));
        }
        write_file(&root.join("tagmanifest-sha256.txt"), tagmanifest.as_bytes())?;
        // The directory entries of the bag reach the disk with it.
        std::fs::File::open(root)
            .and_then(|d| d.sync_all())
            .map_err(io(root))?;
        Ok(())
    }
}

/// A value for a bag-info line: no line breaks.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_are_percent_encoded() {
        assert_eq!(manifest_path("data/a b/c"), "data/a b/c");
        assert_eq!(manifest_path("data/100%\n"), "data/100%25%0A");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1_500_000), "1.5 MB");
    }
}
