//! The response cache: validated answers kept in memory (LRU, bounded),
//! keyed by the sha256 of task, prompt `id@version`, model and the rendered
//! (already redacted) messages. A hit costs no tokens and no HTTP call.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use lru::LruCache;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The cache key: sha256 of the request's identity.
pub type CacheKey = [u8; 32];

/// The key of a request; also its audit fingerprint.
pub fn cache_key(task: &str, prompt: &str, model: &str, system: &str, user: &str) -> CacheKey {
    let mut hasher = Sha256::new();
    for part in [task, prompt, model, system, user] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// Lower-case hex of a key, for logs.
pub fn hex(key: &CacheKey) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// A bounded LRU of validated answers; capacity 0 disables it.
#[derive(Debug)]
pub struct ResponseCache {
    inner: Option<Mutex<LruCache<CacheKey, Value>>>,
}

impl ResponseCache {
    /// A cache holding up to `capacity` answers.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
        }
    }

    /// The cached answer, if any (marks it recently used).
    pub fn get(&self, key: &CacheKey) -> Option<Value> {
        let cache = self.inner.as_ref()?;
        cache.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned()
    }

    /// Stores a validated answer.
    pub fn put(&self, key: CacheKey, value: Value) {
        if let Some(cache) = &self.inner {
            cache.lock().unwrap_or_else(PoisonError::into_inner).put(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_keyed_by_every_part() {
        let cache = ResponseCache::new(1);
        let a = cache_key("t", "p@1", "m", "s", "u");
        let b = cache_key("t", "p@2", "m", "s", "u");
        assert_ne!(a, b);
        assert_ne!(cache_key("ab", "c", "", "", ""), cache_key("a", "bc", "", "", ""));
        cache.put(a, Value::from(1));
        assert_eq!(cache.get(&a), Some(Value::from(1)));
        cache.put(b, Value::from(2));
        assert_eq!(cache.get(&a), None);
        assert_eq!(hex(&a).len(), 64);
        assert_eq!(ResponseCache::new(0).get(&a), None);
    }
}
