//! Arbitrary and mutated bytes into the batch view, validation, record iteration and every
//! decompressor: errors are fine, panics and unbounded output are not.

use bytes::Bytes;
use pinlog_protocol::records::varint::{decode_varint, decode_varlong};
use pinlog_protocol::records::{
    crc32c, decompress, set_base_offset, set_log_append_time, set_partition_leader_epoch,
    BatchBuilder, Batches, Compression, ControlKey, ControlMarker, EndTxnMarker, Header, NewRecord,
    RecordBatch,
};
use proptest::prelude::*;

const CAP: usize = 1 << 20;
const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// Everything a reader of an untrusted batch may call.
fn exercise(batch: &RecordBatch) {
    let _ = (
        batch.base_offset(),
        batch.batch_length(),
        batch.partition_leader_epoch(),
        batch.magic(),
        batch.crc(),
        batch.compression(),
        batch.timestamp_type(),
        batch.last_offset(),
        batch.max_timestamp(),
        batch.records_count(),
    );
    let _ = batch.validate_header();
    let _ = batch.validate_produce();
    let _ = batch.validate_records(CAP);
    if let Ok(records) = batch.records(CAP) {
        for record in records.take(10_000) {
            let Ok(record) = record else { break };
            for header in &record.headers {
                let _ = (header.key.len(), header.value.map(|v| v.len()));
            }
            let _ = ControlMarker::parse(&record);
        }
    }
}

fn exercise_buffer(bytes: Vec<u8>) {
    for batch in Batches::new(Bytes::from(bytes.clone())).take(1000) {
        let Ok(batch) = batch else { break };
        exercise(&batch);
    }
    if let Ok(batch) = RecordBatch::new(Bytes::from(bytes)) {
        exercise(&batch);
    }
}

/// A valid batch to mutate: a few records with keys, values and headers.
fn valid_batch(codec: Compression, count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| NewRecord {
            key: (i % 3 != 0).then(|| Bytes::from(vec![i as u8; i % 7])),
            value: Some(Bytes::from(vec![b'v'; 10 + i * 3])),
            headers: vec![Header {
                key: Bytes::from_static(b"h"),
                value: (i % 2 == 0).then(|| Bytes::from_static(b"hv")),
            }],
            timestamp: 1000 + i as i64,
        })
        .fold(BatchBuilder::new().compression(codec), BatchBuilder::record)
        .build()
        .unwrap()
        .to_vec()
}

/// Gives an edited batch a correct batchLength and CRC, so that it gets past the header checks
/// and the record parser sees the damage.
fn reseal(bytes: &mut [u8]) {
    if bytes.len() >= 61 {
        let length = (bytes.len() - 12) as i32;
        bytes[8..12].copy_from_slice(&length.to_be_bytes());
        let crc = crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set(at, byte)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    if bytes.is_empty() {
        return;
    }
    match edit {
        Edit::Set(at, byte) => {
            let at = at % bytes.len();
            bytes[at] = *byte;
        }
        Edit::Truncate(at) => bytes.truncate(at % bytes.len()),
        Edit::Insert(at, more) => {
            let at = at % bytes.len();
            bytes.splice(at..at, more.iter().copied());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise_buffer(bytes);
    }

    /// Random bytes behind a plausible header: right length, magic and CRC, any codec, so
    /// that the record parser and the decompressors see them.
    #[test]
    fn arbitrary_records_behind_a_valid_header_never_panic(
        header in prop::collection::vec(any::<u8>(), 61),
        records in prop::collection::vec(any::<u8>(), 0..400),
        codec in 0i16..8,
    ) {
        let mut bytes = [header, records].concat();
        bytes[16] = 2;
        bytes[21] = 0;
        bytes[22] = (bytes[22] & 0xf8) | codec as u8;
        reseal(&mut bytes);
        exercise_buffer(bytes);
    }

    #[test]
    fn mutated_batches_never_panic(
        codec in 0usize..5,
        count in 1usize..6,
        edits in prop::collection::vec(edit_strategy(), 1..4),
        fix_crc in any::<bool>(),
    ) {
        let mut bytes = valid_batch(CODECS[codec], count);
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        if fix_crc {
            reseal(&mut bytes);
        }
        exercise_buffer(bytes);
    }

    #[test]
    fn decompressors_never_panic_and_respect_the_cap(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cap in 0usize..4096,
    ) {
        for codec in CODECS {
            if let Ok(out) = decompress(codec, &bytes, cap) {
                prop_assert!(out.len() <= cap);
            }
        }
        // Behind each codec's magic, so that the decoders get past their first check.
        let magics: [&[u8]; 4] = [
            &[0x1f, 0x8b, 8],
            b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01",
            &[0x04, 0x22, 0x4d, 0x18],
            &[0x28, 0xb5, 0x2f, 0xfd],
        ];
        for (codec, magic) in CODECS[1..].iter().zip(magics) {
            let input = [magic, &bytes[..]].concat();
            if let Ok(out) = decompress(*codec, &input, cap) {
                prop_assert!(out.len() <= cap);
            }
        }
    }

    #[test]
    fn small_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let _ = decode_varint(&bytes);
        let _ = decode_varlong(&bytes);
        let _ = ControlKey::parse(&bytes);
        let _ = EndTxnMarker::parse(&bytes);
        let mut buf = bytes.clone();
        let _ = set_base_offset(&mut buf, 1);
        let _ = set_partition_leader_epoch(&mut buf, 1);
        let _ = set_log_append_time(&mut buf, 1);
    }
}
