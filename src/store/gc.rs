//! Reclaiming what no ref reaches: the loose objects and temporary files that interrupted
//! writes leave in `objects/`.
//!
//! A write killed before its commit is published (see `Transaction::commit`) leaves every object
//! it wrote behind, unreferenced: nothing is lost, but nothing reclaims the space either. `gc`
//! runs under the store's writer lock, so no verbatim writer can have objects in flight; it then
//! deletes only loose objects that nothing reaches — no ref under `refs/`, no `HEAD`, no reflog
//! entry (git's own roots: `git fsck` follows reflogs too, so an object only a reflog names is
//! kept) — and temporary files older than [`TEMP_GRACE`]. Packs are never rewritten or deleted.
//!
//! Optionally it packs the reachable loose objects into one new pack. The pack and its index are
//! written whole and flushed to disk, and its index is read back, before any loose copy is
//! deleted, and a loose copy is deleted only if that index lists it: a kill at any point leaves
//! each object loose, packed, or both.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ObjectType, Oid, Repository};
use serde::Serialize;

use super::{Error, Lock, Store};

/// Sets of object ids, with foldhash: a store holds tens of thousands of objects.
pub(crate) type OidSet = HashSet<Oid, foldhash::fast::RandomState>;

/// How old a temporary file in `objects/` must be before `gc` removes it.
///
/// Under the store lock no verbatim writer is running, but stock git takes no verbatim lock: a
/// `git` process writing an object or a pack into the store right now has a temporary file that
/// must not vanish under it. No write of a single object or pack takes an hour, so a file that
/// old was left by a process that died; git's own `gc` waits as long for `tmp_` files.
pub const TEMP_GRACE: Duration = Duration::from_secs(3600);

/// What `gc` should do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Report what would be removed and packed, and change nothing.
    pub dry_run: bool,
    /// Also pack the reachable loose objects into one new pack and delete their loose copies.
    pub pack: bool,
    /// How old a temporary file must be to be removed ([`TEMP_GRACE`] by default).
    pub temp_grace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            pack: false,
            temp_grace: TEMP_GRACE,
        }
    }
}

/// Unreachable loose objects and stale temporary files in a store's `objects/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Survey {
    /// Loose objects that no ref, `HEAD` or reflog entry reaches.
    pub objects: usize,
    /// Their size on disk.
    pub bytes: u64,
    /// Temporary files older than the grace period (`tmp_*`, `pack_git2_*`, `*.lock`).
    pub temp_files: usize,
    /// Their size on disk.
    pub temp_bytes: u64,
}

impl Survey {
    /// Whether there is nothing to reclaim.
    pub fn is_empty(&self) -> bool {
        self.objects == 0 && self.temp_files == 0
    }
}

/// The reachable loose objects `gc` packed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Packed {
    /// How many objects (each now in the pack, its loose copy deleted).
    pub objects: usize,
    /// Their loose files' size on disk.
    pub loose_bytes: u64,
    /// The new pack's size (its `.pack` and `.idx`).
    pub pack_bytes: u64,
    /// The pack's name, `pack-<hex>` (empty for a dry run, or when nothing was loose).
    pub name: String,
}

/// What `gc` did, or with [`Options::dry_run`] would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether this was a dry run (nothing changed).
    pub dry_run: bool,
    /// Objects reachable from the store's refs, `HEAD` and reflogs (loose or packed).
    pub reachable: usize,
    /// What was (or would be) removed.
    pub removed: Survey,
    /// Temporary files kept because they are younger than the grace period.
    pub recent_temp_files: usize,
    /// What was (or would be) packed, when packing was asked for.
    pub packed: Option<Packed>,
}

