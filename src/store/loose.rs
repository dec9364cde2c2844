//! Blobs and trees written as loose objects at the zlib level the store's git config names
//! (`core.looseCompression`, git's own setting), which libgit2 does not read: it always
//! deflates at level 1.
//!
//! New stores set the level to 0 (zlib's stored blocks): a verification then re-hashes the
//! bytes without inflating them, at the speed of the hashes rather than of zlib (about four
//! times faster on the benchmark's store), for about three times the disk. `git gc` or
//! `git config core.looseCompression 1` trades that back. The format is git's, so stock git
//! and libgit2 read these objects as any other.

use std::io::Write as _;
use std::path::Path;

use git2::Oid;
use sha1::Digest as _;

use super::Error;

/// Writes `data` as a loose object of `kind` (a blob or a tree) under `objects` at zlib
/// `level` (0–9) unless the object is there already; returns its id. The file appears whole or
/// not at all: it is written under a temporary name in its directory and renamed. With `sync`,
/// it is flushed before the rename.
pub(crate) fn write_object(
    repo: &git2::Repository,
    kind: git2::ObjectType,
    data: &[u8],
    level: u32,
    sync: bool,
) -> Result<Oid, Error> {
    let objects = repo.path().join("objects");
    let header = format!("{kind} {}\0", data.len());
    let mut hasher = sha1::Sha1::new();
    hasher.update(header.as_bytes());
    hasher.update(data);
    let oid = Oid::from_bytes(&hasher.finalize())?;
    let hex = oid.to_string();
    let dir = objects.join(&hex[..2]);
    let path = dir.join(&hex[2..]);
    // Held already, loose or packed (after a `git gc`). A loose file is trusted only if it
    // holds the object: objects are renamed into place before the transaction's one flush, so
    // a power cut can leave a name with no data, which a later capture of the same bytes must
    // replace rather than point at. The lookup skips libgit2's refresh: on a miss it would list
    // the pack directory again, for every new object. A pack written since this handle listed
    // them (by a concurrent `gc --pack`) is missed, and the object written loose beside it,
    // which git allows.
    let mut replace = false;
    if repo
        .odb()?
        .exists_ext(oid, git2::OdbLookupFlags::NO_REFRESH)
    {
        if !path.exists() || holds(&path, oid) {
            return Ok(oid);
        }
        replace = true;
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix("tmp_obj_");
    // Loose objects are read-only, as git makes them (the new file is still open for writing).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o444));
    }
    // The fan-out directory is made only when missing: all 256 exist soon in a store.
    let mut temp = match builder.tempfile_in(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            builder.tempfile_in(&dir)
        }
        created => created,
    }
    .map_err(io(&dir))?;
    DEFLATE
        .with_borrow_mut(|deflate| {
            let deflated = deflate.run(level.min(9), header.as_bytes(), data)?;
            temp.write_all(deflated)
        })
        .map_err(io(&path))?;
    if sync {
        temp.as_file().sync_all().map_err(io(&path))?;
    }
    let persisted = if replace {
        temp.persist(&path).map(|_| ())
    } else {
        temp.persist_noclobber(&path).map(|_| ())
    };
    match persisted {
        Ok(()) => {}
        // Written meanwhile by another process: the same bytes, by their id.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(&path)(e.error)),
    }
    if sync {
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&dir))?;
    }
    Ok(oid)
}

thread_local! {
    /// Each thread's compressor and output buffer, reused from object to object: setting up a
    /// fresh zlib stream (its window and hash tables zeroed) cost more than deflating a 50 KB
    /// page at level 0, and was a tenth of `add`'s time.
    static DEFLATE: std::cell::RefCell<Deflate> = std::cell::RefCell::new(Deflate::default());
}

/// A zlib compressor at some level, with the buffer it deflates into.
#[derive(Default)]
struct Deflate {
    stream: Option<(u32, flate2::Compress)>,
    out: Vec<u8>,
}

