//! What the producers send: record keys and values, and which partition each record goes to.
//!
//! Values are slices of a per-producer pool of random capital letters (as Kafka's
//! `ProducerPerformance` sends): compressible about as much as text, not as much as zeros, and
//! cut without copying. An end-to-end value starts with the 8-byte send stamp
//! ([`super::schedule::STAMP_BYTES`]) and is at least that long.
//!
//! Partitions are chosen the same way for both clients, so that their numbers compare: keyed
//! records go to `hash(key) % partitions` (FNV-1a, not Kafka's murmur2; only the spread
//! matters here), unkeyed ones stick to one partition until a batch's worth of bytes went to
//! it, then move to the next (Kafka's sticky partitioner, round-robin instead of random).

use bytes::{BufMut, Bytes, BytesMut};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::schedule::STAMP_BYTES;
use super::units::{Keys, MessageSize, MESSAGE_BYTES_MAX};

/// Length of a `--keys random` key.
pub const RANDOM_KEY_BYTES: usize = 16;
/// Bytes of the letter pool values are cut from: the largest value plus room to vary where.
const POOL_BYTES: usize = 2 * MESSAGE_BYTES_MAX as usize;

/// One record to send.
#[derive(Debug, Clone)]
pub struct Payload {
    pub key: Option<Bytes>,
    pub value: Bytes,
}

impl Payload {
    /// Key and value bytes: what the report counts as the record's size.
    pub fn size_bytes(&self) -> u64 {
        (self.key.as_ref().map_or(0, Bytes::len) + self.value.len()) as u64
    }

    /// The most this record adds to a batch: key and value plus the record's framing with
    /// every varint at its widest (length, attributes, timestamp and offset deltas, key and
    /// value lengths, header count).
    pub fn batch_bytes_max(&self) -> u64 {
        const RECORD_FRAMING_BYTES_MAX: u64 = 5 + 1 + 10 + 5 + 5 + 5 + 5;
        self.size_bytes() + RECORD_FRAMING_BYTES_MAX
    }
}

/// A RecordBatch v2 header: what a batch holds besides its records.
pub const BATCH_HEADER_BYTES: u64 = 61;

/// Whether a record of `record_bytes` (see [`Payload::batch_bytes_max`]) still fits a batch
/// whose records take `filled` bytes, under `batch_bytes` (Kafka's `batch.size`: a batch
/// never grows past it, unless its only record is larger).
pub fn fits_batch(filled: u64, record_bytes: u64, batch_bytes: u64) -> bool {
    filled == 0 || BATCH_HEADER_BYTES + filled + record_bytes <= batch_bytes
}

/// Generates the payloads of one producer.
pub struct Payloads {
    sizes: MessageSize,
    keys: Keys,
    distinct_keys: Vec<Bytes>,
    stamped: bool,
    pool: Bytes,
    rng: SmallRng,
}

impl Payloads {
    /// `stamped`: values begin with the send stamp (end-to-end). `seed` makes runs repeatable.
    pub fn new(sizes: MessageSize, keys: Keys, stamped: bool, seed: u64) -> Payloads {
        let mut rng = SmallRng::seed_from_u64(seed);
        let pool: Vec<u8> = (0..POOL_BYTES)
            .map(|_| rng.gen_range(b'A'..=b'Z'))
            .collect();
        let distinct_keys = match keys {
            Keys::Distinct(n) => (0..n).map(|i| Bytes::from(format!("key-{i}"))).collect(),
            Keys::None | Keys::Random => Vec::new(),
        };
        Payloads {
            sizes,
            keys,
            distinct_keys,
            stamped,
            pool: Bytes::from(pool),
            rng,
        }
    }

    /// The next record; `stamp` goes in front of the value when the values are stamped.
    pub fn next(&mut self, stamp: u64) -> Payload {
        let key = match self.keys {
            Keys::None => None,
            Keys::Random => Some(self.cut(RANDOM_KEY_BYTES)),
            Keys::Distinct(n) => {
                let index = self.rng.gen_range(0..n) as usize;
                self.distinct_keys.get(index).cloned()
            }
        };
        let size = self.value_size();
        let value = if self.stamped {
            let size = size.max(STAMP_BYTES);
            let mut value = BytesMut::with_capacity(size);
            value.put_u64(stamp);
            value.put_slice(&self.cut(size - STAMP_BYTES));
            value.freeze()
        } else {
            self.cut(size)
        };
        Payload { key, value }
    }

    fn value_size(&mut self) -> usize {
        let bytes = match self.sizes {
            MessageSize::Fixed(bytes) => f64::from(bytes),
            MessageSize::Uniform { min, max } => f64::from(self.rng.gen_range(min..=max)),
            MessageSize::Normal { mean, stddev } => mean + stddev * standard_normal(&mut self.rng),
        };
        bytes.round().clamp(0.0, f64::from(MESSAGE_BYTES_MAX)) as usize
    }

