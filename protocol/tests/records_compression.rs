//! Compression codecs: round trips, interop with kafka-protocol's codecs, xerial snappy framing,
//! the output cap, and corrupt input.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{self as kp, Compressor, Decompressor};
use pinlog_protocol::records::{compress, decompress, Compression, CompressionError};
use rand::{Rng, SeedableRng};

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// Half random, half repetitive, so that every codec has something to find.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    (0..len)
        .map(|i| {
            if i % 64 < 32 {
                rng.gen()
            } else {
                (i % 7) as u8
            }
        })
        .collect()
}

#[test]
fn attributes_name_the_codec() {
    for codec in CODECS {
        let attributes = codec.attribute_bits() | 0x7ff8;
        assert_eq!(Compression::from_attributes(attributes), Ok(codec));
    }
    for id in 5..8 {
        assert_eq!(
            Compression::from_attributes(id | 0x10),
            Err(CompressionError::UnknownCodec(id))
        );
    }
}

#[test]
fn round_trip_every_codec() {
    let lengths = [0, 1, 100, 32_767, 32_768, 32_769, 100_000, 1 << 20];
    for codec in CODECS {
        for (seed, len) in lengths.into_iter().enumerate() {
            let data = sample(len, seed as u64);
            let compressed = compress(codec, &data).unwrap();
            assert_eq!(
                decompress(codec, &compressed, len).unwrap(),
                data,
                "{codec:?} {len}"
            );
            if len > 0 {
                assert_eq!(
                    decompress(codec, &compressed, len - 1),
                    Err(CompressionError::OutputTooLarge {
                        codec,
                        output_bytes_max: len - 1
                    }),
                    "{codec:?} {len} one byte over the cap"
                );
            }
        }
    }
}

/// Our output decodes with kafka-protocol's codecs and theirs with ours, for every codec.
#[test]
fn interop_with_kafka_protocol_codecs() {
    let data = sample(200_000, 9);
    for codec in CODECS {
        let ours = Bytes::from(compress(codec, &data).unwrap());
        assert_eq!(
            kp_decompress(codec, ours),
            data,
            "kafka-protocol reads our {codec:?}"
        );
        let theirs = kp_compress(codec, &data);
        assert_eq!(
            decompress(codec, &theirs, data.len()).unwrap(),
            data,
            "we read kafka-protocol's {codec:?}"
        );
    }
}

fn kp_compress(codec: Compression, data: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    let write = |buf: &mut BytesMut| {
        buf.put_slice(data);
        Ok(())
    };
    match codec {
        Compression::None => kp::None::compress(&mut out, write),
        Compression::Gzip => kp::Gzip::compress(&mut out, write),
        Compression::Snappy => kp::Snappy::compress(&mut out, write),
        Compression::Lz4 => kp::Lz4::compress(&mut out, write),
        Compression::Zstd => kp::Zstd::compress(&mut out, write),
    }
    .unwrap();
    out.to_vec()
}

fn kp_decompress(codec: Compression, mut input: Bytes) -> Vec<u8> {
    let read = |buf: &mut Bytes| Ok(buf.to_vec());
    match codec {
        Compression::None => kp::None::decompress(&mut input, read),
        Compression::Gzip => kp::Gzip::decompress(&mut input, read),
        Compression::Snappy => kp::Snappy::decompress(&mut input, read),
        Compression::Lz4 => kp::Lz4::decompress(&mut input, read),
        Compression::Zstd => kp::Zstd::decompress(&mut input, read),
    }
    .unwrap()
}

const XERIAL_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];

#[test]
fn snappy_writes_xerial_framing() {
    let data = sample(70_000, 3);
    let out = compress(Compression::Snappy, &data).unwrap();
    assert_eq!(out[..16], XERIAL_HEADER);
    // Three blocks of at most 32 KiB, each a big-endian length and a raw snappy block.
    let mut rest = &out[16..];
    let mut decoded = Vec::new();
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let block = snap::raw::Decoder::new()
            .decompress_vec(&rest[4..4 + len])
            .unwrap();
        assert!(block.len() <= 32 * 1024);
        decoded.extend_from_slice(&block);
        rest = &rest[4 + len..];
    }
    assert_eq!(decoded, data);
}

