//! Zigzag varints, the signed variable-length integers inside records (not the unsigned
//! varints of flexible message versions).
//!
//! A value is zigzag-mapped (`0, -1, 1, -2 ...` to `0, 1, 2, 3 ...`) and written 7 bits per
//! byte, low group first, the high bit of each byte saying that another follows. A varint
//! (i32) takes at most 5 bytes, a varlong (i64) at most 10. As in Kafka's `ByteUtils`, a 5th
//! (10th) byte with the continuation bit set is an error, and value bits beyond the width are
//! ignored rather than rejected.

use bytes::BufMut;

/// Longest encoding of an i32.
pub const VARINT_BYTES_MAX: usize = 5;
/// Longest encoding of an i64.
pub const VARLONG_BYTES_MAX: usize = 10;

/// Why a varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VarintError {
    #[error("varint runs past the end ({remaining} bytes remain)")]
    Truncated { remaining: usize },
    #[error("varint longer than {bytes_max} bytes")]
    TooLong { bytes_max: usize },
}

/// Reads a zigzag varint from the start of `bytes`: the value and the bytes it took.
#[inline]
pub fn decode_varint(bytes: &[u8]) -> Result<(i32, usize), VarintError> {
    let (raw, len) = decode_unsigned(bytes, VARINT_BYTES_MAX)?;
    // Bits above 32 of a 5-byte encoding are dropped, as Java's int arithmetic does.
    let raw = raw as u32;
    Ok((((raw >> 1) as i32) ^ -((raw & 1) as i32), len))
}

/// Reads a zigzag varlong from the start of `bytes`: the value and the bytes it took.
#[inline]
pub fn decode_varlong(bytes: &[u8]) -> Result<(i64, usize), VarintError> {
    let (raw, len) = decode_unsigned(bytes, VARLONG_BYTES_MAX)?;
    Ok((((raw >> 1) as i64) ^ -((raw & 1) as i64), len))
}

#[inline]
fn decode_unsigned(bytes: &[u8], bytes_max: usize) -> Result<(u64, usize), VarintError> {
    let mut raw = 0u64;
    for (i, &byte) in bytes.iter().take(bytes_max).enumerate() {
        // i < 10, so the shift is at most 63.
        raw |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((raw, i + 1));
        }
    }
    if bytes.len() < bytes_max {
        Err(VarintError::Truncated {
            remaining: bytes.len(),
        })
    } else {
        Err(VarintError::TooLong { bytes_max })
    }
}

/// Appends `value` as a zigzag varint.
#[inline]
pub fn encode_varint(value: i32, out: &mut impl BufMut) {
    encode_unsigned(u64::from(((value << 1) ^ (value >> 31)) as u32), out);
}

/// Appends `value` as a zigzag varlong.
#[inline]
pub fn encode_varlong(value: i64, out: &mut impl BufMut) {
    encode_unsigned(((value << 1) ^ (value >> 63)) as u64, out);
}

#[inline]
fn encode_unsigned(mut raw: u64, out: &mut impl BufMut) {
    while raw >= 0x80 {
        out.put_u8((raw as u8) | 0x80);
        raw >>= 7;
    }
    out.put_u8(raw as u8);
}

/// Bytes `encode_varint(value)` writes.
#[inline]
pub fn varint_len(value: i32) -> usize {
    unsigned_len(u64::from(((value << 1) ^ (value >> 31)) as u32))
}

/// Bytes `encode_varlong(value)` writes.
#[inline]
pub fn varlong_len(value: i64) -> usize {
    unsigned_len(((value << 1) ^ (value >> 63)) as u64)
}

#[inline]
fn unsigned_len(raw: u64) -> usize {
    // One byte per started group of 7 significant bits, at least one byte.
    let bits = (u64::BITS - raw.leading_zeros()).max(1) as usize;
    bits.div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        // From Kafka's ByteUtilsTest.
        let cases: [(i32, &[u8]); 6] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            encode_varint(value, &mut out);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(decode_varint(bytes), Ok((value, bytes.len())));
        }
        let mut out = Vec::new();
        encode_varint(i32::MIN, &mut out);
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn round_trip_extremes_and_lengths() {
        for value in [0, 1, -1, 63, -64, 64, 8191, -8192, i32::MAX, i32::MIN] {
            let mut out = Vec::new();
            encode_varint(value, &mut out);
            assert_eq!(out.len(), varint_len(value));
            assert_eq!(decode_varint(&out), Ok((value, out.len())));
        }
        for value in [0, -1, i64::from(i32::MAX) + 1, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            encode_varlong(value, &mut out);
            assert_eq!(out.len(), varlong_len(value));
            assert_eq!(decode_varlong(&out), Ok((value, out.len())));
        }
    }

    #[test]
    fn malformed() {
        assert_eq!(
            decode_varint(&[]),
            Err(VarintError::Truncated { remaining: 0 })
        );
        assert_eq!(
            decode_varint(&[0x80, 0x80]),
            Err(VarintError::Truncated { remaining: 2 })
        );
        assert_eq!(
            decode_varint(&[0x80; 6]),
            Err(VarintError::TooLong { bytes_max: 5 })
        );
        assert_eq!(
            decode_varlong(&[0xff; 10]),
            Err(VarintError::TooLong { bytes_max: 10 })
        );
    }
}
