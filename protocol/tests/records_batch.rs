//! The RecordBatch v2 view: header fields, validation and its error positions, record
//! iteration, bit flips under the CRC, splitting buffers and in-place rewrites.

use bytes::{BufMut, Bytes, BytesMut};
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::varint::encode_varint;
use pinlog_protocol::records::{
    crc32c, set_base_offset, set_log_append_time, set_partition_leader_epoch, BatchBuilder,
    BatchError, Batches, BuildError, Compression, CompressionError, ControlMarker, EndTxnMarker,
    Header, NewRecord, ProducerFields, Record, RecordBatch, RecordErrorKind, RecordField,
    TimestampType,
};

const CAP: usize = DECOMPRESSED_BATCH_BYTES_MAX;
const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

fn sample_records() -> Vec<NewRecord> {
    vec![
        NewRecord {
            key: Some(Bytes::from_static(b"k0")),
            value: Some(Bytes::from_static(b"first value")),
            headers: vec![
                Header {
                    key: Bytes::from_static(b"h"),
                    value: Some(Bytes::from_static(b"v")),
                },
                Header {
                    key: Bytes::from_static(b"null"),
                    value: None,
                },
            ],
            timestamp: 1_700_000_000_000,
        },
        NewRecord {
            key: None,
            value: None,
            headers: vec![],
            // Earlier than the first: the delta is negative.
            timestamp: 1_699_999_999_000,
        },
        NewRecord {
            key: Some(Bytes::from_static(b"")),
            value: Some(Bytes::from(vec![7u8; 3000])),
            headers: vec![],
            timestamp: 1_700_000_000_500,
        },
    ]
}

fn build(codec: Compression) -> Bytes {
    sample_records()
        .into_iter()
        .fold(BatchBuilder::new().compression(codec), BatchBuilder::record)
        .partition_leader_epoch(3)
        .producer(ProducerFields {
            producer_id: 42,
            producer_epoch: 2,
            base_sequence: 100,
        })
        .build()
        .unwrap()
}

fn collect(batch: &RecordBatch) -> Vec<Record> {
    batch
        .records(CAP)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn built_batches_read_back_for_every_codec() {
    for codec in CODECS {
        let batch = RecordBatch::new(build(codec)).unwrap();
        batch.validate_header().unwrap();
        batch.validate_produce().unwrap();
        assert_eq!(batch.validate_records(CAP), Ok(3));
        assert_eq!(batch.base_offset(), 0);
        assert_eq!(batch.batch_length() as usize, batch.size_bytes() - 12);
        assert_eq!(batch.partition_leader_epoch(), 3);
        assert_eq!(batch.magic(), 2);
        assert_eq!(batch.compression(), Ok(codec));
        assert_eq!(batch.timestamp_type(), TimestampType::Create);
        assert!(!batch.is_transactional() && !batch.is_control() && !batch.has_delete_horizon());
        assert_eq!(batch.last_offset_delta(), 2);
        assert_eq!(batch.base_timestamp(), 1_700_000_000_000);
        assert_eq!(batch.max_timestamp(), 1_700_000_000_500);
        assert_eq!(
            (
                batch.producer_id(),
                batch.producer_epoch(),
                batch.base_sequence()
            ),
            (42, 2, 100)
        );
        assert_eq!(batch.records_count(), 3);

        let records = collect(&batch);
        for (i, (got, want)) in records.iter().zip(sample_records()).enumerate() {
            assert_eq!(got.offset, i as i64);
            assert_eq!(got.offset_delta, i as i32);
            assert_eq!(got.timestamp, want.timestamp);
            assert_eq!(got.key, want.key);
            assert_eq!(got.value, want.value);
            assert_eq!(got.headers.iter().collect::<Vec<_>>(), want.headers);
            assert_eq!(got.headers.len(), want.headers.len());
        }
        assert_eq!(records.len(), 3);
    }
}

#[test]
fn uncompressed_values_are_slices_of_the_batch() {
    let bytes = build(Compression::None);
    let batch = RecordBatch::new(bytes.clone()).unwrap();
    let value = collect(&batch)[2].value.clone().unwrap();
    let start = value.as_ptr() as usize - bytes.as_ptr() as usize;
    assert!(
        start + value.len() <= bytes.len(),
        "value points into the batch"
    );
}

#[test]
fn flipping_any_bit_under_the_crc_fails_validation() {
    let bytes = BatchBuilder::new()
        .record(NewRecord {
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"value")),
            headers: vec![Header {
                key: Bytes::from_static(b"h"),
                value: None,
            }],
            timestamp: 5,
        })
        .build()
        .unwrap();
    RecordBatch::new(bytes.clone())
        .unwrap()
        .validate_header()
        .unwrap();
    // The CRC field itself and everything it covers (attributes to the end).
    for byte in 17..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.to_vec();
            bad[byte] ^= 1 << bit;
            let result = RecordBatch::new(bad.into()).unwrap().validate_header();
            assert!(
                matches!(result, Err(BatchError::CrcMismatch { .. })),
                "byte {byte} bit {bit}: {result:?}"
            );
        }
    }
    // baseOffset (0..8) and partitionLeaderEpoch (12..16) are outside it on purpose.
    for byte in (0..8).chain(12..16) {
        let mut other = bytes.to_vec();
        other[byte] ^= 0x40;
        RecordBatch::new(other.into())
            .unwrap()
            .validate_header()
            .unwrap();
    }
}

