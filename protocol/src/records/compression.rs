//! The compression codecs of RecordBatch v2: the records section after the 61-byte header is
//! compressed as a whole with the codec named by attribute bits 0-2.
//!
//! | codec  | id | format on the wire                                                   |
//! |--------|----|----------------------------------------------------------------------|
//! | none   | 0  | records as they are                                                  |
//! | gzip   | 1  | a gzip stream (RFC 1952); several members are accepted, as Java does |
//! | snappy | 2  | xerial framing (the Java client) or raw snappy (librdkafka)          |
//! | lz4    | 3  | one or more LZ4 frames (the frame format, not raw blocks)            |
//! | zstd   | 4  | one or more zstd frames                                              |
//!
//! The snappy framing is described in the private `snappy` module. lz4_flex does not insist on
//! a frame's EndMark, so a frame cut between two blocks reads as a prefix of the content; the
//! batch's record count then refuses it.
//!
//! Decompression is the one place where a few bytes of input can ask for gigabytes of memory,
//! so it is capped: every decoder streams into a buffer that grows with the output actually
//! produced and never past `output_bytes_max`; one byte beyond the cap is
//! [`CompressionError::OutputTooLarge`]. The codecs' own working memory is bounded too: lz4
//! blocks are at most 4 MiB by the frame format, snappy blocks declare their length (checked
//! against the cap before allocating), and the zstd window is limited to the cap but no less
//! than 8 MiB (see `ZSTD_WINDOW_LOG_MIN`).

use std::io::{self, Read, Write};

use super::layout::attributes::COMPRESSION_MASK;
use super::snappy;

/// The codec of a batch, from attribute bits 0-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// Why compressing or decompressing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressionError {
    #[error("unknown compression codec {0} in attribute bits 0-2")]
    UnknownCodec(i16),
    #[error("{codec:?} output exceeds the {output_bytes_max} byte cap (decompression bomb?)")]
    OutputTooLarge {
        codec: Compression,
        output_bytes_max: usize,
    },
    #[error("{codec:?} input is corrupt: {detail}")]
    Corrupt { codec: Compression, detail: String },
    #[error("xerial snappy stream: byte {position} starts {needed} bytes, {remaining} remain")]
    XerialTruncated {
        position: usize,
        needed: i64,
        remaining: usize,
    },
    #[error("{codec:?} compression failed: {detail}")]
    Compress { codec: Compression, detail: String },
}

impl Compression {
    /// The codec named by the low three bits of a batch's attributes; ids 5-7 are errors.
    pub fn from_attributes(attributes: i16) -> Result<Self, CompressionError> {
        match attributes & COMPRESSION_MASK {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            id => Err(CompressionError::UnknownCodec(id)),
        }
    }

    /// The codec's id, as stored in attribute bits 0-2.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// zstd level used by the Java client and librdkafka by default.
const ZSTD_LEVEL: i32 = 3;

/// Compresses `input` as Kafka clients do for `codec`.
pub fn compress(codec: Compression, input: &[u8]) -> Result<Vec<u8>, CompressionError> {
    let failed = |e: io::Error| CompressionError::Compress {
        codec,
        detail: e.to_string(),
    };
    match codec {
        Compression::None => Ok(input.to_vec()),
        Compression::Gzip => {
            let out = Vec::with_capacity(input.len() / 2);
            let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            encoder.write_all(input).map_err(failed)?;
            encoder.finish().map_err(failed)
        }
        Compression::Snappy => snappy::compress_xerial(input),
        Compression::Lz4 => {
            // 64 KiB independent blocks, as the Java client's KafkaLZ4BlockOutputStream writes.
            let info = lz4_flex::frame::FrameInfo::new()
                .block_size(lz4_flex::frame::BlockSize::Max64KB)
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let out = Vec::with_capacity(input.len() / 2);
            let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
            encoder.write_all(input).map_err(failed)?;
            encoder.finish().map_err(|e| failed(e.into()))
        }
        Compression::Zstd => zstd::bulk::compress(input, ZSTD_LEVEL).map_err(failed),
    }
}

/// Decompresses `input`, failing with [`CompressionError::OutputTooLarge`] as soon as the
/// output would pass `output_bytes_max`. See the module docs for the memory bounds.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    output_bytes_max: usize,
) -> Result<Vec<u8>, CompressionError> {
    match codec {
        Compression::None => {
            if input.len() > output_bytes_max {
                return Err(CompressionError::OutputTooLarge {
                    codec,
                    output_bytes_max,
                });
            }
            Ok(input.to_vec())
        }
        Compression::Gzip => read_capped(
            codec,
            flate2::read::MultiGzDecoder::new(input),
            input.len(),
            output_bytes_max,
        ),
        Compression::Snappy => snappy::decompress(input, output_bytes_max),
        Compression::Lz4 => read_capped(
            codec,
            lz4_flex::frame::FrameDecoder::new(input),
            input.len(),
            output_bytes_max,
        ),
        Compression::Zstd => {
            let mut decoder =
                zstd::stream::read::Decoder::with_buffer(input).map_err(|e| corrupt(codec, &e))?;
            // A frame header may declare a window of up to 2 GiB, which the decoder would
            // allocate before producing a byte.
            decoder
                .window_log_max(zstd_window_log_max(output_bytes_max))
                .map_err(|e| corrupt(codec, &e))?;
            read_capped(codec, decoder, input.len(), output_bytes_max)
        }
    }
}

