//! Thread priorities. Where the proxy shares its cores (a laptop running the test suite, a
//! 2-core CI runner), work that can wait — exporting spans, parsing cassettes ahead of the
//! database writer — runs at a lower priority, so the threads it feeds (or the requests it
//! shares the machine with) get a core first. Linux only (`nice` is per thread there);
//! elsewhere a no-op.

/// How far background work is lowered: at nice 10 a thread gets about a tenth of a core that
/// a nice-0 thread also wants, and every idle cycle.
pub const BACKGROUND: i32 = 10;

/// Lowers the calling thread's priority by `steps` nice levels, for the rest of its life: only
/// for a thread of its own (a pooled thread could not be raised back without privileges).
/// Best effort: a failure leaves the priority as it was.
pub fn lower(steps: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on this thread's own id; they only read their arguments.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if now == -1 && *libc::__errno_location() != 0 {
            return;
        }
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + steps).min(19));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = steps;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_thread_lowers_only_itself() {
        // SAFETY: getpriority only reads its arguments.
        let nice =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = nice();
        let lowered = std::thread::spawn(move || {
            super::lower(3);
            nice()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (before + 3).min(19));
        assert_eq!(nice(), before, "the calling thread is untouched");
    }
}