impl Deflate {
    /// `header` then `data` as one zlib stream at `level`.
    fn run(&mut self, level: u32, header: &[u8], data: &[u8]) -> std::io::Result<&[u8]> {
        let stream = match &mut self.stream {
            Some((at, stream)) if *at == level => {
                stream.reset();
                stream
            }
            slot => {
                let (_, stream) = slot.insert((
                    level,
                    flate2::Compress::new(flate2::Compression::new(level), true),
                ));
                stream
            }
        };
        self.out.clear();
        // Stored blocks add 5 bytes per 64 KiB; deflated data is rarely larger than that.
        self.out
            .reserve(header.len() + data.len() + data.len() / 16_000 + 64);
        let broken = |e: flate2::CompressError| std::io::Error::other(e);
        for (input, flush) in [
            (header, flate2::FlushCompress::None),
            (data, flate2::FlushCompress::Finish),
        ] {
            let mut input = input;
            loop {
                let before = stream.total_in();
                let status = stream
                    .compress_vec(input, &mut self.out, flush)
                    .map_err(broken)?;
                let read =
                    usize::try_from(stream.total_in() - before).map_err(std::io::Error::other)?;
                input = &input[read..];
                let done = match flush {
                    flate2::FlushCompress::Finish => status == flate2::Status::StreamEnd,
                    _ => input.is_empty(),
                };
                if done {
                    break;
                }
                // Out of room: grow and go on.
                self.out.reserve(self.out.capacity().max(4096));
            }
        }
        Ok(&self.out)
    }
}

/// Whether the loose object file at `path` inflates to an object whose id is `oid`.
fn holds(path: &Path, oid: Oid) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut inflated = flate2::read::ZlibDecoder::new(std::io::BufReader::new(file));
    let mut hasher = sha1::Sha1::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match std::io::Read::read(&mut inflated, &mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(_) => return false,
        }
    }
    Oid::from_bytes(&hasher.finalize()).is_ok_and(|id| id == oid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::ObjectType;

    #[test]
    fn blobs_written_here_are_git_s_at_every_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init_bare(dir.path()).expect("init");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..300_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[3]
            })
            .collect();
        for (level, data) in [
            (0, &b"stored, not deflated\n"[..]),
            (1, b""),
            (9, &[0u8; 100_000][..]),
            // Bytes deflate cannot shrink, larger than the buffer's first guess at every level;
            // and the levels alternate, so a thread's compressor is set up again and reused.
            (9, &noise[..]),
            (0, &noise[..150_001]),
            (1, &noise[..70_000]),
            (1, &noise[..3]),
        ] {
            let oid = write_object(&repo, ObjectType::Blob, data, level, true).expect("write");
            assert_eq!(
                oid,
                git2::Oid::hash_object(git2::ObjectType::Blob, data).expect("id")
            );
            assert_eq!(repo.find_blob(oid).expect("read").content(), data);
            // Written again: nothing changes.
            let again = write_object(&repo, ObjectType::Blob, data, level, false);
            assert_eq!(again.expect("again"), oid);
        }
        let leftovers = std::fs::read_dir(dir.path().join("objects"))
            .expect("objects")
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
            .filter(|f| f.file_name().to_string_lossy().starts_with("tmp_obj_"))
            .count();
        assert_eq!(leftovers, 0);
        // A file under the object's name that does not hold it (a power cut between the rename
        // and the flush) is replaced, not trusted.
        let data = b"captured again after a crash\n";
        let oid = git2::Oid::hash_object(git2::ObjectType::Blob, data).expect("id");
        let hex = oid.to_string();
        let path = dir.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, b"").expect("empty file");
        let again = write_object(&repo, ObjectType::Blob, data, 0, false).expect("write");
        assert_eq!(again, oid);
        assert_eq!(repo.find_blob(oid).expect("read").content(), data);
    }
}
