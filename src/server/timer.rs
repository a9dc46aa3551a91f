//! The header-read deadline of the server's connections ([`super::Limits`]): one deadline slot
//! per connection, armed while the connection waits for a request head (from its start, and
//! from the end of each response) and disarmed once a head has arrived, watched by one
//! process-wide thread that ticks every [`TICK`] while any connection lives.
//!
//! hyper can keep this deadline itself, given a timer: it then makes a boxed sleep each time a
//! connection waits for a head, reads the clock for it, polls it and drops it, once per request
//! on a kept-alive connection. With replay answering in microseconds that was 6-9% of its
//! requests a second (`vcr replay` with and without hyper's timer, side by side, twelfth
//! session); this deadline measured the same as none. Arming is a clock reading and a store
//! into the connection's slot, disarming a store, and a connection that runs out of time is
//! closed up to [`TICK`] late, which no limit counted in seconds notices.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

/// How often deadlines are checked, and so how late a connection may be closed.
pub const TICK: Duration = Duration::from_millis(50);

/// One connection's deadline: what the sweeping thread reads.
#[derive(Default)]
struct Slot {
    /// The armed deadline, in nanoseconds since [`base`] (never 0); 0 when disarmed.
    deadline: AtomicU64,
    /// An armed deadline passed (and the slot was disarmed).
    passed: AtomicBool,
    /// The connection's task, woken when its deadline passes.
    waker: AtomicWaker,
}

/// The slots of every live connection, and the thread that watches them.
struct Slots {
    live: Mutex<Vec<Weak<Slot>>>,
    /// Signalled when the first slot is added: the thread sleeps while there is none.
    added: Condvar,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("traceforge-timer".into())
            .spawn(sweep);
        if spawned.is_err() {
            // No thread: deadlines never pass, as if no limit were set.
            tracing::warn!("the header-read timer could not start a thread; no deadline applies");
        }
        Slots {
            live: Mutex::new(Vec::new()),
            added: Condvar::new(),
        }
    })
}

/// The instant deadlines are counted from.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// `at` as a slot's deadline: nanoseconds since [`base`], at least 1.
fn nanos(at: Instant) -> u64 {
    let nanos = at.saturating_duration_since(base()).as_nanos();
    u64::try_from(nanos).unwrap_or(u64::MAX).max(1)
}

/// The sweeping thread: every tick, marks the deadlines that have passed (waking their
/// connections) and forgets the slots of connections that have ended; waits for a slot while
/// there is none.
fn sweep() {
    let slots = slots();
    loop {
        {
            let Ok(mut live) = slots.live.lock() else {
                return;
            };
            while live.is_empty() {
                live = match slots.added.wait(live) {
                    Ok(live) => live,
                    Err(_) => return,
                };
            }
            let now = nanos(Instant::now());
            live.retain(|slot| {
                let Some(slot) = slot.upgrade() else {
                    return false;
                };
                let deadline = slot.deadline.load(Ordering::Acquire);
                if deadline != 0
                    && deadline <= now
                    && slot
                        .deadline
                        .compare_exchange(deadline, 0, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    slot.passed.store(true, Ordering::Release);
                    slot.waker.wake();
                }
                true
            });
        }
        std::thread::sleep(TICK);
    }
}

/// A connection's deadline (give each connection its own).
pub struct Deadline {
    slot: Arc<Slot>,
}

impl Deadline {
    /// A deadline, disarmed.
    pub fn new() -> Deadline {
        let slot = Arc::new(Slot::default());
        let slots = slots();
        if let Ok(mut live) = slots.live.lock() {
            live.push(Arc::downgrade(&slot));
            if live.len() == 1 {
                slots.added.notify_one();
            }
        }
        Deadline { slot }
    }

    /// Passes `after` from now, unless disarmed or armed again before.
    pub fn arm(&self, after: Duration) {
        self.slot
            .deadline
            .store(nanos(Instant::now() + after), Ordering::Release);
    }

    pub fn disarm(&self) {
        self.slot.deadline.store(0, Ordering::Release);
    }

    /// Resolves once an armed deadline has passed, and takes note that it did (the next
    /// call waits for the next one).
    ///
    /// Polled with the connection at each of its wake-ups, so it registers the task's waker
    /// once: the sweeping thread takes it only when a deadline passes, which the first check
    /// sees.
    pub fn passed(&self) -> impl Future<Output = ()> + '_ {
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(move |cx| {
            let passed = || self.slot.passed.swap(false, Ordering::AcqRel);
            // Read before it is cleared: the flag's line stays shared between polls.
            if self.slot.passed.load(Ordering::Acquire) && passed() {
                return Poll::Ready(());
            }
            if registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            self.slot.waker.register(cx.waker());
            registered = Some(cx.waker().clone());
            match passed() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }
        })
    }
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_armed_deadline_passes_give_or_take_a_tick() {
        let deadline = Deadline::new();
        let started = Instant::now();
        deadline.arm(Duration::from_millis(120));
        deadline.passed().await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(120), "{waited:?}");
        assert!(
            waited < Duration::from_millis(120) + TICK * 20,
            "{waited:?}"
        );
        // Passed once: disarmed, and the next wait is for the next deadline.
        assert_eq!(deadline.slot.deadline.load(Ordering::SeqCst), 0);
        assert!(!deadline.slot.passed.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_disarmed_deadline_never_passes_and_a_later_one_still_does() {
        let deadline = Deadline::new();
        deadline.arm(Duration::from_millis(10));
        deadline.disarm();
        let waited = tokio::time::timeout(TICK * 4, deadline.passed()).await;
        assert!(waited.is_err(), "a disarmed deadline passed");
        // Armed again: the latest arming counts.
        deadline.arm(Duration::from_secs(3600));
        deadline.arm(Duration::from_millis(60));
        let started = Instant::now();
        deadline.passed().await;
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn ended_connections_are_forgotten() {
        let slot = {
            let deadline = Deadline::new();
            Arc::downgrade(&deadline.slot)
        };
        std::thread::sleep(TICK * 4);
        let live = slots().live.lock().unwrap();
        assert!(live.iter().all(|s| !s.ptr_eq(&slot)));
    }
}
