//! The store's writer lock.
//!
//! An OS file lock (`flock`) on `verbatim.lock` in the git directory: the kernel releases it when
//! the holder exits for any reason, `kill -9` included, so a dead run never blocks the next one.
//! The holder's pid is written into the file only to name it in the "waiting" message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Error;

/// Held while a process writes to the store; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Lock {
    /// Takes the lock at `path`, waiting up to `timeout`; `on_wait` is called once, with the
    /// holder's pid if known, when the lock is busy.
    pub(crate) fn acquire(
        path: &Path,
        timeout: Duration,
        on_wait: &mut dyn FnMut(Option<u32>),
    ) -> Result<Lock, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let start = Instant::now();
        let mut warned = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    if !warned {
                        on_wait(holder(&mut file));
                        warned = true;
                    }
                    if start.elapsed() >= timeout {
                        return Err(Error::Locked {
                            path: path.to_path_buf(),
                            pid: holder(&mut file),
                            waited: timeout,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
        // Best effort: the pid only improves a message, the lock itself is the flock.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        Ok(Lock { file })
    }

    /// Whether the lock's file is still open; writers assert it in debug builds.
    pub(crate) fn held(&self) -> bool {
        self.file.metadata().is_ok()
    }
}

fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Removes lock files that libgit2 leaves behind when a writer is killed between creating and
/// renaming them. Called only while holding the store lock, when no other verbatim process can
/// be writing; stock git's own locks are removed only once clearly stale.
pub(crate) fn clear_stale_git_locks(git_dir: &Path) -> Vec<PathBuf> {
    let ours = [git_dir.join("refs/heads/main.lock")];
    let shared = [
        git_dir.join("HEAD.lock"),
        git_dir.join("packed-refs.lock"),
        git_dir.join("config.lock"),
    ];
    let stale_after = Duration::from_secs(600);
    let mut removed = Vec::new();
    for path in ours {
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    for path in shared {
        let old = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > stale_after);
        if old && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}