#[test]
fn rewriting_base_offset_and_epoch_keeps_the_batch_valid() {
    for codec in CODECS {
        let mut bytes = BytesMut::from(&build(codec)[..]);
        set_base_offset(&mut bytes, 1_000_000).unwrap();
        set_partition_leader_epoch(&mut bytes, 17).unwrap();
        let batch = RecordBatch::new(bytes.freeze()).unwrap();
        batch.validate_header().unwrap();
        assert_eq!(batch.validate_records(CAP), Ok(3));
        assert_eq!(
            (batch.base_offset(), batch.partition_leader_epoch()),
            (1_000_000, 17)
        );
        assert_eq!(batch.last_offset(), 1_000_002);
        let offsets: Vec<i64> = collect(&batch).iter().map(|r| r.offset).collect();
        assert_eq!(offsets, [1_000_000, 1_000_001, 1_000_002]);
    }
    assert!(matches!(
        set_base_offset(&mut [0u8; 60], 1),
        Err(BatchError::Truncated {
            needed: 61,
            available: 60,
            ..
        })
    ));
}

#[test]
fn log_append_time_applies_to_every_record() {
    let mut bytes = BytesMut::from(&build(Compression::Lz4)[..]);
    set_log_append_time(&mut bytes, 1_800_000_000_000).unwrap();
    let batch = RecordBatch::new(bytes.freeze()).unwrap();
    batch.validate_header().unwrap();
    assert_eq!(batch.timestamp_type(), TimestampType::LogAppend);
    assert_eq!(batch.max_timestamp(), 1_800_000_000_000);
    assert!(collect(&batch)
        .iter()
        .all(|r| r.timestamp == 1_800_000_000_000));
}

