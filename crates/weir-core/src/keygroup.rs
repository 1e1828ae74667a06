//! Key groups: the unit in which keyed state is partitioned and redistributed.
//!
//! A key hashes into one of `max_parallelism` key groups; subtask `i` of an operator with
//! parallelism `p` owns the contiguous range of key groups computed by
//! [`KeyGroupRange::for_subtask`]. The formulas are Flink's, so a job restored with another
//! parallelism moves whole key groups between subtasks.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// The default and lower bound of the automatically chosen max parallelism.
pub const DEFAULT_LOWER_BOUND_MAX_PARALLELISM: usize = 128;
/// The upper bound of max parallelism.
pub const UPPER_BOUND_MAX_PARALLELISM: usize = 32768;

/// An inclusive range of key groups owned by one subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyGroupRange {
    pub start: usize,
    pub end_inclusive: usize,
}

impl KeyGroupRange {
    /// The key groups of `subtask` among `parallelism` subtasks, with `max_parallelism` key
    /// groups in all.
    pub fn for_subtask(max_parallelism: usize, parallelism: usize, subtask: usize) -> Self {
        KeyGroupRange {
            start: (subtask * max_parallelism).div_ceil(parallelism),
            end_inclusive: ((subtask + 1) * max_parallelism - 1) / parallelism,
        }
    }

    /// Whether `key_group` lies in this range.
    #[inline]
    pub fn contains(&self, key_group: usize) -> bool {
        (self.start..=self.end_inclusive).contains(&key_group)
    }

    /// Number of key groups in the range.
    pub fn len(&self) -> usize {
        self.end_inclusive + 1 - self.start
    }

    /// The key groups in both ranges, if any.
    pub fn intersection(&self, other: KeyGroupRange) -> Option<KeyGroupRange> {
        let range = KeyGroupRange {
            start: self.start.max(other.start),
            end_inclusive: self.end_inclusive.min(other.end_inclusive),
        };
        (!range.is_empty()).then_some(range)
    }

    /// Whether the range is empty (never, for a valid parallelism).
    pub fn is_empty(&self) -> bool {
        self.end_inclusive < self.start
    }
}

/// The subtask that owns `key_group`.
pub fn subtask_for_key_group(
    max_parallelism: usize,
    parallelism: usize,
    key_group: usize,
) -> usize {
    key_group * parallelism / max_parallelism
}

/// The key group of a key: a stable hash (the same in every run and every process of the
/// same build) spread with a murmur finaliser.
pub fn key_group_for_key<K: Hash + ?Sized>(key: &K, max_parallelism: usize) -> usize {
    (stable_hash(key) % max_parallelism as u64) as usize
}

/// The subtask that owns `key`.
pub fn subtask_for_key<K: Hash + ?Sized>(
    key: &K,
    max_parallelism: usize,
    parallelism: usize,
) -> usize {
    subtask_for_key_group(
        max_parallelism,
        parallelism,
        key_group_for_key(key, max_parallelism),
    )
}

/// Flink's default max parallelism for an operator of `parallelism`: 1.5 × parallelism
/// rounded up to a power of two, within [128, 32768].
pub fn default_max_parallelism(parallelism: usize) -> usize {
    let wanted = (parallelism + parallelism / 2).next_power_of_two();
    wanted.clamp(
        DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
        UPPER_BOUND_MAX_PARALLELISM,
    )
}

/// A stable 64-bit hash of a value's `Hash` implementation.
pub fn stable_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut h = StableHasher::default();
    key.hash(&mut h);
    h.finish()
}

/// Builds [`MapHasher`]s: a fast, unseeded hasher for hash maps of keyed state.
pub type StableBuildHasher = std::hash::BuildHasherDefault<MapHasher>;

/// The stable hash for hash maps. The key group is the stable hash modulo the max
/// parallelism, so all keys of one key group share its low bits; hash maps index buckets by
/// the low bits, so maps of keyed state take the hash rotated by half a word.
#[derive(Default)]
pub struct MapHasher(StableHasher);

impl Hasher for MapHasher {
    fn finish(&self) -> u64 {
        self.0.finish().rotate_left(32)
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes)
    }
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i)
    }
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i)
    }
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i)
    }
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i)
    }
}

/// A fast hasher with no random seed: word-at-a-time multiply-rotate (as FxHash does), with
/// a murmur finaliser so that every bit of the result depends on every input bit.
#[derive(Default)]
pub struct StableHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl StableHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        fmix64(self.hash)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// MurmurHash3's 64-bit finaliser: spreads every input bit over the whole word.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_intersect_where_they_overlap() {
        let range = |start, end_inclusive| KeyGroupRange {
            start,
            end_inclusive,
        };
        assert_eq!(
            range(0, 42).intersection(range(40, 85)),
            Some(range(40, 42))
        );
        assert_eq!(range(0, 42).intersection(range(43, 85)), None);
    }

    #[test]
    fn ranges_cover_all_key_groups_once() {
        for max in [128, 7, 1000] {
            for p in 1..=9.min(max) {
                let mut next = 0;
                for i in 0..p {
                    let r = KeyGroupRange::for_subtask(max, p, i);
                    assert_eq!(r.start, next);
                    for kg in r.start..=r.end_inclusive {
                        assert_eq!(subtask_for_key_group(max, p, kg), i);
                    }
                    next = r.end_inclusive + 1;
                }
                assert_eq!(next, max);
            }
        }
    }

    #[test]
    fn flink_default_max_parallelism() {
        assert_eq!(default_max_parallelism(1), 128);
        assert_eq!(default_max_parallelism(100), 256);
        assert_eq!(default_max_parallelism(30000), 32768);
    }

    #[test]
    fn hash_is_stable_and_spreads() {
        assert_eq!(stable_hash("hello"), stable_hash(&"hello".to_string()));
        let mut counts = [0usize; 128];
        for i in 0..12800u64 {
            counts[key_group_for_key(&i, 128)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 50 && c < 150), "{counts:?}");
    }
}