impl Store {
    /// Removes the loose objects nothing reaches and stale temporary files, and with
    /// [`Options::pack`] packs the reachable loose objects. Requires the writer lock.
    ///
    /// Refuses, removing nothing, when an object that a ref reaches is missing or unreadable:
    /// what such an object referred to cannot be known, so nothing can be called unreachable.
    pub fn gc(&self, lock: &Lock, options: &Options) -> Result<Report, Error> {
        debug_assert!(lock.held());
        let repo = &self.repo;
        let mut reachable = OidSet::default();
        let roots = roots(repo)?;
        expand(repo, &roots, &mut reachable).map_err(|detail| Error::Damaged {
            path: self.path.clone(),
            detail: format!("{detail}; gc removed nothing"),
        })?;
        let objects = self.path.join("objects");
        let scan = list(&self.path)?.sort(
            &|oid| reachable.contains(&oid),
            options.temp_grace,
            options.pack,
        );
        let mut report = Report {
            dry_run: options.dry_run,
            reachable: reachable.len(),
            removed: Survey::default(),
            recent_temp_files: scan.recent_temp_files,
            packed: None,
        };
        if options.dry_run {
            report.removed = scan.survey();
            report.packed = options.pack.then(|| Packed {
                objects: scan.reachable_loose.len(),
                loose_bytes: scan.reachable_loose.iter().map(|(_, _, b)| b).sum(),
                pack_bytes: 0,
                name: String::new(),
            });
            return Ok(report);
        }
        // Nothing reachable is among these: deleting them in any order, or being killed
        // halfway, leaves every reachable object where it was.
        for (_, path, bytes) in &scan.unreachable {
            if remove(path)? {
                report.removed.objects += 1;
                report.removed.bytes += bytes;
            }
        }
        for (path, bytes) in &scan.stale_temp {
            if remove(path)? {
                report.removed.temp_files += 1;
                report.removed.temp_bytes += bytes;
            }
        }
        if options.pack {
            report.packed = Some(if scan.reachable_loose.is_empty() {
                Packed::default()
            } else {
                self.pack(&scan.reachable_loose)?
            });
        }
        remove_empty_fanout_dirs(&objects);
        Ok(report)
    }

    /// Writes `loose` into one new pack, flushes it, and deletes the loose copies its index
    /// lists.
    fn pack(&self, loose: &[(Oid, PathBuf, u64)]) -> Result<Packed, Error> {
        let pack_dir = self.path.join("objects").join("pack");
        std::fs::create_dir_all(&pack_dir).map_err(|source| Error::Io {
            path: pack_dir.clone(),
            source,
        })?;
        let mut builder = self.repo.packbuilder()?;
        for (oid, _, _) in loose {
            builder.insert_object(*oid, None)?;
        }
        // libgit2's indexer writes the pack under a temporary name, verifies every object's id
        // as it indexes it, fsyncs both files (fsync is on for the store) and renames them.
        builder.write(&pack_dir, 0)?;
        let name = match builder.name() {
            Some(hex) => format!("pack-{hex}"),
            None => {
                return Err(Error::Damaged {
                    path: self.path.clone(),
                    detail: "libgit2 wrote a pack but did not name it; no loose object was removed"
                        .to_owned(),
                });
            }
        };
        // Every file of the pack is on disk before a single loose copy goes. libgit2 fsyncs
        // them already when the store's fsync is on; this does not depend on it, and costs two
        // fsyncs of files already clean, not a `syncfs` of the whole filesystem.
        let idx_path = pack_dir.join(format!("{name}.idx"));
        for path in [
            pack_dir.join(format!("{name}.pack")),
            idx_path.clone(),
            pack_dir.clone(),
        ] {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|source| Error::Io { path, source })?;
        }
        let idx = std::fs::read(&idx_path).map_err(|source| Error::Io {
            path: idx_path.clone(),
            source,
        })?;
        let listed = idx_ids(&idx).ok_or_else(|| Error::Damaged {
            path: idx_path.clone(),
            detail: "the new pack's index does not parse; no loose object was removed".to_owned(),
        })?;
        let pack_bytes = [idx_path, pack_dir.join(format!("{name}.pack"))]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let mut packed = Packed {
            objects: 0,
            loose_bytes: 0,
            pack_bytes,
            name,
        };
        for (oid, path, bytes) in loose {
            if listed.contains(oid) && remove(path)? {
                packed.objects += 1;
                packed.loose_bytes += bytes;
            }
        }
        Ok(packed)
    }
}

