//! Reading a directory tree that someone else made (a BagIt bag) without ever leaving it.
//!
//! Every file and directory is opened relative to its parent's handle (`openat`) with
//! `O_NOFOLLOW`, so a symbolic link anywhere on a path is refused rather than followed, and no
//! path is resolved twice: there is no window between a check and an open in which a directory
//! could be swapped for a link. A name is looked at (`lstat`) before it is opened, so a named
//! pipe or a device is never opened at all; files are opened non-blocking even so, in case one
//! is swapped in meanwhile, and must still be regular files once open (`fstat`).

use std::fs::File;
use std::io::{self, Read as _};
#[cfg(not(unix))]
use std::path::PathBuf;
use std::path::{Component, Path};

/// Why a path of the tree was not opened.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Nothing by that name.
    Missing,
    /// The path leads out of the tree: an absolute path, `..`, or a symbolic link on the way or
    /// at its end; what it is, in words.
    Outside(&'static str),
    /// Not a regular file (or, on the way, not a directory): what it is, in words.
    NotFile(&'static str),
    /// Larger than the limit asked: its size in bytes.
    TooLarge(u64),
    /// It could not be opened or read.
    Io(io::Error),
}

/// What a name in a directory is, as `lstat` sees it (links are not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file, of this many bytes.
    File(u64),
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// Anything else (a named pipe, a device, a socket): what it is, in words.
    Other(&'static str),
}

impl Kind {
    /// Nothing but a regular file may be opened as one.
    fn require_file(self) -> Result<(), Refusal> {
        match self {
            Kind::File(_) => Ok(()),
            Kind::Link => Err(Refusal::Outside("a symbolic link")),
            Kind::Dir => Err(Refusal::NotFile("a directory")),
            Kind::Other(what) => Err(Refusal::NotFile(what)),
        }
    }
}

/// An open directory of the tree, from which paths below it are opened.
#[derive(Debug)]
pub(crate) struct Dir {
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
    /// Without `openat`, paths are resolved from here, each component checked with `lstat`
    /// first (which leaves a window a link could be swapped into).
    #[cfg(not(unix))]
    path: PathBuf,
}

/// The components of a relative path, checked to stay below its directory.
fn components(rel: &str) -> Result<Vec<&str>, Refusal> {
    if rel.starts_with('/') || rel.starts_with('\\') || Path::new(rel).is_absolute() {
        return Err(Refusal::Outside("an absolute path"));
    }
    let mut out = Vec::new();
    for part in Path::new(rel).components() {
        match part {
            Component::Normal(name) => match name.to_str() {
                Some(name) => out.push(name),
                None => return Err(Refusal::Missing),
            },
            Component::CurDir => {}
            _ => return Err(Refusal::Outside("a path that climbs out of the bag")),
        }
    }
    if out.is_empty() {
        return Err(Refusal::Missing);
    }
    Ok(out)
}

impl Dir {
    /// Opens the directory at `path` (itself not a symbolic link) as the top of a tree.
    pub fn open(path: &Path) -> io::Result<Dir> {
        #[cfg(unix)]
        {
            use rustix::fs::{CWD, Mode, OFlags};
            let fd = rustix::fs::openat(
                CWD,
                path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Dir { fd })
        }
        #[cfg(not(unix))]
        {
            if !std::fs::symlink_metadata(path)?.is_dir() {
                return Err(io::ErrorKind::NotADirectory.into());
            }
            Ok(Dir {
                path: path.to_path_buf(),
            })
        }
    }

    /// Opens the directory at `rel`.
    pub fn open_dir(&self, rel: &str) -> Result<Dir, Refusal> {
        let parts = components(rel)?;
        self.descend(&parts)?.ok_or(Refusal::Missing)
    }

    /// Opens the regular file at `rel`; returns it with its size.
    pub fn open_file(&self, rel: &str) -> Result<(File, u64), Refusal> {
        let parts = components(rel)?;
        let (last, on_the_way) = parts.split_last().ok_or(Refusal::Missing)?;
        let parent = self.descend(on_the_way)?;
        parent.as_ref().unwrap_or(self).file(last)
    }

    /// Reads the regular file at `rel` whole, refusing it unread when it is larger than `limit`
    /// bytes (and reading no more than that if it grows meanwhile).
    pub fn read_file(&self, rel: &str, limit: u64) -> Result<Vec<u8>, Refusal> {
        let (file, size) = self.open_file(rel)?;
        if size > limit {
            return Err(Refusal::TooLarge(size));
        }
        let mut out = Vec::new();
        // One byte past the limit tells a file that grew past it since it was measured.
        file.take(limit + 1)
            .read_to_end(&mut out)
            .map_err(Refusal::Io)?;
        if out.len() as u64 > limit {
            return Err(Refusal::TooLarge(out.len() as u64));
        }
        Ok(out)
    }

    /// The directory reached by `parts` below this one; `None` for this one itself.
    fn descend(&self, parts: &[&str]) -> Result<Option<Dir>, Refusal> {
        let mut at: Option<Dir> = None;
        for part in parts {
            let next = at.as_ref().unwrap_or(self).dir(part)?;
            at = Some(next);
        }
        Ok(at)
    }

    /// Every name in this directory but `.` and `..`, with what it is, sorted by name. Names
    /// that are not UTF-8 are skipped: no manifest line can name them.
    pub fn entries(&self) -> io::Result<Vec<(String, Kind)>> {
        let mut names = Vec::new();
        #[cfg(unix)]
        {
            for entry in rustix::fs::Dir::read_from(&self.fd)? {
                let entry = entry?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                if let Ok(name) = std::str::from_utf8(name) {
                    names.push(name.to_owned());
                }
            }
        }
        #[cfg(not(unix))]
        for entry in std::fs::read_dir(&self.path)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match self.kind_of(&name) {
                Ok(kind) => out.push((name, kind)),
                // Removed while listed.
                Err(Refusal::Missing) => {}
                Err(Refusal::Io(e)) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(out)
    }
}

#[cfg(unix)]
impl Dir {
    /// What `name` in this directory is, as `lstat` sees it.
    fn kind_of(&self, name: &str) -> Result<Kind, Refusal> {
        use rustix::fs::{AtFlags, FileType};
        let stat = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| refusal(e.into()))?;
        Ok(
            match FileType::from_raw_mode(stat.st_mode as rustix::fs::RawMode) {
                FileType::RegularFile => Kind::File(u64::try_from(stat.st_size).unwrap_or(0)),
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Link,
                other => Kind::Other(other_name(other)),
            },
        )
    }

    /// Opens the directory `name` in this one.
    fn dir(&self, name: &str) -> Result<Dir, Refusal> {
        use rustix::fs::{Mode, OFlags};
        match self.kind_of(name)? {
            Kind::Dir => {}
            Kind::Link => return Err(Refusal::Outside("a symbolic link")),
            Kind::File(_) => return Err(Refusal::Missing),
            Kind::Other(what) => return Err(Refusal::NotFile(what)),
        }
        // NOFOLLOW again: the name may have become a link since it was looked at.
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Dir { fd }),
            Err(e) => Err(self.refused_open(name, e.into())),
        }
    }

    /// Opens the regular file `name` in this one, with its size.
    fn file(&self, name: &str) -> Result<(File, u64), Refusal> {
        use rustix::fs::{FileType, Mode, OFlags};
        self.kind_of(name)?.require_file()?;
        // Non-blocking so that a named pipe swapped in since cannot stall the open, and no
        // terminal swapped in can become the controlling one.
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| self.refused_open(name, e.into()))?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| Refusal::Io(e.into()))?;
        match FileType::from_raw_mode(stat.st_mode as rustix::fs::RawMode) {
            FileType::RegularFile => Ok((File::from(fd), u64::try_from(stat.st_size).unwrap_or(0))),
            FileType::Directory => Err(Refusal::NotFile("a directory")),
            other => Err(Refusal::NotFile(other_name(other))),
        }
    }

    /// Why opening `name` failed: a link swapped in since it was looked at is refused as one.
    fn refused_open(&self, name: &str, e: io::Error) -> Refusal {
        match self.kind_of(name) {
            Ok(Kind::Link) => Refusal::Outside("a symbolic link"),
            _ => refusal(e),
        }
    }
}