    /// `len` bytes of the pool from a random place.
    fn cut(&mut self, len: usize) -> Bytes {
        let len = len.min(self.pool.len());
        let start = self.rng.gen_range(0..=self.pool.len() - len);
        self.pool.slice(start..start + len)
    }
}

/// A standard normal sample (Box-Muller), so that no distribution crate is needed.
fn standard_normal(rng: &mut SmallRng) -> f64 {
    let uniform: f64 = rng.gen_range(f64::EPSILON..1.0);
    let angle: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// Picks the partition (an index into the workload's partition list) of each record.
pub struct Partitioner {
    partitions: usize,
    batch_bytes: u64,
    current: usize,
    current_bytes: u64,
}

impl Partitioner {
    /// Producer `index` starts its sticky round at a different partition than the others.
    pub fn new(partitions: usize, batch_bytes: u64, index: u32) -> Partitioner {
        let partitions = partitions.max(1);
        Partitioner {
            partitions,
            batch_bytes,
            current: index as usize % partitions,
            current_bytes: 0,
        }
    }

    /// Keyed records go by their key's hash; the others stick to one partition until its
    /// batch is full (the next record would not fit), then move to the next.
    pub fn choose(&mut self, payload: &Payload) -> usize {
        if let Some(key) = &payload.key {
            return (fnv1a(key) % self.partitions as u64) as usize;
        }
        let record_bytes = payload.batch_bytes_max();
        if !fits_batch(self.current_bytes, record_bytes, self.batch_bytes) {
            self.current = (self.current + 1) % self.partitions;
            self.current_bytes = 0;
        }
        self.current_bytes += record_bytes;
        self.current
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::schedule::read_stamp;

    #[test]
    fn the_sticky_partitioner_moves_on_when_the_next_record_would_not_fit() {
        let mut payloads = Payloads::new(MessageSize::Fixed(100), Keys::None, false, 1);
        let mut partitioner = Partitioner::new(3, 1024, 0);
        // 61 + 7 x (100 + 36) = 1013 bytes fit in 1024; an eighth record would not.
        let chosen: Vec<usize> = (0..15)
            .map(|_| partitioner.choose(&payloads.next(0)))
            .collect();
        let expected: Vec<usize> = [0; 7].into_iter().chain([1; 7]).chain([2]).collect();
        assert_eq!(chosen, expected);
    }

    #[test]
    fn a_batch_never_outgrows_the_batch_size_unless_one_record_does() {
        assert!(
            fits_batch(0, 5000, 1024),
            "a lone record larger than a batch"
        );
        assert!(!fits_batch(136, 5000, 1024));
        assert!(fits_batch(900, 63, 1024));
        assert!(!fits_batch(900, 64, 1024));
    }

    #[test]
    fn stamped_values_carry_the_stamp_and_keep_the_minimum_size() {
        let mut payloads = Payloads::new(MessageSize::Fixed(2), Keys::Random, true, 1);
        let payload = payloads.next(42);
        assert_eq!(read_stamp(&payload.value), Some(42));
        assert_eq!(payload.value.len(), STAMP_BYTES);
        assert_eq!(payload.key.map(|k| k.len()), Some(RANDOM_KEY_BYTES));
    }

    #[test]
    fn sizes_follow_their_distribution_within_bounds() {
        let uniform = MessageSize::Uniform { min: 10, max: 20 };
        let mut payloads = Payloads::new(uniform, Keys::Distinct(3), false, 2);
        for _ in 0..1000 {
            let payload = payloads.next(0);
            assert!((10..=20).contains(&payload.value.len()));
            let key = payload.key.expect("keyed");
            assert!([&b"key-0"[..], b"key-1", b"key-2"].contains(&&key[..]));
        }
        let normal = MessageSize::Normal {
            mean: 500.0,
            stddev: 1000.0,
        };
        let mut payloads = Payloads::new(normal, Keys::None, false, 3);
        let total: usize = (0..10_000).map(|_| payloads.next(0).value.len()).sum();
        // Clamped at 0 on the left, so the mean rises above 500; it stays in the right range.
        assert!(
            (500..1000).contains(&(total / 10_000)),
            "{}",
            total / 10_000
        );
    }

    #[test]
    fn unkeyed_records_stick_to_a_partition_for_a_batch() {
        // Two records of at most 50 + 36 bytes fit a 300-byte batch after its 61-byte header.
        let mut partitioner = Partitioner::new(3, 300, 1);
        let payload = Payload {
            key: None,
            value: Bytes::from_static(&[0; 50]),
        };
        let chosen: Vec<usize> = (0..6).map(|_| partitioner.choose(&payload)).collect();
        assert_eq!(chosen, vec![1, 1, 2, 2, 0, 0]);
        let keyed = Payload {
            key: Some(Bytes::from_static(b"k")),
            ..payload
        };
        let first = partitioner.choose(&keyed);
        assert!((0..6).all(|_| partitioner.choose(&keyed) == first));
    }
}