#[test]
fn splitting_concatenated_batches() {
    let parts = [
        build(Compression::None),
        build(Compression::Zstd),
        build(Compression::Gzip),
    ];
    let mut buf = BytesMut::new();
    for part in &parts {
        buf.put_slice(part);
    }
    let whole = buf.len();
    // A partial trailing batch, as a fetch response may end with.
    buf.put_slice(&parts[0][..40]);
    let mut batches = Batches::new(buf.freeze());
    for part in &parts {
        assert_eq!(batches.next().unwrap().unwrap().as_bytes(), part);
    }
    assert_eq!(
        batches.next(),
        Some(Err(BatchError::Truncated {
            position: whole,
            needed: parts[0].len(),
            available: 40
        }))
    );
    assert_eq!(batches.next(), None);
    assert_eq!(batches.position(), whole);

    // Too short to hold even batchLength.
    let mut short = Batches::new(Bytes::from_static(&[0; 11]));
    assert!(matches!(
        short.next(),
        Some(Err(BatchError::Truncated { needed: 12, .. }))
    ));
    // A batchLength too small for a header: zeros, as after a pre-allocated segment's tail.
    let mut zeros = Batches::new(Bytes::from_static(&[0; 100]));
    assert_eq!(
        zeros.next(),
        Some(Err(BatchError::LengthTooSmall {
            position: 8,
            batch_length: 0
        }))
    );
    assert_eq!(Batches::new(Bytes::new()).next(), None);
}

#[test]
fn control_batches_carry_a_transaction_marker() {
    let marker = ControlMarker {
        commit: true,
        marker: EndTxnMarker {
            version: 0,
            coordinator_epoch: 9,
        },
    };
    let bytes = BatchBuilder::new()
        .producer(ProducerFields {
            producer_id: 7,
            producer_epoch: 1,
            base_sequence: 5,
        })
        .end_txn_marker(marker, 1234)
        .build()
        .unwrap();
    let batch = RecordBatch::new(bytes).unwrap();
    batch.validate_header().unwrap();
    assert_eq!(batch.validate_records(CAP), Ok(1));
    assert!(batch.is_control() && batch.is_transactional());
    assert_eq!(batch.base_sequence(), -1);
    assert_eq!(batch.validate_produce(), Err(BatchError::ProducedControl));
    let record = &collect(&batch)[0];
    assert_eq!(ControlMarker::parse(record), Ok(marker));
    assert_eq!(record.key.as_deref(), Some(&[0u8, 0, 0, 1][..]));
}

/// A batch written by hand (not by the builder), with a correct CRC over whatever it holds.
fn raw_batch(records: &[u8], count: i32, last_offset_delta: i32, attributes: i16) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_i64(0);
    out.put_i32((49 + records.len()) as i32);
    out.put_i32(-1);
    out.put_i8(2);
    out.put_u32(0);
    out.put_i16(attributes);
    out.put_i32(last_offset_delta);
    out.put_i64(10);
    out.put_i64(10);
    out.put_i64(-1);
    out.put_i16(-1);
    out.put_i32(-1);
    out.put_i32(count);
    out.put_slice(records);
    let crc = crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// One record body as the fields say, with its length prefix.
fn raw_record(offset_delta: i32, key_len: i32, key: &[u8], headers_count: i32) -> Vec<u8> {
    let mut body = vec![0u8]; // attributes
    encode_varint(0, &mut body); // timestampDelta (a varlong; 0 is one byte either way)
    encode_varint(offset_delta, &mut body);
    encode_varint(key_len, &mut body);
    body.extend_from_slice(key);
    encode_varint(-1, &mut body); // null value
    encode_varint(headers_count, &mut body);
    let mut out = Vec::new();
    encode_varint(body.len() as i32, &mut out);
    out.extend_from_slice(&body);
    out
}

fn record_error(bytes: Vec<u8>) -> (RecordField, usize, RecordErrorKind) {
    let batch = RecordBatch::new(bytes.into()).unwrap();
    batch.validate_header().unwrap();
    match batch.validate_records(CAP) {
        Err(BatchError::Record(e)) => (e.field, e.position, e.kind),
        other => panic!("expected a record error, got {other:?}"),
    }
}

