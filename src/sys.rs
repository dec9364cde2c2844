//! The process's memory, below any safe API.
//!
//! [`keep_freed_memory`] changes the whole process, so nothing in the library calls it: the
//! program that owns the process decides (the `verbatim` binary calls it for `diff` only).
//! [`prefault`] touches one buffer only; the library uses it before reading a long file.

/// Has glibc's allocator keep the memory it is given back for reuse, instead of returning it
/// to the kernel: by default each block of 128 KiB or more is a mapping of its own, unmapped
/// when freed, and the top of the heap is trimmed as it empties, so a command that allocates
/// in phases (a diff: tokens, tables, ops) pays a page fault for every page of every phase.
/// Page faults are a large part of a short run (a diff of two 1 MB files: a third fewer
/// faults, 8% less time). For short commands whose peak is what they keep; a long `check` on
/// many threads would keep each thread's peak to its end. Call it before starting threads.
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (under glibc's arena lock); the caller
    // calls it before it starts any thread. A call may fail (it returns 0): the defaults stay.
    unsafe {
        // Blocks up to 32 MiB (glibc's largest threshold) come from the heap and go back to it.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // The heap is trimmed only when 256 MiB lie free at its top.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        // It grows a megabyte at a time (address space only: untouched pages cost nothing).
        libc::mallopt(libc::M_TOP_PAD, 1 << 20);
    }
}

/// Has the kernel back the spare capacity of `buf` with memory now, in one call, rather than a
/// page at a time as it is first written (a fault for every 4 KiB): for a buffer about to be
/// filled whole, a long file read into it (two 5 MB files: 4.2 ms to read, 3.3 with this).
/// Linux 5.14 and later; elsewhere, or if the kernel refuses, the pages fault in as usual.
#[allow(unsafe_code)]
pub fn prefault(buf: &mut Vec<u8>) {
    #[cfg(target_os = "linux")]
    {
        // Only whole pages inside the spare capacity (pages are at least 4 KiB).
        const PAGE: usize = 4096;
        let spare = buf.spare_capacity_mut();
        let start = spare.as_mut_ptr() as usize;
        let first = start.next_multiple_of(PAGE);
        let end = (start + spare.len()) & !(PAGE - 1);
        if end > first {
            // SAFETY: the range lies inside memory the Vec owns and has not initialised.
            // MADV_POPULATE_WRITE only maps its pages in, writable, without writing them: it
            // frees, moves and changes nothing, and on failure (an old kernel) does nothing.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    end - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}
