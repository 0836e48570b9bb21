//! A map that knows the age of its entries: ordered by last update, with the closed ones
//! kept in an order of their own, so the book can evict "the oldest closed, else the oldest"
//! entry and expire closed entries past their retention in O(log n).

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use jiff::Timestamp;

/// What the map needs to know of an entry.
pub(crate) trait Aged {
    /// When the entry last changed.
    fn updated_at(&self) -> Timestamp;
    /// Whether the entry is finished (closed ticket, resolved incident).
    fn is_closed(&self) -> bool;
}

/// Entries by key, with their age orders.
#[derive(Debug)]
pub(crate) struct AgedMap<K, V> {
    entries: HashMap<K, V>,
    all: BTreeSet<(Timestamp, K)>,
    closed: BTreeSet<(Timestamp, K)>,
}

impl<K, V> Default for AgedMap<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            all: BTreeSet::new(),
            closed: BTreeSet::new(),
        }
    }
}

impl<K: Hash + Eq + Ord + Clone, V: Aged> AgedMap<K, V> {
    /// The entry of `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// Every entry, in no order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.values()
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Inserts or replaces the entry of `key`; returns the replaced one.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        let old = self.remove(&key);
        let at = value.updated_at();
        if value.is_closed() {
            self.closed.insert((at, key.clone()));
        }
        self.all.insert((at, key.clone()));
        self.entries.insert(key, value);
        old
    }

    /// Removes the entry of `key`.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let old = self.entries.remove(key)?;
        let slot = (old.updated_at(), key.clone());
        self.all.remove(&slot);
        self.closed.remove(&slot);
        Some(old)
    }

    /// Removes the oldest closed entry, or the oldest entry when none is closed.
    pub(crate) fn evict_one(&mut self) -> Option<(K, V)> {
        let (_, key) = self.closed.first().or_else(|| self.all.first())?.clone();
        self.remove(&key).map(|value| (key, value))
    }

    /// Removes the oldest closed entry if it was last updated before `cutoff`.
    pub(crate) fn expire_one(&mut self, cutoff: Timestamp) -> Option<(K, V)> {
        let (at, key) = self.closed.first()?.clone();
        if at >= cutoff {
            return None;
        }
        self.remove(&key).map(|value| (key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry(i64, bool);

    impl Aged for Entry {
        fn updated_at(&self) -> Timestamp {
            Timestamp::from_second(self.0).unwrap_or(Timestamp::UNIX_EPOCH)
        }
        fn is_closed(&self) -> bool {
            self.1
        }
    }

    #[test]
    fn evicts_the_oldest_closed_entry_first_then_the_oldest() {
        let mut map = AgedMap::default();
        map.insert("a", Entry(10, false));
        map.insert("b", Entry(20, true));
        map.insert("c", Entry(30, true));
        assert_eq!(map.evict_one().map(|(k, _)| k), Some("b"));
        assert_eq!(map.evict_one().map(|(k, _)| k), Some("c"));
        assert_eq!(map.evict_one().map(|(k, _)| k), Some("a"));
        assert!(map.evict_one().is_none());
    }

    #[test]
    fn a_replaced_entry_leaves_no_stale_order_behind() {
        let mut map = AgedMap::default();
        map.insert("a", Entry(10, true));
        map.insert("a", Entry(50, false));
        assert_eq!(map.len(), 1);
        assert!(
            map.expire_one(Timestamp::from_second(100).unwrap()).is_none(),
            "no longer closed"
        );
        map.insert("a", Entry(60, true));
        assert!(
            map.expire_one(Timestamp::from_second(60).unwrap()).is_none(),
            "not before the cutoff"
        );
        assert_eq!(
            map.expire_one(Timestamp::from_second(61).unwrap()).map(|(k, _)| k),
            Some("a")
        );
        assert_eq!(map.len(), 0);
    }
}
