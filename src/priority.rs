//! Thread priorities. Where the proxy shares its cores (a laptop running the test suite, a
//! 2-core CI runner), work that can wait — exporting spans, parsing cassettes ahead of the
//! database writer — runs at a lower priority, so the threads it feeds (or the requests it
//! shares the machine with) get a core first. Linux only (`nice` is per thread there);
//! elsewhere a no-op.

/// How far background work is lowered: at nice 10 a thread gets about a tenth of a core that
/// a nice-0 thread also wants, and every idle cycle.
pub const BACKGROUND: i32 = 10;

/// The slice a [`background`] thread runs for before a waking thread may take its core (Linux
/// 6.12 and later; older kernels ignore it). At the default slice (0.75 ms times 1 + log2 of the
/// cores), the scheduler lets a running thread finish its slice before a thread just woken
/// (a proxy's worker, its answer arrived) gets the core, whatever their nice values: on two
/// cores where the trace writer runs most of the time, that was the tail of a recorded
/// request's latency. The shortest slice the kernel takes.
pub const BACKGROUND_SLICE_NANOS: u64 = 100_000;

/// Lowers the calling thread's priority by `steps` nice levels, for the rest of its life: only
/// for a thread of its own (a pooled thread could not be raised back without privileges).
/// Best effort: a failure leaves the priority as it was.
pub fn lower(steps: i32) {
    set(steps, None);
}

/// [`lower`] by [`BACKGROUND`], in slices of [`BACKGROUND_SLICE_NANOS`]: for work that runs
/// for long stretches beside requests being answered (writing traces and cassettes). Not for
/// the OTLP exporter: in short slices it cost replay throughput with every telemetry on about
/// a tenth (benches/ops.sh's all-on row, interleaved rounds), where it gave no latency back.
pub fn background() {
    set(BACKGROUND, Some(BACKGROUND_SLICE_NANOS));
}

fn set(steps: i32, slice: Option<u64>) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on this thread's own id; they only read their arguments (and
    // `attr`, which lives across the call).
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if now == -1 && *libc::__errno_location() != 0 {
            return;
        }
        let nice = (now + steps).min(19);
        if let Some(slice) = slice {
            let attr = libc::sched_attr {
                size: std::mem::size_of::<libc::sched_attr>() as u32,
                sched_policy: libc::SCHED_OTHER as u32,
                sched_flags: 0,
                sched_nice: nice,
                sched_priority: 0,
                sched_runtime: slice,
                sched_deadline: 0,
                sched_period: 0,
            };
            if libc::syscall(libc::SYS_sched_setattr, tid, &attr as *const _, 0) == 0 {
                return;
            }
        }
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (steps, slice);
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

    #[test]
    fn a_background_thread_runs_in_short_slices_where_the_kernel_has_them() {
        // The slice as the kernel reports it: 0 before Linux 6.12 (no slices to set).
        fn slice() -> u64 {
            // SAFETY: sched_getattr writes at most `size` bytes into `attr`.
            unsafe {
                let mut attr: libc::sched_attr = std::mem::zeroed();
                let size = std::mem::size_of::<libc::sched_attr>() as u32;
                let tid = libc::gettid();
                let got = libc::syscall(libc::SYS_sched_getattr, tid, &mut attr as *mut _, size, 0);
                assert_eq!(got, 0, "sched_getattr: {}", std::io::Error::last_os_error());
                attr.sched_runtime
            }
        }
        let (before, after, lowered) = std::thread::spawn(|| {
            let before = slice();
            super::background();
            let after = slice();
            super::lower(1);
            (before, after, slice())
        })
        .join()
        .unwrap();
        match before {
            0 => assert_eq!(after, 0),
            _ => assert_eq!(
                after,
                super::BACKGROUND_SLICE_NANOS,
                "default slice {before} ns"
            ),
        }
        assert_eq!(lowered, after, "lower changes the nice value only");
    }
}
