//! Git objects as `verify` reads them: loose objects straight from their files, inflated here
//! and re-hashed over exactly the bytes git hashed, and trees and commits parsed here.
//!
//! Hand-written rather than read through libgit2 because verification is a pass over every
//! object of the store, and libgit2's object database checks each path's existence, inflates
//! with the system zlib (a byte-wise Adler-32) and copies the content again on every read: the
//! greater part of a verification. Packed objects (a store that stock `git gc` repacked), and
//! objects in alternates, are read through libgit2: only the loose format, which is what
//! verbatim writes, is parsed here.

use std::io;
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{ObjectType, Oid, Repository};

use crate::hash::GitTwin;

/// What reading an object found.
pub(crate) enum Read {
    /// No such object in the store.
    Missing,
    /// The object exists but cannot be read: why.
    Unreadable(String),
    /// The object.
    Found(Object),
}

/// An object read from the store, with the id its content hashes to.
pub(crate) struct Object {
    /// The kind its header names.
    pub kind: ObjectType,
    /// The git id of `<kind> <length>\0<content>`, computed here (RustCrypto's SHA-1, with
    /// SHA-NI where the CPU has it; the proof of content is each stream's SHA-256).
    pub actual_id: Oid,
    /// Header and content, as inflated.
    buf: Vec<u8>,
    /// Where the content starts in `buf`.
    body: usize,
}

impl Object {
    /// The object's content.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.body..]
    }

    /// The object's content, owned.
    pub fn into_data(mut self) -> Vec<u8> {
        self.buf.drain(..self.body);
        self.buf
    }
}

/// Reads the objects of one repository (one handle a thread: libgit2's are not shared).
pub(crate) struct Objects {
    dir: PathBuf,
    /// Opened on the first object that is not loose.
    repo: Option<Repository>,
    /// The repository's path, to open `repo` with.
    repo_path: PathBuf,
    /// The loose file last read: its first `raw_len` bytes. Kept initialised to its full
    /// length, so that files are read straight into it without zeroing it again.
    raw: Vec<u8>,
    raw_len: usize,
    segments: Vec<std::ops::Range<usize>>,
    /// One inflater, reset for each object: a new one is an allocation of some 40 KB, zeroed.
    z: Decompress,
    /// The `objects/xx` directories opened so far, by their first byte: files are opened
    /// relative to them, so that the kernel does not walk the whole path for every object.
    #[cfg(unix)]
    dirs: Vec<Option<std::fs::File>>,
}

/// What [`Objects::hash`] computes of a blob.
pub(crate) struct Hashes {
    /// The kind its header names.
    pub kind: ObjectType,
    /// The git id its header and content hash to.
    pub actual_id: Oid,
    /// SHA-256 of the content, in lowercase hex.
    pub sha256: String,
    /// The content's length.
    pub len: u64,
}

impl Objects {
    /// Reads the objects of the bare repository at `repo_path`.
    pub fn new(repo_path: &Path) -> Self {
        Objects {
            dir: repo_path.join("objects"),
            repo: None,
            repo_path: repo_path.to_path_buf(),
            raw: Vec::new(),
            raw_len: 0,
            segments: Vec::new(),
            z: Decompress::new(true),
            #[cfg(unix)]
            dirs: std::iter::repeat_with(|| None).take(256).collect(),
        }
    }