/// Counts the unreachable loose objects and stale temporary files of a [`list`]ing, given which
/// objects are reachable. `verify` lists `objects/` on a thread of its own while it walks the
/// history, and calls this with what the walk read.
pub fn survey(listing: Listing, reachable: &dyn Fn(Oid) -> bool) -> Survey {
    listing.sort(reachable, TEMP_GRACE, false).survey()
}

/// The objects every root of the repository reaches that `known` does not hold yet, added to
/// it; `Err` says which reachable object is missing or unreadable.
pub(crate) fn expand(repo: &Repository, roots: &[Oid], known: &mut OidSet) -> Result<(), String> {
    let mut stack: Vec<Oid> = roots.iter().copied().filter(|r| known.insert(*r)).collect();
    while let Some(oid) = stack.pop() {
        let object = repo.find_object(oid, None).map_err(|e| {
            format!(
                "the reachable object {oid} cannot be read ({})",
                e.message()
            )
        })?;
        match object.kind() {
            Some(ObjectType::Commit) => {
                if let Some(commit) = object.as_commit() {
                    stack.extend(
                        std::iter::once(commit.tree_id())
                            .chain(commit.parent_ids())
                            .filter(|id| known.insert(*id)),
                    );
                }
            }
            Some(ObjectType::Tree) => {
                if let Some(tree) = object.as_tree() {
                    for entry in tree.iter() {
                        match entry.kind() {
                            Some(ObjectType::Tree) if known.insert(entry.id()) => {
                                stack.push(entry.id());
                            }
                            // Blobs are not read: nothing is below them.
                            Some(ObjectType::Blob) => {
                                known.insert(entry.id());
                            }
                            // A gitlink names a commit of another repository.
                            _ => {}
                        }
                    }
                }
            }
            Some(ObjectType::Tag) => {
                if let Some(tag) = object.as_tag() {
                    let target = tag.target_id();
                    if known.insert(target) {
                        stack.push(target);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Everything git counts as a root of reachability: `HEAD`, every ref (branches, tags, notes,
/// replace refs, anything under `refs/`), and both sides of every reflog entry. A reflog entry
/// whose commit is already gone is skipped: git's own `reflog expire` deals with those, and
/// nothing below it can be reached through it.
pub(crate) fn roots(repo: &Repository) -> Result<Vec<Oid>, Error> {
    let mut names = vec!["HEAD".to_owned()];
    let mut roots = Vec::new();
    if let Ok(head) = repo.head()
        && let Some(oid) = head.target()
    {
        roots.push(oid);
    }
    for reference in repo.references()? {
        let reference = reference?;
        if let Ok(resolved) = reference.resolve()
            && let Some(oid) = resolved.target()
        {
            roots.push(oid);
        }
        if let Some(name) = reference.name() {
            names.push(name.to_owned());
        }
    }
    // Reflogs of refs since deleted are still roots to git.
    reflog_names(&repo.path().join("logs"), "", &mut names);
    names.sort();
    names.dedup();
    let odb = repo.odb()?;
    for name in names {
        let Ok(reflog) = repo.reflog(&name) else {
            continue;
        };
        for entry in reflog.iter() {
            for oid in [entry.id_old(), entry.id_new()] {
                if !oid.is_zero() && odb.exists(oid) {
                    roots.push(oid);
                }
            }
        }
    }
    Ok(roots)
}

/// The names of the reflog files under `dir` (`logs/`), as ref names.
fn reflog_names(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let full = format!("{prefix}{name}");
        match entry.file_type() {
            Ok(t) if t.is_dir() => reflog_names(&entry.path(), &format!("{full}/"), out),
            Ok(t) if t.is_file() => out.push(full),
            _ => {}
        }
    }
}

/// What is in `objects/`, sorted by reachability.
struct Scan {
    unreachable: Vec<(Oid, PathBuf, u64)>,
    reachable_loose: Vec<(Oid, PathBuf, u64)>,
    stale_temp: Vec<(PathBuf, u64)>,
    recent_temp_files: usize,
}

impl Scan {
    fn survey(&self) -> Survey {
        Survey {
            objects: self.unreachable.len(),
            bytes: self.unreachable.iter().map(|(_, _, b)| b).sum(),
            temp_files: self.stale_temp.len(),
            temp_bytes: self.stale_temp.iter().map(|(_, b)| b).sum(),
        }
    }
}

/// What a repository's `objects/` holds: its loose objects and temporary files, unsorted.
pub struct Listing {
    objects: PathBuf,
    /// Loose objects by id: their paths follow from it, and are built only for those reported.
    loose: Vec<Oid>,
    temp: Vec<(PathBuf, std::fs::Metadata)>,
}

/// Lists the loose objects and temporary files of the repository at `repo_path`, by directory
/// entry types: only temporary files are asked their age and size.
pub fn list(repo_path: &Path) -> Result<Listing, Error> {
    let objects = repo_path.join("objects");
    let mut listing = Listing {
        objects: objects.clone(),
        loose: Vec::new(),
        temp: Vec::new(),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let top = match std::fs::read_dir(&objects) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
        Err(e) => return Err(io(&objects)(e)),
    };
    let mut temp = |path: PathBuf| {
        if let Ok(meta) = path.symlink_metadata() {
            listing.temp.push((path, meta));
        }
    };
    let mut fanout = Vec::new();
    for entry in top {
        let entry = entry.map_err(io(&objects))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                fanout.push(name);
            } else if name == "pack" {
                let pack = entry.path();
                for_each_file(&pack, &mut |name| {
                    if let Ok(name) = std::str::from_utf8(name)
                        && (is_temp(name) || name.starts_with("pack_git2_"))
                    {
                        temp(pack.join(name));
                    }
                })?;
            }
        } else if kind.is_file() && is_temp(&name) {
            temp(entry.path());
        }
    }
    for dir_name in fanout {
        let dir = objects.join(&dir_name);
        let mut hex = [0u8; 40];
        hex[..2].copy_from_slice(dir_name.as_bytes());
        for_each_file(&dir, &mut |name| {
            if name.len() == 38 {
                hex[2..].copy_from_slice(name);
                // A name that is not 38 hex digits is not an object.
                if let Some(oid) = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| Oid::from_str(h).ok())
                {
                    listing.loose.push(oid);
                }
            } else if std::str::from_utf8(name).is_ok_and(is_temp) {
                temp(dir.join(String::from_utf8_lossy(name).as_ref()));
            }
        })?;
    }
    Ok(listing)
}

impl Listing {
    /// Sorts the listing by reachability. Only what is reported is asked its size: unreachable
    /// objects always, the reachable ones when `reachable_sizes` (for packing). verify surveys
    /// stores of thousands of loose objects, and a stat of each was a fifth of its time.
    fn sort(self, reachable: &dyn Fn(Oid) -> bool, grace: Duration, reachable_sizes: bool) -> Scan {
        let mut scan = Scan {
            unreachable: Vec::new(),
            reachable_loose: Vec::new(),
            stale_temp: Vec::new(),
            recent_temp_files: 0,
        };
        let path_of = |oid: Oid| {
            let hex = oid.to_string();
            self.objects.join(&hex[..2]).join(&hex[2..])
        };
        let size = |path: &Path| path.symlink_metadata().map_or(0, |m| m.len());
        for &oid in &self.loose {
            if reachable(oid) {
                if reachable_sizes {
                    let path = path_of(oid);
                    let bytes = size(&path);
                    scan.reachable_loose.push((oid, path, bytes));
                }
            } else {
                let path = path_of(oid);
                let bytes = size(&path);
                scan.unreachable.push((oid, path, bytes));
            }
        }
        for (path, meta) in self.temp {
            // A modification time in the future (a clock set back) is never old enough.
            let stale = meta
                .modified()
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= grace);
            if stale {
                scan.stale_temp.push((path, meta.len()));
            } else {
                scan.recent_temp_files += 1;
            }
        }
        scan
    }
}

/// The regular files directly in `dir` (symbolic links are not followed), by the directory
/// entries' own types: no stat of each.
#[cfg(not(unix))]
fn read_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// Calls `f` with the name of each regular file directly in `dir`, by the directory entries'
/// own types. A store's 256 object directories are listed on every verify: this opens each
/// relative to nothing but its path and skips the `fstat` that `opendir` adds.
#[cfg(unix)]
fn for_each_file(dir: &Path, f: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
    use rustix::fs::{CWD, FileType, Mode, OFlags};
    let io = |source: std::io::Error| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let fd = rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .map_err(|e| io(e.into()))?;
    let mut entries = rustix::fs::Dir::new(fd).map_err(|e| io(e.into()))?;
    while let Some(entry) = entries.read() {
        let entry = entry.map_err(|e| io(e.into()))?;
        let name = entry.file_name();
        let kind = match entry.file_type() {
            // A file system that does not fill in the entry's type is asked per entry.
            FileType::Unknown => {
                let path = dir.join(String::from_utf8_lossy(name.to_bytes()).as_ref());
                match path.symlink_metadata() {
                    Ok(meta) if meta.is_file() => FileType::RegularFile,
                    _ => continue,
                }
            }
            known => known,
        };
        if kind == FileType::RegularFile {
            f(name.to_bytes());
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn for_each_file(dir: &Path, f: &mut dyn FnMut(&[u8])) -> Result<(), Error> {
    for path in read_files(dir)? {
        if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            f(name.as_bytes());
        }
    }
    Ok(())
}

/// Whether a file name in `objects/` is a temporary file of git, libgit2 or verbatim: `tmp_obj_*`
/// (git's and verbatim's loose objects), `tmp_object_git2_*` (libgit2's), `tmp_pack_*`,
/// `tmp_idx_*` and the like (git's packs), or a `*.lock` file.
fn is_temp(name: &str) -> bool {
    name.starts_with("tmp_") || name.ends_with(".lock")
}

/// Removes a file; `false` if it was already gone.
fn remove(path: &Path) -> Result<bool, Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes the `objects/xx` directories left empty, as git's prune does. A directory that is
/// not empty (a writer of another tool just put a file there) stays: `remove_dir` fails on it.
fn remove_empty_fanout_dirs(objects: &Path) {
    let Ok(entries) = std::fs::read_dir(objects) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

/// The object ids a pack index (version 2, SHA-1) lists; `None` if it is not one.
fn idx_ids(idx: &[u8]) -> Option<OidSet> {
    const HEADER: usize = 8;
    const FANOUT: usize = 256 * 4;
    if idx.get(..HEADER)? != b"\xfftOc\x00\x00\x00\x02" {
        return None;
    }
    let last = idx.get(HEADER + FANOUT - 4..HEADER + FANOUT)?;
    let count = u32::from_be_bytes(last.try_into().ok()?) as usize;
    let names = idx.get(HEADER + FANOUT..HEADER + FANOUT + count.checked_mul(20)?)?;
    names
        .chunks_exact(20)
        .map(|id| Oid::from_bytes(id).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_and_objects_are_not() {
        for name in [
            "tmp_obj_a1B2c3",
            "tmp_object_git2_0011223344556677",
            "tmp_pack_XYZ",
            "tmp_idx_XYZ",
            "packed-refs.lock",
        ] {
            assert!(is_temp(name), "{name}");
        }
        for name in [
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c53",
            "pack-1.pack",
            "info",
        ] {
            assert!(!is_temp(name), "{name}");
        }
    }

    #[test]
    fn a_pack_index_is_read_and_anything_else_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let ids: Vec<Oid> = (0..5)
            .map(|i| repo.blob(format!("blob {i}").as_bytes()).expect("blob"))
            .collect();
        let mut builder = repo.packbuilder().expect("packbuilder");
        for id in &ids {
            builder.insert_object(*id, None).expect("insert");
        }
        let pack_dir = dir.path().join("objects/pack");
        builder.write(&pack_dir, 0).expect("write");
        let name = builder.name().expect("named").to_owned();
        let idx = std::fs::read(pack_dir.join(format!("pack-{name}.idx"))).expect("idx");
        let listed = idx_ids(&idx).expect("parses");
        assert_eq!(listed.len(), ids.len());
        assert!(ids.iter().all(|id| listed.contains(id)));
        assert!(idx_ids(&idx[..100]).is_none());
        assert!(idx_ids(b"PACK\x00\x00\x00\x02").is_none());
    }
}