/// Bounds on the zstd decoder's window (log2 bytes). The window is allocated when a frame
/// header is read, before any output, so it is tied to the cap; but it may not go below what
/// clients use: a streaming encoder (the Java client's) declares its level's full window
/// whatever the content size, 2 MiB at the default level 3 and 8 MiB at level 19. 2^27 is
/// zstd's own default limit, which the Java client's decoder applies too.
const ZSTD_WINDOW_LOG_MIN: u32 = 23;
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The window log that holds `output_bytes_max`, within the bounds above.
fn zstd_window_log_max(output_bytes_max: usize) -> u32 {
    let needed = usize::BITS - output_bytes_max.saturating_sub(1).leading_zeros();
    needed.clamp(ZSTD_WINDOW_LOG_MIN, ZSTD_WINDOW_LOG_MAX)
}

pub(super) fn corrupt(codec: Compression, error: &dyn std::fmt::Display) -> CompressionError {
    CompressionError::Corrupt {
        codec,
        detail: error.to_string(),
    }
}

/// First reservation for a decoder's output: most batches compress 2-5x, so a multiple of the
/// input avoids most regrowth without trusting any size read from the input.
const INITIAL_EXPANSION: usize = 4;

/// Reads `reader` to its end into a buffer that never grows past `output_bytes_max`.
///
/// The buffer doubles as it fills (amortised copies) but each step is capped, and reads go
/// through `take` so that no read can write past the current capacity.
fn read_capped(
    codec: Compression,
    mut reader: impl Read,
    input_bytes: usize,
    output_bytes_max: usize,
) -> Result<Vec<u8>, CompressionError> {
    let mut capacity = input_bytes
        .saturating_mul(INITIAL_EXPANSION)
        .clamp(4096, usize::MAX)
        .min(output_bytes_max);
    let mut out = Vec::with_capacity(capacity);
    loop {
        let want = capacity - out.len();
        let read = (&mut reader)
            .take(want as u64)
            .read_to_end(&mut out)
            .map_err(|e| corrupt(codec, &e))?;
        if read < want {
            return Ok(out);
        }
        if out.len() >= output_bytes_max {
            // Full at the cap: the stream must end here, or it is too large.
            let mut probe = [0u8; 1];
            return match reader.read(&mut probe) {
                Ok(0) => Ok(out),
                Ok(_) => Err(CompressionError::OutputTooLarge {
                    codec,
                    output_bytes_max,
                }),
                Err(e) => Err(corrupt(codec, &e)),
            };
        }
        capacity = capacity.saturating_mul(2).min(output_bytes_max);
        out.reserve_exact(capacity - out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zstd_window_follows_the_cap_within_bounds() {
        assert_eq!(zstd_window_log_max(0), ZSTD_WINDOW_LOG_MIN);
        assert_eq!(zstd_window_log_max(1 << 20), ZSTD_WINDOW_LOG_MIN);
        assert_eq!(zstd_window_log_max((32 << 20) + 1), 26);
        assert_eq!(zstd_window_log_max(64 << 20), 26);
        assert_eq!(zstd_window_log_max(usize::MAX), ZSTD_WINDOW_LOG_MAX);
    }

    #[test]
    fn capped_reads_stop_at_the_cap() {
        let data = vec![5u8; 10_000];
        for cap in [0, 1, 4095, 4096, 4097, 9_999] {
            let result = read_capped(Compression::None, &data[..], 1, cap);
            assert!(
                matches!(result, Err(CompressionError::OutputTooLarge { .. })),
                "{cap}"
            );
        }
        for cap in [10_000, 10_001, 1 << 20] {
            let out = read_capped(Compression::None, &data[..], 1, cap).unwrap();
            assert_eq!(out, data);
            assert!(out.capacity() <= cap, "{cap}: capacity {}", out.capacity());
        }
    }
}