    /// The path of an object's loose file.
    fn loose_path(&self, oid: Oid) -> PathBuf {
        let hex = oid.to_string();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Reads and hashes a blob without keeping it: its kind, id, SHA-256 and length. A loose
    /// object of stored (not deflated) blocks, as verbatim writes blobs, is hashed where it
    /// lies in the file's bytes, with its Adler-32 checked as inflating would.
    pub fn hash(&mut self, oid: Oid) -> Result<Hashes, Read> {
        if let Err(read) = self.load(oid) {
            return hashes_of(read);
        }
        match hash_stored(&self.raw[..self.raw_len], &mut self.segments) {
            Some(Ok(hashes)) => Ok(hashes),
            Some(Err(why)) => Err(Read::Unreadable(format!(
                "the loose object {oid} is damaged: {why}"
            ))),
            // Deflated: inflated, then hashed as the stored ones are.
            None => match inflate(&mut self.z, &self.raw[..self.raw_len]) {
                Ok((buf, body, kind)) => {
                    let mut twin = GitTwin::new();
                    twin.header(&buf[..body]);
                    twin.content(&buf[body..]);
                    twin_hashes(kind, buf.len() - body, twin).map_err(Read::Unreadable)
                }
                Err(why) => Err(Read::Unreadable(format!(
                    "the loose object {oid} is damaged: {why}"
                ))),
            },
        }
    }

    /// Reads an object: from its loose file if it has one, else through libgit2.
    pub fn read(&mut self, oid: Oid) -> Read {
        match self.load(oid) {
            Ok(()) => self.inflate_loaded(oid),
            Err(read) => read,
        }
    }

    /// Reads an object's loose file into `raw`; an object that has none is read through
    /// libgit2 instead, and what that found is the error.
    fn load(&mut self, oid: Oid) -> Result<(), Read> {
        self.raw_len = 0;
        // Read, not mapped: unmapping on one thread stalls the other (TLB shootdowns), which
        // cost more than the copy (measured). Read to its end without asking its size first,
        // in as few calls as the buffer allows: `read_to_end` starts every file with 8 KiB
        // reads and doubles them, five calls for a page of 100 KB.
        let opened = self.open_loose(oid);
        let (raw, raw_len) = (&mut self.raw, &mut self.raw_len);
        let loaded = opened.and_then(|mut file| {
            loop {
                if *raw_len == raw.len() {
                    raw.resize((raw.len() * 2).max(256 << 10), 0);
                }
                match io::Read::read(&mut file, &mut raw[*raw_len..]) {
                    Ok(0) => return Ok(()),
                    Ok(n) => *raw_len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        });
        match loaded {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.read_by_libgit2(oid)),
            Err(e) => Err(Read::Unreadable(format!(
                "cannot read {}: {e}",
                self.loose_path(oid).display()
            ))),
        }
    }

    /// Opens an object's loose file, relative to its directory's handle.
    #[cfg(unix)]
    fn open_loose(&mut self, oid: Oid) -> io::Result<std::fs::File> {
        let bytes = oid.as_bytes();
        let slot = usize::from(bytes[0]);
        if self.dirs[slot].is_none() {
            let hex = oid.to_string();
            self.dirs[slot] = Some(std::fs::File::open(self.dir.join(&hex[..2]))?);
        }
        let Some(dir) = &self.dirs[slot] else {
            return Err(io::ErrorKind::NotFound.into());
        };
        // The 38 hex digits after the directory's two, NUL-terminated.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut name = [0u8; 39];
        for (i, b) in bytes[1..].iter().enumerate() {
            name[2 * i] = HEX[usize::from(b >> 4)];
            name[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        let name = std::ffi::CStr::from_bytes_with_nul(&name)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let fd = rustix::fs::openat(
            dir,
            name,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        Ok(std::fs::File::from(fd))
    }

    #[cfg(not(unix))]
    fn open_loose(&mut self, oid: Oid) -> io::Result<std::fs::File> {
        std::fs::File::open(self.loose_path(oid))
    }

    /// Inflates and hashes the loose object in `raw`.
    fn inflate_loaded(&mut self, oid: Oid) -> Read {
        match inflate(&mut self.z, &self.raw[..self.raw_len]) {
            Ok((buf, body, kind)) => {
                use sha1::Digest as _;
                match Oid::from_bytes(&sha1::Sha1::digest(&buf)) {
                    Ok(actual_id) => Read::Found(Object {
                        kind,
                        actual_id,
                        buf,
                        body,
                    }),
                    Err(e) => Read::Unreadable(e.message().to_owned()),
                }
            }
            Err(why) => Read::Unreadable(format!("the loose object {oid} is damaged: {why}")),
        }
    }

    /// Reads an object that is not loose (packed, or in an alternate) through libgit2.
    fn read_by_libgit2(&mut self, oid: Oid) -> Read {
        if self.repo.is_none() {
            match Repository::open_bare(&self.repo_path) {
                Ok(repo) => self.repo = Some(repo),
                Err(e) => return Read::Unreadable(e.message().to_owned()),
            }
        }
        let Some(repo) = &self.repo else {
            return Read::Missing;
        };
        let odb = match repo.odb() {
            Ok(odb) => odb,
            Err(e) => return Read::Unreadable(e.message().to_owned()),
        };
        match odb.read(oid) {
            Err(e) if e.code() == git2::ErrorCode::NotFound => Read::Missing,
            Err(e) => Read::Unreadable(e.message().to_owned()),
            Ok(object) => match git_id(object.kind(), object.data()) {
                Ok(actual_id) => Read::Found(Object {
                    kind: object.kind(),
                    actual_id,
                    buf: object.data().to_vec(),
                    body: 0,
                }),
                Err(e) => Read::Unreadable(e.message().to_owned()),
            },
        }
    }
}

/// The hashes of an object read whole; what else was found, as the error.
fn hashes_of(read: Read) -> Result<Hashes, Read> {
    match read {
        Read::Found(object) => Ok(Hashes {
            kind: object.kind,
            actual_id: object.actual_id,
            sha256: crate::hash::sha256_hex(object.data()),
            len: object.data().len() as u64,
        }),
        other => Err(other),
    }
}

/// Hashes a loose object made only of stored blocks in place: `None` when it has a deflated
/// block (or is not a zlib stream at all: inflating will say why), else its hashes or what is
/// damaged. `segments` is scratch space for the blocks' byte ranges.
fn hash_stored(
    raw: &[u8],
    segments: &mut Vec<std::ops::Range<usize>>,
) -> Option<Result<Hashes, String>> {
    let (kind, len, nul) = match stored_blocks(raw, segments)? {
        Ok(found) => found,
        Err(why) => return Some(Err(why)),
    };
    let mut twin = GitTwin::new();
    let mut header = nul + 1;
    for s in segments.iter() {
        let bytes = &raw[s.clone()];
        let (head, content) = bytes.split_at(header.min(bytes.len()));
        header -= head.len();
        twin.header(head);
        twin.content(content);
    }
    Some(twin_hashes(kind, len, twin))
}

/// What a [`GitTwin`] fed an object's header and content found.
fn twin_hashes(kind: ObjectType, len: usize, twin: GitTwin) -> Result<Hashes, String> {
    let (sha1, sha256) = twin.finish();
    Ok(Hashes {
        kind,
        actual_id: Oid::from_bytes(&sha1).map_err(|e| e.message().to_owned())?,
        sha256: crate::hash::to_hex(&sha256),
        len: len as u64,
    })
}

/// Parses a loose object made only of stored blocks: `None` when it has a deflated block (or
/// is not a zlib stream at all: inflating will say why), else its kind, content length and
/// where its header ends, with `segments` holding the blocks' byte ranges in `raw`, or what is
/// damaged. The Adler-32 is checked as inflating would.
fn stored_blocks(
    raw: &[u8],
    segments: &mut Vec<std::ops::Range<usize>>,
) -> Option<Result<(ObjectType, usize, usize), String>> {
    // The zlib header: deflate, no preset dictionary, a valid check value.
    let (&cmf, &flg) = (raw.first()?, raw.get(1)?);
    // (A window over 32 KiB, CINFO > 7, is one git and zlib refuse: left to inflating, which
    // says so.)
    if cmf & 0x0f != 8
        || cmf >> 4 > 7
        || flg & 0x20 != 0
        || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0
    {
        return None;
    }
    segments.clear();
    let mut at = 2;
    loop {
        let header = *raw.get(at)?;
        // BTYPE 00: stored. A stored block's header is padded to a whole byte.
        if header & 0b110 != 0 {
            return None;
        }
        let len = u16::from_le_bytes([*raw.get(at + 1)?, *raw.get(at + 2)?]);
        let nlen = u16::from_le_bytes([*raw.get(at + 3)?, *raw.get(at + 4)?]);
        if len != !nlen {
            return None;
        }
        let start = at + 5;
        let end = start + usize::from(len);
        if end > raw.len() {
            return Some(Err("truncated".into()));
        }
        segments.push(start..end);
        at = end;
        if header & 1 == 1 {
            break;
        }
    }
    let Some(trailer) = raw.get(at..at + 4) else {
        return Some(Err("truncated".into()));
    };
    // Bytes after the stream are damage git refuses to read past.
    if raw.len() != at + 4 {
        return Some(Err("bytes after the end of its zlib stream".into()));
    }
    let mut adler = simd_adler32::Adler32::new();
    for s in segments.iter() {
        adler.write(&raw[s.clone()]);
    }
    if adler.finish().to_be_bytes() != trailer {
        return Some(Err("its Adler-32 does not match its content".into()));
    }
    // The header (`<kind> <length>\0`), within the first 32 bytes of content.
    let mut first = [0u8; 32];
    let mut filled = 0;
    for s in segments.iter() {
        let take = (32 - filled).min(s.len());
        first[filled..filled + take].copy_from_slice(&raw[s.start..s.start + take]);
        filled += take;
        if filled == 32 {
            break;
        }
    }
    let head = &first[..filled];
    let Some(nul) = head.iter().position(|&b| b == 0) else {
        return Some(Err("no object header".into()));
    };
    let (kind, len) = match parse_header(&head[..nul]) {
        Ok(found) => found,
        Err(why) => return Some(Err(why)),
    };
    let total: usize = segments.iter().map(|s| s.len()).sum();
    if Some(total) != (nul + 1).checked_add(len) {
        return Some(Err(format!(
            "its content is {} bytes, its header says {len}",
            total - nul - 1
        )));
    }
    Some(Ok((kind, len, nul)))
}

/// Parses an object header's `<kind> <length>`.
fn parse_header(header: &[u8]) -> Result<(ObjectType, usize), String> {
    let header = std::str::from_utf8(header).map_err(|_| "a header that is not text")?;
    let (kind, len) = header.split_once(' ').ok_or("a malformed header")?;
    let kind = match kind {
        "blob" => ObjectType::Blob,
        "tree" => ObjectType::Tree,
        "commit" => ObjectType::Commit,
        "tag" => ObjectType::Tag,
        _ => return Err(format!("an unknown object kind {kind:?}")),
    };
    let len: usize = len.parse().map_err(|_| "a malformed length")?;
    Ok((kind, len))
}

/// Inflates a loose object with `z` (reset here): its header and content, where the content
/// starts, and its kind.
fn inflate(z: &mut Decompress, raw: &[u8]) -> Result<(Vec<u8>, usize, ObjectType), String> {
    // Stored blocks (verbatim's blobs) are copied out, without setting up an inflater.
    let mut segments = Vec::new();
    if let Some(found) = stored_blocks(raw, &mut segments) {
        let (kind, _, nul) = found?;
        let mut buf = Vec::with_capacity(segments.iter().map(|s| s.len()).sum());
        for s in segments {
            buf.extend_from_slice(&raw[s]);
        }
        return Ok((buf, nul + 1, kind));
    }
    z.reset(true);
    // The header first (`<kind> <length>\0`, at most 32 bytes), to size the buffer.
    let mut buf = Vec::with_capacity(32);
    z.decompress_vec(raw, &mut buf, FlushDecompress::None)
        .map_err(|e| e.to_string())?;
    let Some(nul) = buf.iter().position(|&b| b == 0) else {
        return Err("no object header".into());
    };
    let (kind, len) = parse_header(&buf[..nul])?;
    let total = (nul + 1)
        .checked_add(len)
        .ok_or("a length no object can have")?;
    // A length the compressed bytes cannot hold (deflate expands at most ~1032:1) is damage,
    // not a reason to allocate it.
    if len / 1040 > raw.len() {
        return Err(format!(
            "a length ({len} bytes) its {} bytes cannot hold",
            raw.len()
        ));
    }
    if buf.len() > total {
        return Err("content longer than its header says".into());
    }
    // One byte more than the header says, so that a longer content is caught.
    buf.reserve_exact(total + 1 - buf.len());
    loop {
        let consumed = z.total_in() as usize;
        let produced = buf.len();
        let status = z
            .decompress_vec(&raw[consumed..], &mut buf, FlushDecompress::Finish)
            .map_err(|e| e.to_string())?;
        if buf.len() > total {
            return Err("content longer than its header says".into());
        }
        match status {
            Status::StreamEnd => break,
            _ if z.total_in() as usize == consumed && buf.len() == produced => {
                return Err("truncated".into());
            }
            _ => {}
        }
    }
    if buf.len() != total {
        return Err("content shorter than its header says".into());
    }
    if z.total_in() as usize != raw.len() {
        return Err("bytes after the end of its zlib stream".into());
    }
    Ok((buf, nul + 1, kind))
}

/// The git id of an object's content: SHA-1 of `<kind> <length>\0<content>`. Computed here
/// (RustCrypto's SHA-1, which uses SHA-NI where the CPU has it) rather than by libgit2, whose
/// collision-detecting SHA-1 took a fifth of a verification; the proof of content against
/// tampering is the SHA-256 of each byte stream and record, not this.
pub(crate) fn git_id(kind: ObjectType, data: &[u8]) -> Result<Oid, git2::Error> {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("{} {}\0", kind.str(), data.len()).as_bytes());
    hasher.update(data);
    Oid::from_bytes(&hasher.finalize())
}

/// One entry of a tree.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The file or directory name.
    pub name: String,
    /// The object it names.
    pub id: Oid,
    /// Its git file mode.
    pub mode: u32,
}

impl Entry {
    /// The kind of object the entry's mode says it names (`None` for an unknown mode).
    pub fn kind(&self) -> Option<ObjectType> {
        match self.mode {
            0o040000 => Some(ObjectType::Tree),
            0o100644 | 0o100755 | 0o100664 | 0o120000 => Some(ObjectType::Blob),
            0o160000 => Some(ObjectType::Commit),
            _ => None,
        }
    }
}

/// A tree's entries, in their stored order.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    entries: Vec<Entry>,
}

impl Tree {
    /// Parses a tree's content: entries of `<octal mode> <name>\0<20-byte id>`.
    pub fn parse(data: &[u8]) -> Result<Tree, String> {
        let mut entries = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let space = rest
                .iter()
                .position(|&b| b == b' ')
                .ok_or("an entry without a mode")?;
            let mode = std::str::from_utf8(&rest[..space])
                .ok()
                .and_then(|m| u32::from_str_radix(m, 8).ok())
                .ok_or("an entry with a malformed mode")?;
            rest = &rest[space + 1..];
            let nul = memchr::memchr(0, rest).ok_or("an entry without a name")?;
            let name = String::from_utf8_lossy(&rest[..nul]).into_owned();
            rest = &rest[nul + 1..];
            let id = rest.get(..20).ok_or("a truncated entry")?;
            let id = Oid::from_bytes(id).map_err(|e| e.message().to_owned())?;
            rest = &rest[20..];
            entries.push(Entry { name, id, mode });
        }
        Ok(Tree { entries })
    }

    /// The entries.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    /// The entry named `name`.
    pub fn get_name(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A commit's tree and parents, parsed from its content.
pub(crate) fn parse_commit(data: &[u8]) -> Result<(Oid, Vec<Oid>), String> {
    let mut tree = None;
    let mut parents = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        // The headers end at the first empty line; the message follows.
        if line.is_empty() {
            break;
        }
        let id = |hex: &[u8]| {
            std::str::from_utf8(hex)
                .ok()
                .and_then(|h| Oid::from_str(h).ok())
                .ok_or_else(|| "a malformed object id".to_owned())
        };
        if let Some(hex) = line.strip_prefix(b"tree ") {
            tree = Some(id(hex)?);
        } else if let Some(hex) = line.strip_prefix(b"parent ") {
            parents.push(id(hex)?);
        }
    }
    Ok((tree.ok_or("no tree")?, parents))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_objects() -> (tempfile::TempDir, Oid, Oid) {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let blob = repo.blob(b"hello\n").expect("blob");
        let mut builder = repo.treebuilder(None).expect("treebuilder");
        builder
            .insert("a name.txt", blob, 0o100644)
            .expect("insert");
        let tree = builder.write().expect("tree");
        (dir, blob, tree)
    }

    #[test]
    fn loose_objects_read_and_hash_as_git_does() {
        let (dir, blob, tree) = store_with_objects();
        let mut objects = Objects::new(dir.path());
        let Read::Found(object) = objects.read(blob) else {
            panic!("blob not read");
        };
        assert_eq!(object.kind, ObjectType::Blob);
        assert_eq!(object.actual_id, blob);
        assert_eq!(object.data(), b"hello\n");
        let Read::Found(object) = objects.read(tree) else {
            panic!("tree not read");
        };
        assert_eq!(object.actual_id, tree);
        let parsed = Tree::parse(object.data()).expect("parse");
        let entry = parsed.get_name("a name.txt").expect("entry");
        assert_eq!((entry.id, entry.kind()), (blob, Some(ObjectType::Blob)));
        let missing = Oid::from_str("0123456789012345678901234567890123456789").expect("oid");
        assert!(matches!(objects.read(missing), Read::Missing));
    }

    #[test]
    fn damaged_loose_objects_are_unreadable_not_wrong() {
        let (dir, blob, _) = store_with_objects();
        let hex = blob.to_string();
        let path = dir.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        let good = std::fs::read(&path).expect("read");
        let mut objects = Objects::new(dir.path());
        let mut perms = std::fs::metadata(&path).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&path, perms).expect("chmod");
        for damaged in [
            good[..good.len() - 3].to_vec(),
            b"not zlib".to_vec(),
            Vec::new(),
        ] {
            std::fs::write(&path, &damaged).expect("write");
            assert!(
                matches!(objects.read(blob), Read::Unreadable(_)),
                "{damaged:?} read as an object"
            );
        }
        // Trailing bytes, a window size zlib refuses, a header claiming less than the first
        // bytes inflated (once a panic), more than the content holds, and less.
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"GARBAGE");
        let mut window = good.clone();
        window[0] = 0x88;
        window[1] = 0x1c;
        for damaged in [trailing, window] {
            std::fs::write(&path, &damaged).expect("write");
            assert!(matches!(objects.read(blob), Read::Unreadable(_)));
            assert!(objects.hash(blob).is_err());
        }
        let mut forty = b"blob 0\0".to_vec();
        forty.extend_from_slice(&[b'x'; 40]);
        for content in [&forty[..], &b"blob 7\0hello\n"[..], b"blob 5\0hello\n"] {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            io::Write::write_all(&mut z, content).expect("deflate");
            std::fs::write(&path, z.finish().expect("finish")).expect("write");
            assert!(matches!(objects.read(blob), Read::Unreadable(_)));
        }
    }

