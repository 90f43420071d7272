//! Writes the seed corpora under `corpus/<target>/`: valid inputs that start each target deep
//! inside its format. Deterministic (fixed seeds), so regenerating gives the same files.
//!
//! `cargo run --release --example gen_corpus` (from `protocol/fuzz`). It empties each
//! `corpus/<target>/` first; run the fuzzers with a separate directory for what they find (see
//! README.md). Every seed is checked before it is written: requests and responses decode,
//! batches validate, compressed payloads decompress, and every seed passes its target's check.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use pinlog_protocol::generated::{ApiKey, RequestBody, RequestHeader, ResponseBody};
use pinlog_protocol::header::{decode_request, encode_request};
use pinlog_protocol::records::{
    compress, decompress, BatchBuilder, Compression, ControlMarker, EndTxnMarker, Header,
    NewRecord, ProducerFields, RecordBatch, TimestampType,
};
use pinlog_protocol::wire::{Reader, Writer};
use pinlog_protocol_fuzz as checks;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let requests = request_seeds(&mut rng);
    write_all(&root, "request", &requests, checks::check_request);
    write_all(
        &root,
        "response",
        &response_seeds(&mut rng),
        checks::check_response,
    );
    write_all(&root, "frame", &frame_seeds(&requests), checks::check_frame);
    write_all(
        &root,
        "record_batch",
        &batch_seeds(&mut rng),
        checks::check_record_batch,
    );
    for (codec, name) in [
        (Compression::Gzip, "decompress_gzip"),
        (Compression::Snappy, "decompress_snappy"),
        (Compression::Lz4, "decompress_lz4"),
        (Compression::Zstd, "decompress_zstd"),
    ] {
        let seeds = compressed_seeds(codec, &mut rng);
        write_all(&root, name, &seeds, |data| {
            checks::check_decompress(codec, data)
        });
    }
}

type Seeds = Vec<(String, Vec<u8>)>;

fn write_all(root: &Path, target: &str, seeds: &Seeds, check: impl Fn(&[u8])) {
    let dir: PathBuf = root.join(target);
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("clear the corpus directory");
    }
    fs::create_dir_all(&dir).expect("create the corpus directory");
    let mut total = 0;
    for (name, data) in seeds {
        check(data);
        let mut file = fs::File::create(dir.join(name)).expect("create a seed file");
        file.write_all(data).expect("write a seed file");
        total += data.len();
    }
    println!("{target}: {} seeds, {total} bytes", seeds.len());
}

/// Oldest, a middle and newest version of a range.
fn versions(min: i16, max: i16) -> Vec<i16> {
    let mut versions = vec![min, min + (max - min) / 2, max];
    versions.dedup();
    versions
}

/// Every API key at three versions, as frames without the size prefix.
fn request_seeds(rng: &mut SmallRng) -> Seeds {
    let mut seeds = Vec::new();
    for &api in ApiKey::ALL {
        let range = api.request_versions();
        for version in versions(range.min, range.max) {
            let header_version = api.request_header_version(version);
            let mut header = RequestHeader::random(rng, header_version);
            header.request_api_key = api.key();
            header.request_api_version = version;
            let body = RequestBody::random(api, rng, version);
            let frame = concat(&encode_request(&header, &body).expect("a random request encodes"));
            let frame = frame.slice(4..);
            decode_request(frame.clone(), |_, _| true).expect("a seed request decodes");
            seeds.push((format!("{}-v{version}", api.name()), frame.to_vec()));
        }
    }
    seeds
}

/// Every API key at three versions, behind the selector bytes that choose them.
fn response_seeds(rng: &mut SmallRng) -> Seeds {
    let mut seeds = Vec::new();
    for (index, &api) in ApiKey::ALL.iter().enumerate() {
        let range = api.response_versions();
        for version in versions(range.min, range.max) {
            let body = ResponseBody::random(api, rng, version);
            let mut writer = Writer::new();
            body.encode(&mut writer, version)
                .expect("a random response encodes");
            let bytes = writer.into_bytes();
            let mut reader = Reader::new(bytes.clone(), "ResponseBody", version);
            ResponseBody::decode(api, &mut reader, version).expect("a seed response decodes");

            let offset = u16::try_from(version - range.min).expect("a non-negative offset");
            let index = u16::try_from(index).expect("fewer than 2^16 API keys");
            let mut data = Vec::with_capacity(checks::RESPONSE_SELECTOR_BYTES + bytes.len());
            data.extend_from_slice(&index.to_be_bytes());
            data.extend_from_slice(&offset.to_be_bytes());
            assert_eq!(
                checks::response_selector(data[..4].try_into().unwrap()),
                (api, version)
            );
            data.extend_from_slice(&bytes);
            seeds.push((format!("{}-v{version}", api.name()), data));
        }
    }
    seeds
}

