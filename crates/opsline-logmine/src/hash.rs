//! A small, fast, deterministic hasher for the miner's hash maps (short token strings and `u32`
//! ids), in the style of rustc's Fx hash: one rotate, xor and multiply per 8 bytes.
//!
//! It is not DoS resistant. Only template tokens and tree keys are ever inserted, and their number
//! is bounded by the templates the miner creates, so crafted collisions can only slow down lines
//! that look up those few colliding keys.

use std::hash::{BuildHasherDefault, Hasher};

/// Multiplier from rustc-hash (an odd constant with well mixed bits).
const K: u64 = 0xf135_7aea_2e62_a9c5;

/// The first 8 bytes of `b` (which holds at least 8) as a little-endian word.
#[inline(always)]
fn word8(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.get(..8).and_then(|w| w.try_into().ok()).unwrap_or([0; 8]))
}

/// The first 4 bytes of `b` (which holds at least 4) as a little-endian word.
#[inline(always)]
fn word4(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(
        b.get(..4).and_then(|w| w.try_into().ok()).unwrap_or([0; 4]),
    ))
}

/// The hasher state.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TokenHasher(u64);

impl TokenHasher {
    #[inline(always)]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for TokenHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        self.add(n as u64);
        if n >= 8 {
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                self.add(word8(chunk));
            }
            if !chunks.remainder().is_empty() {
                // The last 8 bytes, overlapping the previous chunk.
                self.add(word8(&bytes[n - 8..]));
            }
        } else if n >= 4 {
            self.add(word4(&bytes[..4]) | (word4(&bytes[n - 4..]) << 32));
        } else if n > 0 {
            self.add(u64::from(bytes[0]) | (u64::from(bytes[n / 2]) << 8) | (u64::from(bytes[n - 1]) << 16));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the best mixed bits at the top; hash tables index with the low ones.
        self.0.rotate_left(26)
    }
}

/// `BuildHasher` for [`TokenHasher`].
pub(crate) type BuildTokenHasher = BuildHasherDefault<TokenHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn equal_inputs_hash_equal_and_lengths_matter() {
        let b = BuildTokenHasher::default();
        assert_eq!(b.hash_one("PacketResponder"), b.hash_one("PacketResponder"));
        assert_ne!(b.hash_one("a"), b.hash_one("a\0"));
        assert_ne!(b.hash_one("ab"), b.hash_one("abb"));
        assert_ne!(b.hash_one("abcdefghi"), b.hash_one("abcdefgh"));
        assert_ne!(b.hash_one(1u32), b.hash_one(2u32));
    }
}
