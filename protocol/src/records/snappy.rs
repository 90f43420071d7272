//! Snappy as Kafka clients write it.
//!
//! The Java client wraps snappy in xerial's `SnappyOutputStream` framing:
//!
//! ```text
//! 82 53 4E 41 50 50 59 00   magic "\x82SNAPPY\0"
//! i32 version               big-endian, 1
//! i32 compatible version    big-endian, 1
//! repeated: i32 length, then `length` bytes of one raw snappy block (each block is at most
//!           32 KiB uncompressed when the Java client writes it)
//! ```
//!
//! librdkafka writes raw snappy (one block) and reads both; so does this module, deciding by the
//! magic as xerial's `SnappyInputStream` does. Encoding uses the xerial framing, which every
//! client can read.

use super::compression::{corrupt, Compression, CompressionError};

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Magic, then version 1 and compatible version 1, as the Java client writes them.
const XERIAL_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];
/// Uncompressed bytes per block, xerial's default block size.
const XERIAL_BLOCK_BYTES: usize = 32 * 1024;
const BLOCK_LENGTH_BYTES: usize = 4;

/// Encodes `input` with the xerial framing.
pub(super) fn compress_xerial(input: &[u8]) -> Result<Vec<u8>, CompressionError> {
    let blocks = input.len().div_ceil(XERIAL_BLOCK_BYTES);
    let bound = snap::raw::max_compress_len(XERIAL_BLOCK_BYTES);
    let mut out = Vec::with_capacity(
        XERIAL_HEADER.len() + blocks * BLOCK_LENGTH_BYTES + input.len().min(blocks * bound),
    );
    out.extend_from_slice(&XERIAL_HEADER);
    let mut encoder = snap::raw::Encoder::new();
    let mut block = vec![0u8; bound];
    for chunk in input.chunks(XERIAL_BLOCK_BYTES) {
        let written =
            encoder
                .compress(chunk, &mut block)
                .map_err(|e| CompressionError::Compress {
                    codec: Compression::Snappy,
                    detail: e.to_string(),
                })?;
        let compressed = block.get(..written).unwrap_or_default();
        // `written` is at most max_compress_len(32 KiB), far below i32::MAX.
        let length = u32::try_from(written).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(compressed);
    }
    Ok(out)
}

/// Decodes xerial-framed or raw snappy, capped at `output_bytes_max`.
pub(super) fn decompress(
    input: &[u8],
    output_bytes_max: usize,
) -> Result<Vec<u8>, CompressionError> {
    let mut out = Vec::new();
    match input.strip_prefix(&XERIAL_MAGIC) {
        Some(_) => decompress_xerial(input, output_bytes_max, &mut out)?,
        None => decompress_block(input, output_bytes_max, &mut out)?,
    }
    Ok(out)
}

fn decompress_xerial(
    input: &[u8],
    output_bytes_max: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    // The version fields are not checked: there has only ever been version 1, and xerial's
    // reader accepts any version whose compatible version it knows.
    let mut position = XERIAL_HEADER.len();
    let Some(mut rest) = input.get(XERIAL_HEADER.len()..) else {
        return Err(CompressionError::XerialTruncated {
            position: XERIAL_MAGIC.len(),
            needed: (XERIAL_HEADER.len() - XERIAL_MAGIC.len()) as i64,
            remaining: input.len().saturating_sub(XERIAL_MAGIC.len()),
        });
    };
    while !rest.is_empty() {
        let Some((length, after)) = rest.split_first_chunk::<BLOCK_LENGTH_BYTES>() else {
            return Err(CompressionError::XerialTruncated {
                position,
                needed: BLOCK_LENGTH_BYTES as i64,
                remaining: rest.len(),
            });
        };
        let length = i32::from_be_bytes(*length);
        let block = usize::try_from(length)
            .ok()
            .and_then(|length| after.get(..length))
            .ok_or(CompressionError::XerialTruncated {
                position: position + BLOCK_LENGTH_BYTES,
                needed: i64::from(length),
                remaining: after.len(),
            })?;
        decompress_block(block, output_bytes_max, out)?;
        position += BLOCK_LENGTH_BYTES + block.len();
        rest = after.get(block.len()..).unwrap_or_default();
    }
    Ok(())
}

/// Appends one raw snappy block to `out`, checking its declared length against the cap before
/// allocating for it.
fn decompress_block(
    block: &[u8],
    output_bytes_max: usize,
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let codec = Compression::Snappy;
    let length = snap::raw::decompress_len(block).map_err(|e| corrupt(codec, &e))?;
    let start = out.len();
    let end = start
        .checked_add(length)
        .filter(|&end| end <= output_bytes_max)
        .ok_or(CompressionError::OutputTooLarge {
            codec,
            output_bytes_max,
        })?;
    out.resize(end, 0);
    let target = out.get_mut(start..).unwrap_or_default();
    snap::raw::Decoder::new()
        .decompress(block, target)
        .map_err(|e| corrupt(codec, &e))?;
    Ok(())
}
