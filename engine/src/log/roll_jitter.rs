//! Spreading segment rolls. The partitions of a topic fill at the same rate under a
//! round-robin or sticky producer, so without jitter they roll within the same milliseconds,
//! every time, and each roll's file work (a new file pre-allocated, the old one closed and
//! its indexes written) lands on the device at once: in end-to-end runs with 16 partitions
//! the seconds with a roll carried a p99 of 15-70 ms against 2 ms in the others.
//!
//! Kafka's `segment.jitter.ms` takes a random amount below it off `segment.ms` for each
//! segment; Redpanda does the same for the size (`log_segment_size_jitter_percent`). Here the
//! amounts come from the log's directory and the segment's base offset rather than from a
//! random generator: different for each partition and segment, and the same after a restart,
//! so a reopened log rolls where it would have.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::hash::{fnv1a, mix};
use crate::limits::SEGMENT_BYTES_JITTER_PERCENT_MAX;

/// The log's share of the jitter: a hash of its directory.
pub(crate) fn seed(dir: &Path) -> u64 {
    fnv1a(dir.as_os_str().as_bytes())
}

/// The size at which the segment starting at `base` rolls: `segment_bytes` less up to
/// `percent` of it (capped at `SEGMENT_BYTES_JITTER_PERCENT_MAX`).
pub(crate) fn roll_bytes(seed: u64, base: i64, segment_bytes: u64, percent: u8) -> u64 {
    let percent = u64::from(percent.min(SEGMENT_BYTES_JITTER_PERCENT_MAX));
    let range = segment_bytes / 100 * percent;
    segment_bytes - pick(seed, base, 0, range)
}

/// The age at which the segment starting at `base` rolls: `segment_ms` less up to
/// `jitter_ms` (Kafka: a random amount below `min(segment.jitter.ms, segment.ms)`).
pub(crate) fn roll_ms(seed: u64, base: i64, segment_ms: u64, jitter_ms: u64) -> u64 {
    segment_ms - pick(seed, base, 1, jitter_ms.min(segment_ms))
}

/// A number below `range` (0 if it is 0), well mixed from the seed, the base and the salt.
fn pick(seed: u64, base: i64, salt: u64, range: u64) -> u64 {
    if range == 0 {
        return 0;
    }
    // Mixed: nearby bases give unrelated values.
    mix(seed ^ (base as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt.rotate_left(32)) % range
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_jitter_rolls_at_the_configured_size_and_age() {
        let seed = seed(Path::new("/data/topic-0"));
        assert_eq!(roll_bytes(seed, 77, 1 << 20, 0), 1 << 20);
        assert_eq!(roll_ms(seed, 77, 60_000, 0), 60_000);
    }

    #[test]
    fn jittered_rolls_stay_in_range_and_spread_over_it() {
        let segment_bytes = 64 << 20;
        let sizes: Vec<u64> = (0..16)
            .map(|partition| seed(Path::new(&format!("/data/topic-{partition}"))))
            .map(|seed| roll_bytes(seed, 0, segment_bytes, 5))
            .collect();
        let low = segment_bytes - segment_bytes / 100 * 5;
        assert!(
            sizes.iter().all(|s| (low..=segment_bytes).contains(s)),
            "{sizes:?}"
        );
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min > (segment_bytes - low) / 2, "{sizes:?}");
        // One log's segments differ from one another too.
        let seed = seed(Path::new("/data/topic-0"));
        let ages: Vec<u64> = (0..16)
            .map(|segment| roll_ms(seed, segment * 1000, 60_000, 10_000))
            .collect();
        assert!(
            ages.iter().all(|a| (50_001..=60_000).contains(a)),
            "{ages:?}"
        );
        assert!(ages.iter().max().unwrap() - ages.iter().min().unwrap() > 5_000);
    }

    #[test]
    fn jitter_is_capped() {
        let seed = seed(Path::new("/d"));
        let half = 1u64 << 19;
        assert!((0..100).all(|base| roll_bytes(seed, base, 1 << 20, 255) >= half));
        assert!((0..100).all(|base| roll_ms(seed, base, 1000, u64::MAX) >= 1));
    }
}
