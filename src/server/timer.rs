//! The timer hyper's connections use for their header-read deadline ([`super::Limits`]): one
//! deadline slot per connection, watched by one process-wide thread that ticks every
//! [`TICK`] while any connection lives.
//!
//! hyper arms a deadline each time a connection waits for a request head, and drops it once the
//! head is parsed: on a kept-alive connection, once per request. With tokio's timer that was an
//! entry put into and taken out of the runtime's timer wheel, under its lock, for every request
//! (about 3% of a replayed request's instructions, `benches/instructions.sh`). Here arming is
//! an atomic store into the connection's slot, and the deadlines are checked a tick at a time:
//! a connection that runs out of time is closed up to [`TICK`] late, which no limit counted in
//! seconds notices.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

/// How often deadlines are checked, and so how late a connection may be closed.
pub const TICK: Duration = Duration::from_millis(50);

/// One connection's deadline: what the sweeping thread reads.
#[derive(Default)]
struct Slot {
    /// The armed deadline, in nanoseconds since [`base`] (never 0); 0 when disarmed.
    deadline: AtomicU64,
    /// The last deadline that passed: a sleep for it is over.
    fired: AtomicU64,
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

/// The sweeping thread: every tick, fires the deadlines that have passed and forgets the slots
/// of connections that have ended; waits for a slot while there is none.
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
                let deadline = slot.deadline.load(Ordering::SeqCst);
                if deadline != 0
                    && deadline <= now
                    && slot
                        .deadline
                        .compare_exchange(deadline, 0, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                {
                    slot.fired.store(deadline, Ordering::SeqCst);
                    slot.waker.wake();
                }
                true
            });
        }
        std::thread::sleep(TICK);
    }
}

/// A connection's timer (give each connection its own: it holds the connection's slot).
pub struct Timer {
    slot: Arc<Slot>,
}

impl Timer {
    pub fn new() -> Timer {
        let slot = Arc::new(Slot::default());
        let slots = slots();
        if let Ok(mut live) = slots.live.lock() {
            live.push(Arc::downgrade(&slot));
            if live.len() == 1 {
                slots.added.notify_one();
            }
        }
        Timer { slot }
    }
}

impl Default for Timer {
    fn default() -> Self {
        Timer::new()
    }
}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep {
            slot: self.slot.clone(),
            deadline: nanos(deadline),
        })
    }
}

/// A wait for one deadline of a connection's slot. A connection waits for one deadline at a
/// time; a newer sleep replaces an older one's deadline.
struct Sleep {
    slot: Arc<Slot>,
    deadline: u64,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let slot = &self.slot;
        if slot.fired.load(Ordering::SeqCst) == self.deadline {
            return Poll::Ready(());
        }
        slot.waker.register(cx.waker());
        slot.deadline.store(self.deadline, Ordering::SeqCst);
        // Fired between the first check and the store: the store re-armed a passed deadline,
        // which the next tick fires again, harmlessly.
        match slot.fired.load(Ordering::SeqCst) == self.deadline {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

impl hyper::rt::Sleep for Sleep {}

impl Drop for Sleep {
    fn drop(&mut self) {
        // Disarmed, unless a newer sleep armed its own deadline since.
        let _ = self.slot.deadline.compare_exchange(
            self.deadline,
            0,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    #[tokio::test]
    async fn a_sleep_ends_at_its_deadline_give_or_take_a_tick() {
        let timer = Timer::new();
        let started = Instant::now();
        timer.sleep(Duration::from_millis(120)).await;
        let slept = started.elapsed();
        assert!(slept >= Duration::from_millis(120), "{slept:?}");
        assert!(slept < Duration::from_millis(120) + TICK * 20, "{slept:?}");
    }

    #[tokio::test]
    async fn a_dropped_sleep_is_disarmed_and_a_later_one_still_ends() {
        let timer = Timer::new();
        {
            let mut early = timer.sleep(Duration::from_millis(10));
            // Polled once (armed), then dropped before its deadline.
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(early.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(timer.slot.deadline.load(Ordering::SeqCst), 0);
        tokio::time::sleep(TICK * 3).await;
        assert_eq!(
            timer.slot.fired.load(Ordering::SeqCst),
            0,
            "a dropped sleep fired"
        );
        let started = Instant::now();
        timer.sleep(Duration::from_millis(60)).await;
        assert!(started.elapsed() >= Duration::from_millis(60));
    }

    #[test]
    fn ended_connections_are_forgotten() {
        let slot = {
            let timer = Timer::new();
            Arc::downgrade(&timer.slot)
        };
        std::thread::sleep(TICK * 4);
        let live = slots().live.lock().unwrap();
        assert!(live.iter().all(|s| !s.ptr_eq(&slot)));
    }
}
