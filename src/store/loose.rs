//! Blobs written as loose objects at the zlib level the store's git config names
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

/// Writes `data` as a loose blob under `objects` at zlib `level` (0–9) unless the object is
/// there already; returns its id. The file appears whole or not at all: it is written under a
/// temporary name in its directory and renamed. With `sync`, it is flushed before the rename.
pub(crate) fn write_blob(
    repo: &git2::Repository,
    data: &[u8],
    level: u32,
    sync: bool,
) -> Result<Oid, Error> {
    let objects = repo.path().join("objects");
    let header = format!("blob {}\0", data.len());
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
    // replace rather than point at.
    let replace = path.exists();
    if replace {
        if holds(&path, oid) {
            return Ok(oid);
        }
    } else if repo.odb()?.exists(oid) {
        return Ok(oid);
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let temp = tempfile::Builder::new()
        .prefix("tmp_obj_")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    let mut z = flate2::write::ZlibEncoder::new(temp, flate2::Compression::new(level.min(9)));
    z.write_all(header.as_bytes()).map_err(io(&path))?;
    z.write_all(data).map_err(io(&path))?;
    let temp = z.finish().map_err(io(&path))?;
    if sync {
        temp.as_file().sync_all().map_err(io(&path))?;
    }
    // Loose objects are read-only, as git makes them.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o444))
            .map_err(io(&path))?;
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

    #[test]
    fn blobs_written_here_are_git_s_at_every_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init_bare(dir.path()).expect("init");
        for (level, data) in [
            (0, &b"stored, not deflated\n"[..]),
            (1, b""),
            (9, &[0u8; 100_000][..]),
        ] {
            let oid = write_blob(&repo, data, level, true).expect("write");
            assert_eq!(
                oid,
                git2::Oid::hash_object(git2::ObjectType::Blob, data).expect("id")
            );
            assert_eq!(repo.find_blob(oid).expect("read").content(), data);
            // Written again: nothing changes.
            assert_eq!(write_blob(&repo, data, level, false).expect("again"), oid);
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
        let again = write_blob(&repo, data, 0, false).expect("write");
        assert_eq!(again, oid);
        assert_eq!(repo.find_blob(oid).expect("read").content(), data);
    }
}
