//! CPU time, shared by the benchmark examples (`#[path = "cpu.rs"] mod cpu;`):
//! the benchmark machines are shared, and wall time measures the neighbours as much as the code.

/// This thread's CPU time in seconds.
pub fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// The whole process's CPU time in seconds, every thread's together: for work that spreads
/// itself over threads (policy loading), where one thread's time would flatter it.
#[allow(
    dead_code,
    reason = "not every example that includes this file measures threads"
)]
pub fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