/// Streams of request frames under several limits and read patterns, some ending in a partial
/// frame, an oversized or a negative size.
fn frame_seeds(requests: &Seeds) -> Seeds {
    let stream: Vec<u8> = requests
        .iter()
        .take(12)
        .flat_map(|(_, frame)| {
            let size = u32::try_from(frame.len()).expect("a small frame");
            size.to_be_bytes().into_iter().chain(frame.iter().copied())
        })
        .collect();
    let mut seeds = Vec::new();
    // (limit selector, chunking seed, largest read, tail)
    let cases: [(&str, [u8; 3], &[u8]); 7] = [
        ("whole-default-limit", [255, 0, 255], &[]),
        ("bytewise", [255, 1, 0], &[]),
        ("chunked-partial-tail", [255, 7, 40], &[0, 0, 1, 0, 9, 9]),
        (
            "chunked-negative-size",
            [255, 3, 13],
            &[0xff, 0xff, 0xff, 0xfe, 1],
        ),
        ("chunked-too-large", [254, 9, 63], &[0x7f, 0xff, 0xff, 0xff]),
        ("small-limit", [64, 5, 7], &[]),
        (
            "empty-frames",
            [0, 2, 3],
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ),
    ];
    for (name, control, tail) in cases {
        let mut data = control.to_vec();
        if name != "empty-frames" {
            data.extend_from_slice(&stream);
        }
        data.extend_from_slice(tail);
        seeds.push((name.to_string(), data));
    }
    seeds
}

/// Valid batches of every codec and kind, alone and concatenated, with and without the
/// CRC-fixing mode byte.
fn batch_seeds(rng: &mut SmallRng) -> Seeds {
    let mut batches: Vec<(String, Bytes)> = Vec::new();
    for codec in CODECS {
        let name = format!("{codec:?}").to_lowercase();
        let plain = records_builder(rng, 5).compression(codec);
        batches.push((format!("{name}-plain"), plain.build().expect("a batch")));
        let idempotent = records_builder(rng, 3)
            .compression(codec)
            .base_offset(1234)
            .partition_leader_epoch(5)
            .producer(ProducerFields {
                producer_id: 42,
                producer_epoch: 1,
                base_sequence: 10,
            })
            .transactional(true)
            .timestamp_type(TimestampType::LogAppend);
        batches.push((
            format!("{name}-transactional"),
            idempotent.build().expect("a batch"),
        ));
    }
    let marker = ControlMarker {
        commit: true,
        marker: EndTxnMarker {
            version: 0,
            coordinator_epoch: 3,
        },
    };
    let control = BatchBuilder::new()
        .producer(ProducerFields {
            producer_id: 42,
            producer_epoch: 1,
            base_sequence: -1,
        })
        .end_txn_marker(marker, 1_700_000_000_000);
    batches.push((
        "control-commit".to_string(),
        control.build().expect("a control batch"),
    ));

    for (_, batch) in &batches {
        let view = RecordBatch::new(batch.clone()).expect("a header");
        view.validate_header()
            .expect("a seed batch header is valid");
        view.validate_records(checks::RECORDS_BYTES_MAX)
            .expect("seed batch records are valid");
    }
    let mut seeds: Seeds = batches
        .iter()
        .map(|(name, batch)| (name.clone(), with_mode(0, batch)))
        .collect();
    let all = concat(
        &batches
            .iter()
            .map(|(_, batch)| batch.clone())
            .collect::<Vec<_>>(),
    );
    seeds.push(("all-concatenated".to_string(), with_mode(0, &all)));
    seeds.push((
        "all-concatenated-fix-crc".to_string(),
        with_mode(checks::MODE_FIX_CRC, &all),
    ));
    let partial = all.slice(..all.len() - 7);
    seeds.push(("partial-last-batch".to_string(), with_mode(0, &partial)));
    seeds
}