#[test]
fn record_framing_errors_name_field_and_position() {
    let good = raw_record(0, 1, b"k", 0);
    RecordBatch::new(raw_batch(&good, 1, 0, 0).into())
        .unwrap()
        .validate_records(CAP)
        .unwrap();

    // Records start at byte 61; this one is 1 (length) + 1 + 1 + 1 + 1 + 1 (key) + 1 + 1.
    let two = [raw_record(0, 1, b"k", 0), raw_record(1, 1, b"k", 0)].concat();
    let (field, position, kind) = record_error(raw_batch(&two, 3, 2, 0));
    assert_eq!((field, position), (RecordField::Record, 61 + two.len()));
    assert_eq!(
        kind,
        RecordErrorKind::MissingRecords {
            declared: 3,
            found: 2
        }
    );

    let (field, position, kind) = record_error(raw_batch(&two, 1, 1, 0));
    assert_eq!((field, position), (RecordField::Record, 61 + good.len()));
    assert_eq!(
        kind,
        RecordErrorKind::TrailingBytes {
            remaining: good.len()
        }
    );

    let repeated = [raw_record(0, 1, b"k", 0), raw_record(0, 1, b"k", 0)].concat();
    let (field, _, kind) = record_error(raw_batch(&repeated, 2, 1, 0));
    assert_eq!(field, RecordField::OffsetDelta);
    assert_eq!(
        kind,
        RecordErrorKind::OffsetDeltaNotIncreasing {
            delta: 0,
            previous: 0
        }
    );

    let (_, _, kind) = record_error(raw_batch(&raw_record(5, 1, b"k", 0), 1, 4, 0));
    assert_eq!(
        kind,
        RecordErrorKind::OffsetDeltaBeyondLast {
            delta: 5,
            last_offset_delta: 4
        }
    );

    // Key length -2: only -1 means null.
    let (field, position, kind) = record_error(raw_batch(&raw_record(0, -2, b"", 0), 1, 0, 0));
    assert_eq!((field, position), (RecordField::KeyLength, 61 + 4));
    assert_eq!(kind, RecordErrorKind::InvalidLength(-2));

    // A key longer than the record.
    let (field, _, kind) = record_error(raw_batch(&raw_record(0, 50, b"k", 0), 1, 0, 0));
    assert_eq!(field, RecordField::Key);
    assert!(matches!(
        kind,
        RecordErrorKind::Truncated { needed: 50, .. }
    ));

    // A header count the record cannot hold is refused before reading any header.
    let (field, _, kind) = record_error(raw_batch(&raw_record(0, 1, b"k", 1_000_000), 1, 0, 0));
    assert_eq!(field, RecordField::HeadersCount);
    assert!(matches!(
        kind,
        RecordErrorKind::HeadersCountExceedsRemaining { .. }
    ));

    // A length prefix that promises more than the fields use.
    let mut padded = raw_record(0, 1, b"k", 0);
    padded[0] += 2; // zigzag: +1 in value
    padded.push(0);
    let (field, _, kind) = record_error(raw_batch(&padded, 1, 0, 0));
    assert_eq!(field, RecordField::Record);
    assert!(matches!(kind, RecordErrorKind::LengthMismatch { .. }));

    // A length prefix past the end of the batch.
    let mut long = raw_record(0, 1, b"k", 0);
    long[0] = 0x7e; // 63
    let (field, position, kind) = record_error(raw_batch(&long, 1, 0, 0));
    assert_eq!((field, position), (RecordField::Record, 62));
    assert!(matches!(
        kind,
        RecordErrorKind::Truncated { needed: 63, .. }
    ));
}

