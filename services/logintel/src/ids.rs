//! Deterministic ids: the same inputs always give the same alert, incident and
//! envelope ids, so a replay after a crash produces duplicates that consumers
//! drop by id instead of new alerts.
//!
//! Ids are valid UUID v7 (time-ordered): the 48-bit millisecond prefix is the
//! event time and the 74 "random" bits come from a stable 128-bit FNV-1a hash
//! of the identifying parts.

use uuid::{Builder, Uuid};

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// A stable 128-bit hash of `parts` (each part is length-prefixed, so `["ab","c"]` ≠ `["a","bc"]`).
pub fn stable_hash(parts: &[&[u8]]) -> u128 {
    let mut hash = FNV_OFFSET;
    let mut feed = |byte: u8| {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    };
    for part in parts {
        for byte in (part.len() as u64).to_le_bytes() {
            feed(byte);
        }
        for &byte in *part {
            feed(byte);
        }
    }
    hash
}

/// A UUID v7 with timestamp `millis` and bits derived from `parts`.
pub fn derived_v7(millis: i64, parts: &[&[u8]]) -> Uuid {
    let hash = stable_hash(parts).to_le_bytes();
    let mut random = [0u8; 10];
    random.copy_from_slice(&hash[..10]);
    let millis = u64::try_from(millis.max(0)).unwrap_or_default();
    Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_id_and_version_7() {
        let a = derived_v7(1_700_000_000_000, &[b"svc", b"7"]);
        let b = derived_v7(1_700_000_000_000, &[b"svc", b"7"]);
        let c = derived_v7(1_700_000_000_000, &[b"svc7"]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.get_version_num(), 7);
        assert_eq!(derived_v7(-5, &[]).get_version_num(), 7);
    }
}
