//! Stable hashing and a seeded pseudo-random generator.
//!
//! Feature hashes are persisted inside model files, so they must not depend on the
//! platform, the process or the version of a third-party hasher: FNV-1a with a
//! murmur-style finalizer is used. The generator (SplitMix64) makes training and
//! data splits reproducible from a seed.

use std::hash::{BuildHasher, Hasher};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Seed-dependent FNV-1a start state (see [`fnv_step`]).
pub(crate) fn fnv_start(seed: u64) -> u64 {
    FNV_OFFSET ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Feeds one byte to an FNV-1a state; `finalize(state)` equals [`hash_bytes`] of the bytes fed.
#[inline]
pub(crate) fn fnv_step(state: u64, byte: u8) -> u64 {
    (state ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
}

/// FNV-1a over `bytes`, started from a seed-dependent state, then finalized.
pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    finalize(bytes.iter().fold(fnv_start(seed), |state, &byte| fnv_step(state, byte)))
}

/// Combines two hashes (order-sensitive) into one.
pub(crate) fn combine(first: u64, second: u64) -> u64 {
    finalize(first.rotate_left(23) ^ second.wrapping_mul(0xff51_afd7_ed55_8ccd))
}

/// Murmur3 64-bit finalizer: spreads entropy to every bit.
pub(crate) fn finalize(mut value: u64) -> u64 {
    value ^= value >> 33;
    value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
    value ^= value >> 33;
    value = value.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    value ^= value >> 33;
    value
}

/// SplitMix64: a tiny, fast, seedable generator (not for cryptography).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates a generator from a seed.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        finalize(self.state)
    }

    /// Uniform integer in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        // Modulo bias is negligible for the sizes used here (bound << 2^64).
        (self.next_u64() % (bound.max(1) as u64)) as usize
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Hasher for keys that are already well-mixed hashes (feature buckets).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PremixedHasher {
    value: u64,
}

impl Hasher for PremixedHasher {
    fn finish(&self) -> u64 {
        self.value
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.value = (self.value.rotate_left(8) ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.value = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// `BuildHasher` for [`PremixedHasher`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PremixedBuildHasher;

impl BuildHasher for PremixedBuildHasher {
    type Hasher = PremixedHasher;

    fn build_hasher(&self) -> PremixedHasher {
        PremixedHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_seeded() {
        assert_eq!(hash_bytes(1, b"vpn"), hash_bytes(1, b"vpn"));
        assert_ne!(hash_bytes(1, b"vpn"), hash_bytes(2, b"vpn"));
        assert_ne!(combine(1, 2), combine(2, 1));
    }

    #[test]
    fn shuffle_is_deterministic() {
        let mut first: Vec<u32> = (0..50).collect();
        let mut second = first.clone();
        SplitMix64::new(7).shuffle(&mut first);
        SplitMix64::new(7).shuffle(&mut second);
        assert_eq!(first, second);
        assert_ne!(first, (0..50).collect::<Vec<u32>>());
    }
}
