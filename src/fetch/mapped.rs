//! Long local files mapped rather than read, for a comparison that needs only their bytes (a
//! patch of two files).
//!
//! Reading a file copies it into fresh memory, and each fresh page is a fault the kernel fills
//! with zeros first: for two 5 MB files that was more than the whole line diff (a patch took
//! 40% longer than with the files mapped). A mapping shows the page cache as it is, so it is
//! lent only as bytes, never as a `str`: another process can rewrite the file while it is
//! mapped, and what was checked of it (that it is UTF-8) may then stop holding; bytes promise
//! nothing that a rewrite can break. A file truncated while mapped would raise `SIGBUS` on
//! reading past its new end; on Linux the `guard` turns that page into zeros instead, so the
//! comparison ends on what it read and [`Mapped::changed`] tells the caller (as it does for a
//! page the disk failed to give).

use std::path::Path;

use super::{Error, open_regular};

/// Files shorter than this are read: under it the faults of mapping cost about what reading
/// saves (measured when mapping was first added).
const MAP_FROM: u64 = 64 << 10;

/// A local file's bytes, mapped read-only.
pub struct Mapped {
    map: memmap2::Mmap,
    /// The file, to ask afterwards whether it changed.
    file: std::fs::File,
    /// Its length and modification time when it was mapped.
    seen: (u64, Option<std::time::SystemTime>),
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapped")
            .field("len", &self.map.len())
            .finish()
    }
}

impl Mapped {
    /// Maps the regular file at `path`, refusing what [`super::read_file`] refuses (not a
    /// regular file, longer than `max_bytes`). `Ok(None)`: read it instead — it is short, this
    /// is not Linux (no guard), two files are mapped already, or the mapping failed.
    pub fn open(path: &Path, max_bytes: u64) -> Result<Option<Mapped>, Error> {
        let (file, meta) = open_regular(path)?;
        let too_large = || Error::TooLarge {
            locator: path.display().to_string(),
            limit: max_bytes,
        };
        if meta.len() > max_bytes {
            return Err(too_large());
        }
        if meta.len() < MAP_FROM || !cfg!(target_os = "linux") {
            return Ok(None);
        }
        // SAFETY: the mapping is read-only and lent out only as bytes; another process
        // rewriting the file changes them under the caller, which the module's contract
        // accepts, and truncating it is caught by the guard below before any read.
        let Ok(map) = (unsafe { memmap2::Mmap::map(&file) }) else {
            return Ok(None);
        };
        // The file may have grown between the check and the mapping.
        if map.len() as u64 > max_bytes {
            return Err(too_large());
        }
        #[cfg(target_os = "linux")]
        if !guard::watch(map.as_ptr() as usize, map.len()) {
            return Ok(None);
        }
        let seen = (meta.len(), meta.modified().ok());
        Ok(Some(Mapped { map, file, seen }))
    }

    /// Whether the file changed since it was mapped (its length or modification time), or a
    /// page of it could not be read (a bus error: the file cut short, or the disk failing
    /// under it, which changes neither): the bytes compared may then be neither the old file
    /// nor the new one.
    pub fn changed(&self) -> Result<bool, std::io::Error> {
        #[cfg(target_os = "linux")]
        if guard::faulted(self.map.as_ptr() as usize) {
            return Ok(true);
        }
        let meta = self.file.metadata()?;
        Ok((meta.len(), meta.modified().ok()) != self.seen)
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        guard::forget(self.map.as_ptr() as usize);
    }
}

