//! A value per thread, found through a thread-local list: for what many threads hand to one
//! collector (the spans the OTLP exporter sends: each thread appends to its own under a lock
//! that only it and the collector take, and the collector visits them all), and for what each
//! thread keeps for itself (the proxy's per-path cache). One value shared by the proxy's
//! threads passed its lock's cache line, and the ones its data and reference counts were in,
//! from core to core at every request. (The log's lines tried it too and measured no gain:
//! they keep one buffer.)

use std::any::Any;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

/// What the collector empties: a value whose thread has ended is let go once it is empty.
pub trait Gathered: Default + Send + 'static {
    fn is_empty(&self) -> bool;
}

/// One `T` per thread that uses it, found through a thread-local list. An ended thread's
/// value is let go by `each` (once empty) or with the `PerThread`: one that no collector
/// visits suits a fixed set of threads, such as a runtime's workers.
pub struct PerThread<T> {
    all: Mutex<Vec<Arc<Mutex<T>>>>,
}

thread_local! {
    /// This thread's value in each `PerThread` it used, by the `PerThread`'s address. The
    /// `PerThread` holds the other reference: an entry with one is of a `PerThread` gone (and
    /// a new one may have its address), dropped at the next lookup.
    static MINE: RefCell<Vec<(usize, Arc<dyn Any + Send + Sync>)>> =
        const { RefCell::new(Vec::new()) };
}

impl<T: Default + Send + 'static> Default for PerThread<T> {
    fn default() -> PerThread<T> {
        PerThread::new()
    }
}

impl<T: Default + Send + 'static> PerThread<T> {
    pub const fn new() -> PerThread<T> {
        PerThread {
            all: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on the calling thread's value, made at its first use; `None` when a lock was
    /// poisoned, or when `f` of another `PerThread` met its first use here.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let address = std::ptr::from_ref(self) as usize;
        MINE.with(|mine| {
            // Found, the value is used in place: no reference taken, none dropped.
            if let Ok(list) = mine.try_borrow() {
                let found = list
                    .iter()
                    .find(|(a, value)| *a == address && Arc::strong_count(value) > 1)
                    .and_then(|(_, value)| (**value).downcast_ref::<Mutex<T>>());
                if let Some(value) = found {
                    return Some(f(&mut *value.lock().ok()?));
                }
            }
            let value = self.add(&mut *mine.try_borrow_mut().ok()?)?;
            let mut value = value.lock().ok()?;
            Some(f(&mut value))
        })
    }

    /// The calling thread's value, new, in both lists (`mine` is the thread's).
    fn add(&self, mine: &mut Vec<(usize, Arc<dyn Any + Send + Sync>)>) -> Option<Arc<Mutex<T>>> {
        let address = std::ptr::from_ref(self) as usize;
        mine.retain(|(_, value)| Arc::strong_count(value) > 1);
        let value = Arc::new(Mutex::new(T::default()));
        self.all.lock().ok()?.push(value.clone());
        mine.push((address, value.clone()));
        Some(value)
    }

    /// How many threads' values there are.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.all.lock().map_or(0, |all| all.len())
    }
}

impl<T: Gathered> PerThread<T> {
    /// Runs `f` on every thread's value in turn, in the order the threads first used it,
    /// until it returns `false`; then lets go of those whose thread has ended and that are
    /// empty.
    pub fn each(&self, mut f: impl FnMut(&mut T) -> bool) {
        let Ok(mut all) = self.all.lock() else {
            return;
        };
        for value in all.iter() {
            let Ok(mut value) = value.lock() else {
                continue;
            };
            if !f(&mut value) {
                break;
            }
        }
        all.retain(|value| {
            Arc::strong_count(value) > 1 || value.lock().map_or(true, |v| !v.is_empty())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Gathered for Vec<u32> {
        fn is_empty(&self) -> bool {
            self.as_slice().is_empty()
        }
    }

    /// Each thread gets a value of its own, the collector sees them all in the order the
    /// threads came, a value of an ended thread goes once emptied, and a new `PerThread` at
    /// a gone one's address starts afresh.
    #[test]
    fn each_thread_has_its_own_value_and_the_collector_sees_them_all() {
        let values = PerThread::<Vec<u32>>::new();
        values.with(|v| v.push(0));
        for thread in 1..4 {
            std::thread::scope(|scope| {
                // Joined: its thread-locals are gone too, as they are not when the scope ends.
                let spawned = scope.spawn(|| {
                    values.with(|v| v.push(thread));
                    values.with(|v| v.push(thread * 10));
                });
                spawned.join().unwrap();
            });
        }
        values.with(|v| v.push(1000));
        let mut seen = Vec::new();
        values.each(|v| {
            seen.push(v.clone());
            true
        });
        assert_eq!(seen, [vec![0, 1000], vec![1, 10], vec![2, 20], vec![3, 30]]);
        // Stopped early: the rest stay, ended threads' values too while they hold something.
        let mut visited = 0;
        values.each(|_| {
            visited += 1;
            visited < 2
        });
        assert_eq!((visited, values.len()), (2, 4));
        // Emptied: the ended threads' values go, this thread's stays.
        values.each(|v| {
            v.clear();
            true
        });
        assert_eq!(values.len(), 1);
        drop(values);
        let again = PerThread::<Vec<u32>>::new();
        again.with(|v| assert!(v.is_empty(), "{v:?}"));
        assert_eq!(again.len(), 1);
        MINE.with(|mine| assert_eq!(mine.borrow().len(), 1, "the gone one's entry is dropped"));
    }
}
