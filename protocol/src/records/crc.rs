//! CRC32C (Castagnoli, CRC-32/ISCSI): the checksum of a RecordBatch v2, computed over
//! `attributes..end`.
//!
//! Backed by `crc-fast`, which folds with carry-less multiplication (PCLMULQDQ / VPCLMULQDQ on
//! x86_64, PMULL on aarch64) chosen at run time. `bench/benches/crc32c.rs` measures it against
//! the `crc32c` crate in the same run; the tests here use that crate as the oracle.

use crc_fast::{CrcAlgorithm, Digest};

/// CRC32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::crc32_iscsi(data)
}

/// CRC32C computed over several slices in turn, for data that is not contiguous (a batch
/// header written separately from its records).
#[derive(Clone)]
pub struct Crc32c {
    digest: Digest,
}

impl Crc32c {
    pub fn new() -> Self {
        Crc32c {
            digest: Digest::new(CrcAlgorithm::Crc32Iscsi),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }

    /// The CRC32C of everything passed to `update` so far.
    pub fn finalize(&self) -> u32 {
        // CRC-32/ISCSI is a 32-bit CRC; crc-fast returns every width as u64.
        self.digest.finalize() as u32
    }
}

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Crc32c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc32c")
            .field("value", &self.finalize())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn check_value() {
        // The catalogue's check value for CRC-32/ISCSI.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn matches_oracle_on_many_lengths_and_alignments() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(0xc5c3);
        let mut data = vec![0u8; 70_000];
        rng.fill(&mut data[..]);
        // Every length up to 1 KiB crosses all SIMD tail paths; a few large ones the main loop.
        let lengths = (0..1024).chain([4095, 4096, 4097, 16_384, 65_536, 69_000]);
        for len in lengths {
            for align in 0..8 {
                let slice = &data[align..align + len];
                assert_eq!(
                    crc32c(slice),
                    crc32c::crc32c(slice),
                    "len {len} align {align}"
                );
            }
        }
    }

    #[test]
    fn incremental_matches_one_shot() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..200 {
            let len = rng.gen_range(0..5000);
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let mut crc = Crc32c::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let cut = rng.gen_range(0..=rest.len());
                crc.update(&rest[..cut]);
                rest = &rest[cut..];
            }
            assert_eq!(crc.finalize(), crc32c::crc32c(&data));
        }
    }
}