#[test]
fn header_errors() {
    let batch = |bytes: Vec<u8>| RecordBatch::new(bytes.into()).unwrap().validate_header();
    let good = raw_batch(&raw_record(0, 1, b"k", 0), 1, 0, 0);

    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        batch(long),
        Err(BatchError::LengthMismatch {
            batch_length: good.len() as i32 - 12,
            actual: good.len() - 11
        })
    );
    let mut magic = good.clone();
    magic[16] = 1;
    assert_eq!(batch(magic), Err(BatchError::UnsupportedMagic(1)));

    assert_eq!(
        batch(raw_batch(&[], 0, 0, 5)),
        Err(BatchError::Attributes(CompressionError::UnknownCodec(5)))
    );
    assert_eq!(
        batch(raw_batch(&[], -1, 0, 0)),
        Err(BatchError::NegativeRecordsCount(-1))
    );
    assert_eq!(
        batch(raw_batch(&[], 3, 1, 0)),
        Err(BatchError::LastOffsetDeltaTooSmall {
            last_offset_delta: 1,
            records_count: 3
        })
    );
    assert!(matches!(
        RecordBatch::new(Bytes::from(good[..60].to_vec())),
        Err(BatchError::Truncated {
            needed: 61,
            available: 60,
            ..
        })
    ));

    // A compacted batch: records removed, lastOffsetDelta kept, down to none at all.
    let compacted = raw_batch(&raw_record(3, 1, b"k", 0), 1, 7, 0);
    let view = RecordBatch::new(compacted.into()).unwrap();
    view.validate_header().unwrap();
    assert_eq!(view.validate_records(CAP), Ok(1));
    assert_eq!(
        view.validate_produce(),
        Err(BatchError::ProducedOffsetRange {
            last_offset_delta: 7,
            records_count: 1
        })
    );
    let empty = RecordBatch::new(raw_batch(&[], 0, 7, 0).into()).unwrap();
    empty.validate_header().unwrap();
    assert_eq!(empty.validate_records(CAP), Ok(0));
    assert_eq!(empty.validate_produce(), Err(BatchError::ProducedEmpty));
}

#[test]
fn produce_rules() {
    let produce = |bytes: Bytes| RecordBatch::new(bytes).unwrap().validate_produce();
    let mut moved = BytesMut::from(&build(Compression::None)[..]);
    set_base_offset(&mut moved, 5).unwrap();
    assert_eq!(
        produce(moved.freeze()),
        Err(BatchError::ProducedBaseOffset(5))
    );

    let no_sequence = BatchBuilder::new()
        .producer(ProducerFields {
            producer_id: 3,
            producer_epoch: 0,
            base_sequence: -1,
        })
        .record(NewRecord::default())
        .build()
        .unwrap();
    assert_eq!(
        produce(no_sequence),
        Err(BatchError::ProducedSequence {
            producer_id: 3,
            base_sequence: -1
        })
    );
}

#[test]
fn compressed_record_errors_count_from_the_decompressed_records() {
    let records = [raw_record(0, 1, b"k", 0), raw_record(1, 1, b"k", 0)].concat();
    for codec in CODECS[1..].iter().copied() {
        let compressed = pinlog_protocol::records::compress(codec, &records).unwrap();
        let bytes = raw_batch(&compressed, 3, 2, codec.attribute_bits());
        let batch = RecordBatch::new(bytes.into()).unwrap();
        batch.validate_header().unwrap();
        match batch.validate_records(CAP) {
            Err(BatchError::DecompressedRecord { codec: c, source }) => {
                assert_eq!(c, codec);
                assert_eq!(source.position, records.len());
                assert_eq!(
                    source.kind,
                    RecordErrorKind::MissingRecords {
                        declared: 3,
                        found: 2
                    }
                );
            }
            other => panic!("{codec:?}: {other:?}"),
        }
    }
}

#[test]
fn builder_refuses_what_is_not_a_batch() {
    assert_eq!(BatchBuilder::new().build(), Err(BuildError::Empty));
    let marker = ControlMarker {
        commit: false,
        marker: EndTxnMarker {
            version: 0,
            coordinator_epoch: 1,
        },
    };
    let two = BatchBuilder::new()
        .end_txn_marker(marker, 1)
        .record(NewRecord::default())
        .build();
    assert_eq!(two, Err(BuildError::ControlRecordCount(2)));
    let far = BatchBuilder::new()
        .record(NewRecord {
            timestamp: i64::MIN,
            ..NewRecord::default()
        })
        .record(NewRecord {
            timestamp: i64::MAX,
            ..NewRecord::default()
        })
        .build();
    assert!(matches!(far, Err(BuildError::TimestampDelta { .. })));
}
