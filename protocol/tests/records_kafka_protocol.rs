//! Differential tests against kafka-protocol 0.18 (the oracle), for every codec: its batches
//! validate and iterate identically with our view, and ours decode with its decoder to the same
//! records. The last test pins down where the two disagree and what Kafka does.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as KpCompression, Record as KpRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType as KpTimestampType,
};
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::{
    crc32c, BatchBuilder, BatchError, Compression, Header, NewRecord, ProducerFields, Record,
    RecordBatch, RecordErrorKind, TimestampType,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const CAP: usize = DECOMPRESSED_BATCH_BYTES_MAX;
const CODECS: [(Compression, KpCompression); 5] = [
    (Compression::None, KpCompression::None),
    (Compression::Gzip, KpCompression::Gzip),
    (Compression::Snappy, KpCompression::Snappy),
    (Compression::Lz4, KpCompression::Lz4),
    (Compression::Zstd, KpCompression::Zstd),
];

/// A random batch's worth of records and producer fields.
struct Case {
    records: Vec<NewRecord>,
    producer: ProducerFields,
    transactional: bool,
    partition_leader_epoch: i32,
}

fn random_bytes(rng: &mut SmallRng, len_max: usize) -> Bytes {
    let len = rng.gen_range(0..=len_max);
    // Runs of one byte so that the codecs compress, with random bytes in between.
    (0..len)
        .map(|i| if i % 16 < 8 { rng.gen() } else { b'x' })
        .collect::<Vec<u8>>()
        .into()
}

fn random_case(rng: &mut SmallRng) -> Case {
    let count = rng.gen_range(1..30);
    let base_timestamp = rng.gen_range(0..2_000_000_000_000i64);
    let records = (0..count)
        .map(|_| NewRecord {
            key: rng.gen_bool(0.8).then(|| random_bytes(rng, 40)),
            value: rng.gen_bool(0.9).then(|| random_bytes(rng, 3000)),
            // Unique UTF-8 keys: kafka-protocol keeps headers in a map of strings.
            headers: (0..rng.gen_range(0..4))
                .map(|h| Header {
                    key: Bytes::from(format!("header-{h}")),
                    value: rng.gen_bool(0.8).then(|| random_bytes(rng, 20)),
                })
                .collect(),
            timestamp: base_timestamp + rng.gen_range(-5000..5000),
        })
        .collect();
    let producer = match rng.gen_bool(0.5) {
        true => ProducerFields {
            producer_id: rng.gen_range(0..1 << 40),
            producer_epoch: rng.gen_range(0..100),
            base_sequence: rng.gen_range(0..1 << 30),
        },
        false => ProducerFields::NONE,
    };
    Case {
        records,
        producer,
        transactional: producer != ProducerFields::NONE && rng.gen_bool(0.5),
        partition_leader_epoch: rng.gen_range(-1..100),
    }
}

fn to_kp(case: &Case) -> Vec<KpRecord> {
    let records = case.records.iter().enumerate().map(|(i, r)| KpRecord {
        transactional: case.transactional,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: case.partition_leader_epoch,
        producer_id: case.producer.producer_id,
        producer_epoch: case.producer.producer_epoch,
        timestamp_type: KpTimestampType::Creation,
        offset: i as i64,
        // Consecutive from the base sequence, or kafka-protocol splits the batch.
        sequence: case.producer.base_sequence.wrapping_add(i as i32),
        timestamp: r.timestamp,
        key: r.key.clone(),
        value: r.value.clone(),
        headers: r
            .headers
            .iter()
            .map(|h| (StrBytes::from_utf8(h.key.clone()).unwrap(), h.value.clone()))
            .collect::<IndexMap<_, _>>(),
    });
    records.collect()
}

fn kp_encode(records: &[KpRecord], compression: KpCompression) -> Bytes {
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, records, &options).unwrap();
    buf.freeze()
}

fn ours(case: &Case, codec: Compression) -> Bytes {
    let builder = BatchBuilder::new()
        .compression(codec)
        .producer(case.producer)
        .transactional(case.transactional)
        .partition_leader_epoch(case.partition_leader_epoch);
    case.records
        .iter()
        .cloned()
        .fold(builder, BatchBuilder::record)
        .build()
        .unwrap()
}

/// Our records and kafka-protocol's agree field by field.
fn assert_same(batch: &RecordBatch, ours: &[Record], theirs: &[KpRecord]) {
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o.offset, t.offset);
        assert_eq!(o.timestamp, t.timestamp);
        assert_eq!(o.key, t.key);
        assert_eq!(o.value, t.value);
        let headers: Vec<_> = o.headers.iter().map(|h| (h.key, h.value)).collect();
        let kp_headers: Vec<_> = t
            .headers
            .iter()
            .map(|(k, v)| (Bytes::from(k.clone()), v.clone()))
            .collect();
        assert_eq!(headers, kp_headers);
        assert_eq!(batch.producer_id(), t.producer_id);
        assert_eq!(batch.producer_epoch(), t.producer_epoch);
        assert_eq!(
            batch.base_sequence().wrapping_add(o.offset_delta),
            t.sequence
        );
        assert_eq!(batch.is_transactional(), t.transactional);
        assert_eq!(batch.is_control(), t.control);
        assert_eq!(batch.partition_leader_epoch(), t.partition_leader_epoch);
    }
}