/// Turns a bus error in a mapped file (read past the end of a file truncated while mapped) into
/// a page of zeros, so the read goes on; any other bus error goes to the handler that was there
/// before (std's, which tells a stack overflow).
#[cfg(target_os = "linux")]
mod guard {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Start and end addresses of the mapped files: a patch maps at most two.
    static RANGES: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];
    /// Whether a page of the file in each slot read as zeros instead of its bytes.
    static FAULTED: [AtomicBool; 2] = [const { AtomicBool::new(false) }; 2];
    /// The page size, read before the handler can run (sysconf is not async-signal-safe).
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    /// The handler before ours.
    static PREVIOUS: std::sync::OnceLock<Previous> = std::sync::OnceLock::new();

    struct Previous(libc::sigaction);
    // SAFETY: a plain C struct of a handler address, flags and a mask, only read once stored.
    unsafe impl Sync for Previous {}
    // SAFETY: as above.
    unsafe impl Send for Previous {}

    /// Watches `len` bytes at `start`; false when both slots are taken.
    pub(super) fn watch(start: usize, len: usize) -> bool {
        PREVIOUS.get_or_init(install);
        for slot in [0, 2] {
            if RANGES[slot]
                .compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                FAULTED[slot / 2].store(false, Ordering::SeqCst);
                RANGES[slot + 1].store(start + len, Ordering::SeqCst);
                return true;
            }
        }
        false
    }

    /// Whether a page of the mapping at `start` read as zeros.
    pub(super) fn faulted(start: usize) -> bool {
        [0, 2].iter().any(|&slot| {
            RANGES[slot].load(Ordering::SeqCst) == start && FAULTED[slot / 2].load(Ordering::SeqCst)
        })
    }

    /// Stops watching the mapping at `start` (before it is unmapped).
    pub(super) fn forget(start: usize) {
        for slot in [0, 2] {
            if RANGES[slot].load(Ordering::SeqCst) == start {
                RANGES[slot + 1].store(0, Ordering::SeqCst);
                RANGES[slot].store(0, Ordering::SeqCst);
            }
        }
    }

    fn install() -> Previous {
        // SAFETY: sysconf is called outside any handler.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        PAGE.store(usize::try_from(page).unwrap_or(4096), Ordering::SeqCst);
        // SAFETY: zeroed sigactions with an empty mask are valid arguments; the handler makes
        // only calls that are async-signal-safe on Linux (mmap, write, _exit, sigaction).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_bus as extern "C" fn(_, _, _) as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGBUS, &action, &mut previous);
            Previous(previous)
        }
    }

    extern "C" fn on_bus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let at = unsafe { (*info).si_addr() } as usize;
        let ours = [0, 2].into_iter().find(|&slot| {
            let start = RANGES[slot].load(Ordering::SeqCst);
            start != 0 && (start..RANGES[slot + 1].load(Ordering::SeqCst)).contains(&at)
        });
        if let Some(slot) = ours {
            // Atomic stores are async-signal-safe.
            FAULTED[slot / 2].store(true, Ordering::SeqCst);
            let page = PAGE.load(Ordering::SeqCst);
            let base = at & !(page - 1);
            // SAFETY: the page lies inside a mapping this process made and still holds (it is
            // watched until it is unmapped); replacing it with a private page of zeros changes
            // what the bytes read, never memory anything else owns. On return the faulting
            // read runs again and reads zeros.
            let zeros = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros != libc::MAP_FAILED {
                return;
            }
            const MESSAGE: &[u8] = b"verbatim: error: a file being compared was truncated \
                while it was read; run the diff again\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is static.
            unsafe {
                libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
                libc::_exit(4);
            }
        }
        // Not ours: the previous handler back, and the faulting access, retried on return,
        // goes to it.
        if let Some(Previous(previous)) = PREVIOUS.get() {
            // SAFETY: restoring the action the kernel gave us.
            unsafe { libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()) };
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::Mapped;

    /// A file truncated while mapped reads as zeros past its new end (no SIGBUS), and says it
    /// changed; the slot it held is free again once it is dropped.
    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("long.txt");
        std::fs::write(&path, vec![b'x'; 256 << 10]).expect("write");
        for _ in 0..3 {
            let map = Mapped::open(&path, u64::MAX)
                .expect("open")
                .expect("long enough to map");
            assert!(!map.changed().expect("stat"));
            std::fs::write(&path, b"short").expect("truncate");
            let bytes: &[u8] = &map;
            assert_eq!(&bytes[..5], b"short");
            assert!(bytes[64 << 10..].iter().all(|&b| b == 0));
            assert!(map.changed().expect("stat"));
            drop(map);
            std::fs::write(&path, vec![b'x'; 256 << 10]).expect("write");
        }
        // A page that could not be read is a change even when the file looks as it did (an
        // I/O error changes neither its length nor its time): cut short, read, and put back
        // as it was.
        let map = Mapped::open(&path, u64::MAX)
            .expect("open")
            .expect("mapped");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open for writing");
        let modified = file.metadata().expect("stat").modified().expect("mtime");
        file.set_len(4096).expect("truncate");
        assert!(map[200 << 10..].iter().all(|&b| b == 0));
        file.set_len(256 << 10).expect("extend");
        file.set_modified(modified).expect("set mtime");
        assert!(map.changed().expect("stat"));
        drop(map);
        let map = Mapped::open(&path, u64::MAX)
            .expect("open")
            .expect("mapped");
        assert!(!map.changed().expect("stat"), "a new mapping starts clean");
        drop(map);
        // Short files are read, not mapped.
        std::fs::write(&path, b"short").expect("write");
        assert!(Mapped::open(&path, u64::MAX).expect("open").is_none());
        assert!(Mapped::open(&path, 2).is_err());
    }
}