/// What a file type other than a file, a directory or a link is, in words.
#[cfg(unix)]
fn other_name(kind: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match kind {
        FileType::Fifo => "a named pipe",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Socket => "a socket",
        _ => "not a regular file",
    }
}

#[cfg(not(unix))]
impl Dir {
    fn kind_of(&self, name: &str) -> Result<Kind, Refusal> {
        let meta = std::fs::symlink_metadata(self.path.join(name)).map_err(refusal)?;
        let kind = meta.file_type();
        Ok(if kind.is_symlink() {
            Kind::Link
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_file() {
            Kind::File(meta.len())
        } else {
            Kind::Other("not a regular file")
        })
    }

    fn dir(&self, name: &str) -> Result<Dir, Refusal> {
        match self.kind_of(name)? {
            Kind::Dir => Ok(Dir {
                path: self.path.join(name),
            }),
            Kind::Link => Err(Refusal::Outside("a symbolic link")),
            Kind::File(_) => Err(Refusal::Missing),
            Kind::Other(what) => Err(Refusal::NotFile(what)),
        }
    }

    fn file(&self, name: &str) -> Result<(File, u64), Refusal> {
        self.kind_of(name)?.require_file()?;
        let file = File::open(self.path.join(name)).map_err(refusal)?;
        let meta = file.metadata().map_err(Refusal::Io)?;
        if !meta.is_file() {
            return Err(Refusal::NotFile("not a regular file"));
        }
        Ok((file, meta.len()))
    }
}

/// An error from looking at or opening a name, as a refusal.
fn refusal(e: io::Error) -> Refusal {
    match e.kind() {
        // A file where a directory was expected on the way: no such path.
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::Missing,
        _ => Refusal::Io(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_pipes_and_climbing_paths_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("data")).expect("mkdir");
        std::fs::write(root.join("data/a"), "a").expect("write");
        std::os::unix::fs::symlink("/etc", root.join("data/out")).expect("symlink");
        std::os::unix::fs::symlink(root.join("data/a"), root.join("link")).expect("symlink");
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let top = Dir::open(root).expect("open");
        assert_eq!(top.read_file("data/a", 10).expect("read"), b"a");
        assert!(matches!(
            top.read_file("data/a", 0),
            Err(Refusal::TooLarge(1))
        ));
        assert!(matches!(
            top.open_file("data/out/passwd"),
            Err(Refusal::Outside("a symbolic link"))
        ));
        assert!(matches!(
            top.open_file("link"),
            Err(Refusal::Outside("a symbolic link"))
        ));
        assert!(matches!(
            top.open_file("pipe"),
            Err(Refusal::NotFile("a named pipe"))
        ));
        assert!(matches!(
            top.open_file("data/../../etc/passwd"),
            Err(Refusal::Outside(_))
        ));
        assert!(matches!(
            top.open_file("/etc/passwd"),
            Err(Refusal::Outside(_))
        ));
        assert!(matches!(top.open_file("data/a/b"), Err(Refusal::Missing)));
        assert!(matches!(top.open_file("nothing"), Err(Refusal::Missing)));
        let names: Vec<_> = top.entries().expect("entries");
        assert_eq!(
            names,
            vec![
                ("data".to_owned(), Kind::Dir),
                ("link".to_owned(), Kind::Link),
                ("pipe".to_owned(), Kind::Other("a named pipe")),
            ]
        );
    }
}
