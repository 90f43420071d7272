//! Random value helpers used by the generated `random` constructors (feature `testing`): tests,
//! fuzzing seeds and benchmarks build valid messages of any API and version from them.

use bytes::Bytes;
use rand::Rng;

use crate::wire::RawTaggedField;

/// Array lengths stay small: messages nest arrays three or four deep.
pub fn random_len<R: Rng + ?Sized>(rng: &mut R) -> usize {
    rng.gen_range(0..3)
}

/// Short strings, sometimes with multi-byte characters.
pub fn random_string<R: Rng + ?Sized>(rng: &mut R) -> String {
    const ALPHABET: &[char] = &['a', 'b', 'z', '0', '-', '_', '.', 'é', '→', '𝄞'];
    let len = rng.gen_range(0..12);
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect()
}

pub fn random_bytes<R: Rng + ?Sized>(rng: &mut R) -> Bytes {
    let len = rng.gen_range(0..24);
    (0..len)
        .map(|_| rng.gen::<u8>())
        .collect::<Vec<u8>>()
        .into()
}

/// Unknown tagged fields with distinct ascending tags that avoid the struct's known tags, as
/// they arrive from a newer peer.
pub fn random_unknown_tags<R: Rng + ?Sized>(rng: &mut R, known: &[u32]) -> Vec<RawTaggedField> {
    let count = rng.gen_range(0..3);
    let mut tags: Vec<u32> = (0..count)
        .map(|_| rng.gen_range(0..200u32))
        .filter(|tag| !known.contains(tag))
        .collect();
    if rng.gen_ratio(1, 8) {
        tags.push(u32::MAX >> rng.gen_range(0..4));
    }
    tags.sort_unstable();
    tags.dedup();
    tags.into_iter()
        .map(|tag| RawTaggedField {
            tag,
            data: random_bytes(rng),
        })
        .collect()
}