#[test]
fn kafka_protocol_batches_validate_and_iterate_identically() {
    let mut rng = SmallRng::seed_from_u64(0x6b61);
    for round in 0..40 {
        let case = random_case(&mut rng);
        let kp_records = to_kp(&case);
        for (codec, kp_codec) in CODECS {
            let bytes = kp_encode(&kp_records, kp_codec);
            let batch = RecordBatch::new(bytes.clone()).unwrap();
            batch.validate_header().unwrap();
            batch.validate_produce().unwrap();
            let count = case.records.len() as u32;
            assert_eq!(
                batch.validate_records(CAP),
                Ok(count),
                "round {round} {codec:?}"
            );
            assert_eq!(batch.compression(), Ok(codec));
            assert_eq!(batch.size_bytes(), bytes.len(), "one batch");
            let records: Vec<Record> = batch.records(CAP).unwrap().map(Result::unwrap).collect();
            let decoded = RecordBatchDecoder::decode(&mut bytes.clone()).unwrap();
            assert_same(&batch, &records, &decoded.records);
            assert_same(&batch, &records, &kp_records);
        }
    }
}

#[test]
fn our_batches_decode_with_kafka_protocol() {
    let mut rng = SmallRng::seed_from_u64(0x7069);
    for _ in 0..40 {
        let case = random_case(&mut rng);
        for (codec, kp_codec) in CODECS {
            let bytes = ours(&case, codec);
            let batch = RecordBatch::new(bytes.clone()).unwrap();
            let decoded = RecordBatchDecoder::decode(&mut bytes.clone()).unwrap();
            assert_eq!(decoded.compression, kp_codec);
            assert_eq!(decoded.version, 2);
            let records: Vec<Record> = batch.records(CAP).unwrap().map(Result::unwrap).collect();
            assert_same(&batch, &records, &decoded.records);
            assert_same(&batch, &records, &to_kp(&case));
        }
    }
}

/// Fixes batchLength and the CRC after a test has edited a batch.
fn reseal(mut bytes: Vec<u8>) -> Bytes {
    let length = (bytes.len() - 12) as i32;
    bytes[8..12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    bytes.into()
}

/// Where kafka-protocol and pinlog differ. Each case says what Apache Kafka does, which is what
/// pinlog follows; if kafka-protocol changes, these assertions say so.
#[test]
fn disagreements_with_kafka_protocol() {
    let record = |timestamp| NewRecord {
        value: Some(Bytes::from_static(b"ab")),
        timestamp,
        ..NewRecord::default()
    };

    // 1. kafka-protocol's encoder never sets attribute bit 3: records it is given as
    //    LogAppendTime come out as CreateTime. Kafka's MemoryRecordsBuilder sets the bit.
    let mut kp_records = to_kp(&Case {
        records: vec![record(10)],
        producer: ProducerFields::NONE,
        transactional: false,
        partition_leader_epoch: 0,
    });
    kp_records[0].timestamp_type = KpTimestampType::LogAppend;
    let kp_batch = RecordBatch::new(kp_encode(&kp_records, KpCompression::None)).unwrap();
    assert_eq!(kp_batch.timestamp_type(), TimestampType::Create);

    // 2. In a LogAppendTime batch, Kafka's DefaultRecordBatch gives every record the batch's
    //    maxTimestamp; kafka-protocol gives baseTimestamp + timestampDelta.
    let bytes = BatchBuilder::new()
        .timestamp_type(TimestampType::LogAppend)
        .record(record(10))
        .record(record(20))
        .build()
        .unwrap();
    let batch = RecordBatch::new(bytes.clone()).unwrap();
    let ours: Vec<i64> = batch
        .records(CAP)
        .unwrap()
        .map(|r| r.unwrap().timestamp)
        .collect();
    let theirs: Vec<i64> = RecordBatchDecoder::decode(&mut bytes.clone())
        .unwrap()
        .records
        .iter()
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(ours, [20, 20]);
    assert_eq!(theirs, [10, 20]);

    let one = BatchBuilder::new()
        .record(record(10))
        .build()
        .unwrap()
        .to_vec();

    // 3. Bytes after the last declared record: Kafka's DefaultRecordBatch iterator fails with
    //    "Incorrect declared batch size, records still remaining in file"; kafka-protocol
    //    ignores them.
    let mut trailing = one.clone();
    trailing.extend_from_slice(&[1, 2, 3]);
    let trailing = reseal(trailing);
    assert!(RecordBatchDecoder::decode(&mut trailing.clone()).is_ok());
    let result = RecordBatch::new(trailing).unwrap().validate_records(CAP);
    assert!(matches!(
        result,
        Err(BatchError::Record(ref e)) if e.kind == RecordErrorKind::TrailingBytes { remaining: 3 }
    ));

    // 4. A record whose length covers more than its fields: Kafka's DefaultRecord.readFrom
    //    fails with "Invalid record size"; kafka-protocol skips the excess.
    let mut padded = one.clone();
    padded[61] += 2; // the record length, zigzag: one more byte
    padded.push(0);
    let padded = reseal(padded);
    assert!(RecordBatchDecoder::decode(&mut padded.clone()).is_ok());
    let result = RecordBatch::new(padded).unwrap().validate_records(CAP);
    assert!(matches!(
        result,
        Err(BatchError::Record(ref e)) if matches!(e.kind, RecordErrorKind::LengthMismatch { .. })
    ));

    // 5. lastOffsetDelta smaller than recordsCount - 1: Kafka refuses it (LogValidator on
    //    produce; offsets would overlap the next batch); kafka-protocol does not look at it.
    let mut overlapping = BatchBuilder::new()
        .record(record(1))
        .record(record(2))
        .build()
        .unwrap()
        .to_vec();
    overlapping[23..27].copy_from_slice(&0i32.to_be_bytes());
    let overlapping = reseal(overlapping);
    assert!(RecordBatchDecoder::decode(&mut overlapping.clone()).is_ok());
    assert!(matches!(
        RecordBatch::new(overlapping).unwrap().validate_header(),
        Err(BatchError::LastOffsetDeltaTooSmall { .. })
    ));
}