fn records_builder(rng: &mut SmallRng, count: usize) -> BatchBuilder {
    let mut builder = BatchBuilder::new();
    let start = 1_700_000_000_000i64;
    for i in 0..count {
        let value: Vec<u8> = (0..rng.gen_range(0..200))
            .map(|j| (j % 13) as u8 + b'a')
            .collect();
        let headers = (0..i % 3)
            .map(|h| Header {
                key: Bytes::from(format!("h{h}")),
                value: (h != 1).then(|| Bytes::from_static(b"header-value")),
            })
            .collect();
        builder.push(NewRecord {
            key: (i % 4 != 3).then(|| Bytes::from(format!("key-{i}"))),
            value: (i % 5 != 4).then(|| Bytes::from(value)),
            headers,
            timestamp: start + rng.gen_range(-50..500),
        });
    }
    builder
}

/// Payloads of several kinds, compressed with `codec`, plus the codec's framing variants
/// (concatenated frames or members, raw snappy) and a bomb just over the target's cap.
fn compressed_seeds(codec: Compression, rng: &mut SmallRng) -> Seeds {
    let text = b"pinlog fuzz seed: the quick brown fox jumps over the lazy dog. ".repeat(20);
    let noise: Vec<u8> = (0..4096).map(|_| rng.gen()).collect();
    let mixed: Vec<u8> = (0..40 * 1024)
        .map(|i| {
            if i % 64 < 16 {
                rng.gen()
            } else {
                (i % 7) as u8
            }
        })
        .collect();
    let records = records_builder(rng, 20)
        .build()
        .expect("a batch")
        .slice(61..);
    let mut payloads: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", text.clone()),
        ("noise", noise),
        ("mixed-40k", mixed),
        ("records", records.to_vec()),
    ];
    let compressed = |input: &[u8]| compress(codec, input).expect("compress a seed");
    let mut seeds: Seeds = payloads
        .drain(..)
        .map(|(name, payload)| (name.to_string(), compressed(&payload)))
        .collect();
    let mut twice = compressed(&text);
    twice.extend_from_slice(&compressed(b"second frame"));
    match codec {
        Compression::Gzip => seeds.push(("two-members".to_string(), twice)),
        Compression::Lz4 => {
            seeds.push(("two-frames".to_string(), twice));
            seeds.push(("linked-blocks-checksum".to_string(), lz4_linked(&text)));
        }
        Compression::Zstd => {
            seeds.push(("two-frames".to_string(), twice));
            seeds.push(("streamed-checksum".to_string(), zstd_streamed(&text)));
        }
        Compression::Snappy => {
            let raw = snap::raw::Encoder::new()
                .compress_vec(&text)
                .expect("raw snappy");
            seeds.push(("raw-block".to_string(), raw));
        }
        Compression::None => {}
    }
    for (_, data) in &seeds {
        decompress(codec, data, checks::DECOMPRESSED_BYTES_MAX).expect("a seed decompresses");
    }
    let bomb = compressed(&vec![0u8; checks::DECOMPRESSED_BYTES_MAX + 1]);
    assert!(decompress(codec, &bomb, checks::DECOMPRESSED_BYTES_MAX).is_err());
    seeds.push(("bomb-over-cap".to_string(), bomb));
    seeds
}

/// LZ4 as other encoders write it: linked blocks, content checksum, content size.
fn lz4_linked(input: &[u8]) -> Vec<u8> {
    let info = lz4_flex::frame::FrameInfo::new()
        .block_mode(lz4_flex::frame::BlockMode::Linked)
        .content_checksum(true)
        .content_size(Some(input.len() as u64));
    let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    encoder.write_all(input).expect("lz4 write");
    encoder.finish().expect("lz4 finish")
}

/// zstd through the streaming encoder (no content size in the header) with a checksum.
fn zstd_streamed(input: &[u8]) -> Vec<u8> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd encoder");
    encoder.include_checksum(true).expect("zstd checksum");
    encoder.write_all(input).expect("zstd write");
    encoder.finish().expect("zstd finish")
}

fn with_mode(mode: u8, buf: &[u8]) -> Vec<u8> {
    let mut data = vec![mode];
    data.extend_from_slice(buf);
    data
}

fn concat(chunks: &[Bytes]) -> Bytes {
    let mut out = BytesMut::new();
    for chunk in chunks {
        out.extend_from_slice(chunk);
    }
    out.freeze()
}
