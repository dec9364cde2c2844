//! Settings of the process that a program opts into, below any safe API.
//!
//! Nothing in the library calls these: they change the whole process, so the program that owns
//! the process decides (the `verbatim` binary calls [`keep_freed_memory`] for `diff` only).

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
