//! Caches from a request exactly as it arrived (method, upstream, path, body bytes, and any
//! other input such as the policy scope) to what the proxy derives from it: its match key, its
//! policy decisions. Computing them parses the body, masks secrets, runs every rule; a test
//! suite or a load test sends the same bodies again and again, so the replay hot path skips all
//! of that after the first time. Bounded: when full, a cache starts over.

use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::cassette::matcher::MatchKey;

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

/// One cache: a request path → what the proxy derives from the path alone (its form in the
/// log, secrets and PII protected; its metrics series). Keyed by the path only: cheaper per
/// request than a [`RequestCache`].
pub(super) struct PathCache<V> {
    entries: Mutex<foldhash::HashMap<Box<str>, V>>,
}

impl<V> Default for PathCache<V> {
    fn default() -> Self {
        PathCache {
            entries: Mutex::new(foldhash::HashMap::default()),
        }
    }
}

impl<V: Clone> PathCache<V> {
    /// The value for `path`: cached, or made by `compute` and remembered.
    pub fn get(&self, path: &str, compute: impl FnOnce() -> V) -> V {
        if let Ok(entries) = self.entries.lock() {
            if let Some(value) = entries.get(path) {
                return value.clone();
            }
        }
        let value = compute();
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(Box::from(path), value.clone());
        }
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
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
        assert_eq!(&*get("/b"), "/B");
        assert_eq!(calls.get(), CAPACITY + 2);
    }
}
