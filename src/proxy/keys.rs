//! A cache from a request exactly as it arrived (method, upstream, path, body bytes) to its
//! match key. Computing a key parses the body, masks secrets and writes canonical JSON; a test
//! suite or a load test sends the same bodies again and again, so the replay hot path skips all
//! of that after the first time. Bounded: when full, it starts over.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::cassette::matcher::MatchKey;

/// Entries kept before the cache starts over.
const CAPACITY: usize = 4096;

struct Entry {
    method: http::Method,
    upstream: String,
    path: String,
    body: Bytes,
    key: Arc<MatchKey>,
}

#[derive(Default)]
pub(super) struct KeyCache {
    entries: Mutex<HashMap<u64, Vec<Entry>>>,
}

impl KeyCache {
    /// The key of this request: cached, or made by `compute` and remembered.
    pub fn key(
        &self,
        method: &http::Method,
        upstream: &str,
        path: &str,
        body: &Bytes,
        compute: impl FnOnce() -> MatchKey,
    ) -> Arc<MatchKey> {
        let mut hasher = std::hash::DefaultHasher::new();
        method.hash(&mut hasher);
        upstream.hash(&mut hasher);
        path.hash(&mut hasher);
        body.hash(&mut hasher);
        let hash = hasher.finish();
        let same = |e: &Entry| {
            e.method == method && e.upstream == upstream && e.path == path && e.body == body
        };
        if let Ok(entries) = self.entries.lock() {
            if let Some(entry) = entries.get(&hash).and_then(|b| b.iter().find(|e| same(e))) {
                return entry.key.clone();
            }
        }
        let key = Arc::new(compute());
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
                    key: key.clone(),
                });
            }
        }
        key
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
}
