//! Which partition a record goes to when `--partition` is not given, as Kafka's Java client
//! decides: a keyed record by the murmur2 hash of its key (so that the CLI, the Java client and
//! librdkafka's `murmur2_random` agree on where a key lives); records without a key stick to
//! one partition per batch, moving round-robin to the next partition after each send (the
//! sticky partitioner of KIP-480, without its load weighting).

/// Picks partitions among `0..count`.
#[derive(Debug)]
pub struct Partitioner {
    count: u32,
    sticky: u32,
}

impl Partitioner {
    /// `count` must be at least 1 (a topic has at least one partition).
    pub fn new(count: u32) -> Partitioner {
        assert!(count > 0, "a topic has at least one partition");
        Partitioner { count, sticky: 0 }
    }

    /// The partition of a record with `key`; the sticky one when there is no key.
    pub fn partition(&self, key: Option<&[u8]>) -> i32 {
        let index = match key {
            Some(key) => to_positive(murmur2(key)) % self.count,
            None => self.sticky,
        };
        // `index` < count, which came from a partition count (an i32).
        i32::try_from(index).unwrap_or(0)
    }

    /// Moves keyless records on to the next partition, after a batch was sent.
    pub fn batch_sent(&mut self) {
        self.sticky = (self.sticky + 1) % self.count;
    }
}

/// Kafka's `Utils.toPositive`: the sign bit cleared, not the absolute value.
fn to_positive(hash: i32) -> u32 {
    (hash & 0x7fff_ffff) as u32
}

/// Kafka's `Utils.murmur2` (MurmurHash2, 32 bits, seed 0x9747b28c), bit for bit.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java's int length; a key longer than i32::MAX cannot come from a Kafka record.
    let mut h: u32 = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if let Some(&first) = tail.first() {
        h ^= u32::from(first);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (data, expected) in cases {
            assert_eq!(
                murmur2(data),
                *expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn keyless_records_rotate_per_batch() {
        let mut partitioner = Partitioner::new(3);
        assert_eq!(partitioner.partition(None), 0);
        assert_eq!(partitioner.partition(None), 0);
        partitioner.batch_sent();
        assert_eq!(partitioner.partition(None), 1);
        partitioner.batch_sent();
        partitioner.batch_sent();
        assert_eq!(partitioner.partition(None), 0);
    }

    #[test]
    fn a_key_always_lands_on_the_same_partition() {
        let partitioner = Partitioner::new(7);
        let first = partitioner.partition(Some(b"customer-42"));
        assert!((0..7).contains(&first));
        assert_eq!(partitioner.partition(Some(b"customer-42")), first);
    }
}