    #[test]
    fn object_ids_are_git_s() {
        for (kind, data) in [
            (ObjectType::Blob, &b""[..]),
            (ObjectType::Blob, &b"hello\n"[..]),
            (
                ObjectType::Commit,
                &b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"[..],
            ),
        ] {
            assert_eq!(
                git_id(kind, data).expect("id"),
                Oid::hash_object(kind, data).expect("libgit2 id")
            );
        }
        // The empty blob's well-known id.
        assert_eq!(
            git_id(ObjectType::Blob, b"").expect("id").to_string(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }

    /// A loose blob of stored blocks, as verbatim writes them.
    fn stored(content: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
        io::Write::write_all(&mut z, format!("blob {}\0", content.len()).as_bytes()).expect("z");
        io::Write::write_all(&mut z, content).expect("z");
        z.finish().expect("finish")
    }

    #[test]
    fn stored_blobs_hash_in_place_as_inflated_ones_do() {
        // Past one stored block (64 KiB), and empty.
        for content in [
            vec![],
            b"hello\n".to_vec(),
            (0..200_000u32).map(|i| i as u8).collect(),
        ] {
            let raw = stored(&content);
            let mut segments = Vec::new();
            let hashes = hash_stored(&raw, &mut segments)
                .expect("stored")
                .expect("hashed");
            assert_eq!(
                hashes.actual_id,
                Oid::hash_object(ObjectType::Blob, &content).expect("id")
            );
            assert_eq!(hashes.sha256, crate::hash::sha256_hex(&content));
            assert_eq!(hashes.len, content.len() as u64);
            let (buf, body, _) = inflate(&mut Decompress::new(true), &raw).expect("inflate");
            assert_eq!(&buf[body..], &content[..]);
        }
        // Deflated: left to inflating.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut z, b"blob 6\0hello\n").expect("z");
        assert!(hash_stored(&z.finish().expect("finish"), &mut Vec::new()).is_none());
    }

    #[test]
    fn damaged_stored_blobs_are_unreadable() {
        let good = stored(b"some content that matters\n");
        let mut segments = Vec::new();
        // A flipped content byte, a flipped Adler-32, a cut-off end.
        let mut flipped = good.clone();
        flipped[12] ^= 1;
        let mut trailer = good.clone();
        let last = trailer.len() - 1;
        trailer[last] ^= 1;
        let mut after = good.clone();
        after.push(0);
        for damaged in [flipped, trailer, good[..good.len() - 2].to_vec(), after] {
            assert!(
                matches!(hash_stored(&damaged, &mut segments), Some(Err(_))),
                "{damaged:?}"
            );
        }
        // A header that claims another length.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
        io::Write::write_all(&mut z, b"blob 9\0hello\n").expect("z");
        let wrong = z.finish().expect("finish");
        assert!(matches!(hash_stored(&wrong, &mut segments), Some(Err(_))));
    }

    #[test]
    fn commits_name_their_tree_and_parents() {
        let data = b"tree 0123456789012345678901234567890123456789\nparent 1123456789012345678901234567890123456789\nparent 2123456789012345678901234567890123456789\nauthor a <a> 1 +0000\n\nparent 3123456789012345678901234567890123456789\n";
        let (tree, parents) = parse_commit(data).expect("parse");
        assert_eq!(tree.to_string(), "0123456789012345678901234567890123456789");
        assert_eq!(parents.len(), 2);
        assert!(parse_commit(b"author a\n").is_err());
        assert!(Tree::parse(b"100644 name\0short").is_err());
        assert!(Tree::parse(b"10x644 name\0aaaaaaaaaaaaaaaaaaaa").is_err());
    }
}