/// A stream built by hand as the Java client's SnappyOutputStream lays it out, with blocks of
/// uneven sizes, and the raw snappy librdkafka writes.
#[test]
fn snappy_reads_xerial_and_raw() {
    let parts = [sample(10, 1), sample(32 * 1024, 2), sample(5000, 3)];
    let mut stream = XERIAL_HEADER.to_vec();
    for part in &parts {
        let block = snap::raw::Encoder::new().compress_vec(part).unwrap();
        stream.extend_from_slice(&(block.len() as i32).to_be_bytes());
        stream.extend_from_slice(&block);
    }
    let expected = parts.concat();
    assert_eq!(
        decompress(Compression::Snappy, &stream, 1 << 20).unwrap(),
        expected
    );
    // Only the header: no blocks, no bytes.
    assert_eq!(
        decompress(Compression::Snappy, &XERIAL_HEADER, 10).unwrap(),
        b""
    );

    let raw = snap::raw::Encoder::new().compress_vec(&expected).unwrap();
    assert_eq!(
        decompress(Compression::Snappy, &raw, 1 << 20).unwrap(),
        expected
    );
    assert!(matches!(
        decompress(Compression::Snappy, &raw, expected.len() - 1),
        Err(CompressionError::OutputTooLarge { .. })
    ));
}

#[test]
fn xerial_framing_errors() {
    let block = snap::raw::Encoder::new().compress_vec(b"hello").unwrap();
    let mut stream = XERIAL_HEADER.to_vec();
    stream.extend_from_slice(&(block.len() as i32).to_be_bytes());
    stream.extend_from_slice(&block);

    // Header cut short.
    assert!(matches!(
        decompress(Compression::Snappy, &stream[..12], 100),
        Err(CompressionError::XerialTruncated { position: 8, .. })
    ));
    // Block length cut short.
    assert!(matches!(
        decompress(Compression::Snappy, &stream[..18], 100),
        Err(CompressionError::XerialTruncated {
            position: 16,
            needed: 4,
            remaining: 2
        })
    ));
    // Block cut short.
    let cut = stream.len() - 1;
    assert!(matches!(
        decompress(Compression::Snappy, &stream[..cut], 100),
        Err(CompressionError::XerialTruncated { position: 20, .. })
    ));
    // Negative and oversized block lengths.
    for length in [-1i32, i32::MIN, i32::MAX, block.len() as i32 + 1] {
        let mut bad = stream.clone();
        bad[16..20].copy_from_slice(&length.to_be_bytes());
        assert!(
            matches!(
                decompress(Compression::Snappy, &bad, 100),
                Err(CompressionError::XerialTruncated { .. })
            ),
            "{length}"
        );
    }
}

#[test]
fn truncated_input_is_an_error() {
    let data = sample(100_000, 5);
    for codec in CODECS[1..].iter().copied() {
        let compressed = compress(codec, &data).unwrap();
        // Cuts that do not fall on a xerial block boundary (which would be a shorter but
        // well-formed stream).
        for cut in [1, 7, 15, 17, 21, compressed.len() / 3, compressed.len() - 1] {
            let result = decompress(codec, &compressed[..cut], 1 << 20);
            match (codec, result) {
                (_, Err(_)) => {}
                // lz4_flex ends a frame quietly when the input stops between blocks or inside
                // the EndMark: the output is a prefix, which the batch's record count catches.
                (Compression::Lz4, Ok(out)) => assert!(data.starts_with(&out)),
                (_, Ok(_)) => panic!("{codec:?} cut at {cut} of {}", compressed.len()),
            }
        }
    }
}

#[test]
fn corrupt_input_never_panics() {
    let data = sample(50_000, 6);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
    for codec in CODECS {
        let compressed = compress(codec, &data).unwrap();
        for _ in 0..300 {
            let mut bad = compressed.clone();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..bad.len());
                bad[at] ^= 1 << rng.gen_range(0..8);
            }
            // Without content checksums a flip may decode to other bytes; it must not panic,
            // and must respect the cap.
            if let Ok(out) = decompress(codec, &bad, 60_000) {
                assert!(out.len() <= 60_000);
            }
        }
    }
    // gzip carries a CRC32 of the content: a flipped content byte is caught.
    let gzip = compress(Compression::Gzip, &data).unwrap();
    let mut bad = gzip.clone();
    let at = bad.len() - 12;
    bad[at] ^= 0x10;
    assert!(decompress(Compression::Gzip, &bad, 60_000).is_err());
}

/// A zstd frame may declare a window far larger than its content, which the decoder would
/// allocate up front; windows beyond the limit are refused before that.
#[test]
fn zstd_huge_window_is_refused() {
    use std::io::Write;
    let data = sample(1000, 10);
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    encoder.window_log(30).unwrap();
    encoder.long_distance_matching(true).unwrap();
    encoder.write_all(&data).unwrap();
    let frame = encoder.finish().unwrap();
    assert!(matches!(
        decompress(Compression::Zstd, &frame, 1 << 20),
        Err(CompressionError::Corrupt {
            codec: Compression::Zstd,
            ..
        })
    ));
}

#[test]
fn garbage_is_an_error() {
    let garbage = sample(1000, 8);
    for codec in CODECS[1..].iter().copied() {
        assert!(decompress(codec, &garbage, 1 << 20).is_err(), "{codec:?}");
        // Empty input may be an empty stream for some codecs; it only must not panic.
        let _ = decompress(codec, &[], 1 << 20);
    }
}
