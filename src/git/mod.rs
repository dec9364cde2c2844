//! What verbatim needs from git below `git2`'s safe API: libgit2's process-wide settings,
//! chosen once, and flushing a repository's writes to disk.
//!
//! libgit2 keeps its options (object cache limits, hash verification, fsync) in globals that
//! every handle of the process shares. Changing one per call, as the store once did around each
//! transaction, let two transactions in one process race: one could turn fsync off while the
//! other moved its branch. So the options are set here, once, before the first repository is
//! opened, and never changed afterwards; a transaction's durability is its own (see
//! [`Durability`]).

use std::path::Path;

/// How a store's writes reach the disk. Fixed per process, by platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// libgit2 writes without fsync; a transaction flushes the whole file system once before
    /// its branch moves and once after ([`sync_filesystem`]): one call instead of an fsync per
    /// object (30,000 of them for a check of 10,000 sources). Linux, where `syncfs` exists.
    FlushAtCommit,
    /// libgit2 fsyncs every object and ref it writes, and verbatim's own object writer fsyncs
    /// each file and its directory.
    FsyncEachFile,
}

/// The durability of this platform.
pub(crate) const DURABILITY: Durability = if cfg!(target_os = "linux") {
    Durability::FlushAtCommit
} else {
    Durability::FsyncEachFile
};

/// Applies libgit2's process-wide settings, once, whatever calls it first. Every entry to the
/// store and to `verify` calls it before opening a repository.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Initialise libgit2 before touching its global options.
        let _ = git2::Version::get();
        set_libgit2_fsync(DURABILITY == Durability::FsyncEachFile);
        // The `sources/` and `sources/aa/` trees are a few KB each, over libgit2's default
        // 4 KB cache limit for trees, so every path lookup re-read and re-hashed them: most of
        // the time of loading 10,000 sources went there.
        // SAFETY: libgit2's global options are not synchronised; this runs once, inside the
        // `Once`, before any repository of this process is opened by verbatim.
        let _ = unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20) };
        // Re-hashing every object read with collision-detecting SHA-1 cost a third of read
        // time. zlib's checksum still catches damaged objects on read, and `verify` checks
        // every byte stream against its recorded SHA-256.
        git2::opts::strict_hash_verification(false);
    });
}

fn set_libgit2_fsync(enabled: bool) {
    let on = std::ffi::c_int::from(enabled);
    // SAFETY: this option takes exactly one int argument and only sets a global flag that
    // libgit2 reads when it next writes a file; it is called once, from `init`'s `Once`.
    unsafe {
        libgit2_sys::git_libgit2_opts(
            libgit2_sys::GIT_OPT_ENABLE_FSYNC_GITDIR as std::ffi::c_int,
            on,
        );
    }
}

/// Flushes the file system holding `dir`: every file written on it so far is on disk when this
/// returns.
#[cfg(target_os = "linux")]
pub(crate) fn sync_filesystem(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let handle = std::fs::File::open(dir)?;
    // SAFETY: syncfs only reads the descriptor, which `handle` keeps open for the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Where there is no `syncfs`, libgit2 and verbatim fsync each file as they write it
/// ([`Durability::FsyncEachFile`]): nothing is left to flush.
#[cfg(not(target_os = "linux"))]
pub(crate) fn sync_filesystem(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
