//! Caches from a request exactly as it arrived (method, upstream, path, body bytes, and any
//! other input such as the policy scope) to what the proxy derives from it: its match key, its
//! policy decisions. Computing them parses the body, masks secrets, runs every rule; a test
//! suite or a load test sends the same bodies again and again, so the replay hot path skips all
//! of that after the first time. Bounded: when full, a cache starts over.

use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::cassette::matcher::MatchKey;
use crate::per_thread::PerThread;

/// Entries kept before the cache starts over.
const CAPACITY: usize = 4096;

struct Entry<V> {
    method: http::Method,
    upstream: String,
    path: String,
    body: Bytes,
    extra: String,
    value: V,
}

/// One cache: request → `V`.
pub(super) struct RequestCache<V> {
    entries: Mutex<foldhash::HashMap<u64, Vec<Entry<V>>>>,
    /// Seeded per process: the requests are the client's to choose.
    hasher: foldhash::fast::RandomState,
}

impl<V> Default for RequestCache<V> {
    fn default() -> Self {
        RequestCache {
            entries: Mutex::new(foldhash::HashMap::default()),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

/// Request → match key.
pub(super) type KeyCache = RequestCache<Arc<MatchKey>>;

impl KeyCache {
    /// The key of this request under the match rules `rules` names (see
    /// `cassettes::Rules::tag`): cached, or made by `compute` and remembered.
    pub fn key(
        &self,
        method: &http::Method,
        upstream: &str,
        path: &str,
        body: &Bytes,
        rules: &str,
        compute: impl FnOnce() -> MatchKey,
    ) -> Arc<MatchKey> {
        self.get(method, upstream, path, body, rules, || Arc::new(compute()))
    }
}

impl<V: Clone> RequestCache<V> {
    /// The value for this request and `extra`: cached, or made by `compute` and remembered.
    pub fn get(
        &self,
        method: &http::Method,
        upstream: &str,
        path: &str,
        body: &Bytes,
        extra: &str,
        compute: impl FnOnce() -> V,
    ) -> V {
        let mut hasher = self.hasher.build_hasher();
        method.hash(&mut hasher);
        upstream.hash(&mut hasher);
        path.hash(&mut hasher);
        body.hash(&mut hasher);
        extra.hash(&mut hasher);
        let hash = hasher.finish();
        let same = |e: &Entry<V>| {
            e.method == method
                && e.upstream == upstream
                && e.path == path
                && e.body == body
                && e.extra == extra
        };
        if let Ok(entries) = self.entries.lock() {
            if let Some(entry) = entries.get(&hash).and_then(|b| b.iter().find(|e| same(e))) {
                return entry.value.clone();
            }
        }
        let value = compute();
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            let bucket = entries.entry(hash).or_default();
            if !bucket.iter().any(same) {
                bucket.push(Entry {
                    method: method.clone(),
                    upstream: upstream.to_string(),
                    path: path.to_string(),
                    body: body.clone(),
                    extra: extra.to_string(),
                    value: value.clone(),
                });
            }
        }
        value
    }
}

/// One cache: a request path → what the proxy derives from the path alone (see
/// `KnownPath`). Keyed by the path only: cheaper per request than a [`RequestCache`]. Each
/// thread keeps its own, so a request takes no lock and no reference count that another
/// thread's requests write (a busy machine passed those cache lines between its cores at
/// every request); a path is worked out once per thread.
pub(super) struct PathCache<V> {
    per_thread: PerThread<Paths<V>>,
}

/// One thread's [`PathCache`].
struct Paths<V>(foldhash::HashMap<Box<str>, V>);

impl<V> Default for Paths<V> {
    fn default() -> Self {
        Paths(foldhash::HashMap::default())
    }
}

impl<V: Send + 'static> Default for PathCache<V> {
    fn default() -> Self {
        PathCache {
            per_thread: PerThread::new(),
        }
    }
}

impl<V: Clone + Send + 'static> PathCache<V> {
    /// The value for `path`: cached by the calling thread, or made by `compute` and
    /// remembered there.
    pub fn get(&self, path: &str, compute: impl FnOnce() -> V) -> V {
        if let Some(Some(value)) = self.per_thread.with(|paths| paths.0.get(path).cloned()) {
            return value;
        }
        let value = compute();
        self.per_thread.with(|paths| {
            if paths.0.len() >= CAPACITY {
                paths.0.clear();
            }
            paths.0.insert(Box::from(path), value.clone());
        });
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_distinct_request() {
        let cache = KeyCache::default();
        let calls = std::cell::Cell::new(0);
        let key = |body: &'static [u8], path: &str| {
            cache.key(
                &http::Method::POST,
                "openai",
                path,
                &Bytes::from_static(body),
                "",
                || {
                    calls.set(calls.get() + 1);
                    MatchKey::from_text(&format!("{path} {}", String::from_utf8_lossy(body)))
                },
            )
        };
        let a = key(b"{\"a\":1}", "/x");
        assert_eq!(key(b"{\"a\":1}", "/x"), a);
        assert_eq!(calls.get(), 1);
        assert_ne!(key(b"{\"a\":2}", "/x"), a);
        assert_ne!(key(b"{\"a\":1}", "/y"), a);
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn each_thread_computes_a_path_once_and_keeps_its_own_value() {
        let cache = PathCache::<Arc<str>>::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let get = || {
            cache.get("/a", || {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Arc::from("/A")
            })
        };
        let here = get();
        assert!(Arc::ptr_eq(&here, &get()));
        let there = std::thread::scope(|scope| scope.spawn(|| (get(), get())).join().unwrap());
        assert!(Arc::ptr_eq(&there.0, &there.1));
        assert!(
            !Arc::ptr_eq(&here, &there.0),
            "another thread's value is its own"
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn a_path_is_computed_once_and_the_cache_starts_over_when_full() {
        let cache = PathCache::<Arc<str>>::default();
        let calls = std::cell::Cell::new(0);
        let get = |path: &str| {
            cache.get(path, || {
                calls.set(calls.get() + 1);
                Arc::from(path.to_uppercase())
            })
        };
        assert_eq!(&*get("/a"), "/A");
        assert_eq!(&*get("/a"), "/A");
        assert_eq!(calls.get(), 1);
        for n in 0..CAPACITY {
            get(&format!("/{n}"));
        }
        assert!(cache.per_thread.with(|paths| paths.0.len()).unwrap() <= CAPACITY);
        assert_eq!(&*get("/b"), "/B");
        assert_eq!(calls.get(), CAPACITY + 2);
    }
}
