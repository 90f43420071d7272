//! The codecs on the data path, side by side with the `kafka-protocol` crate (0.18) in one run:
//! decode of a ProduceRequest v9 and encode of a FetchResponse v12, each of one topic × 100
//! partitions × 16 KiB of records. Records are opaque to both codecs, so their content does not
//! matter; they are 100 distinct slices of one buffer, as a fetch served from a batch cache is.
//! Quote the ratios, not the absolute numbers, as the machines are shared.
//!
//! - decode: both crates decode from a `Bytes` clone of one frame our encoder built, and both
//!   slice records out of it without copying.
//! - encode: ours emits records as their own chunks (`into_chunks`, what the broker writes with
//!   a vectored write) or copies them into one buffer (`into_bytes`); kafka-protocol always copies
//!   into a `BytesMut`, grown as it goes or sized first with `compute_size`.
//! - Each group has a raw baseline, the floor of any codec doing the same job.
//!
//! `cargo bench -p pinlog-bench --bench codec`

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kafka_protocol::messages as kp;
use kafka_protocol::protocol::{Decodable, Encodable};
use pinlog_protocol::generated::fetch_response::{
    FetchResponse, FetchableTopicResponse, PartitionData,
};
use pinlog_protocol::generated::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use pinlog_protocol::wire::{Message, Writer};

const PARTITIONS: usize = 100;
const RECORDS_BYTES_PER_PARTITION: usize = 16 * 1024;
const PRODUCE_VERSION: i16 = 9;
const FETCH_VERSION: i16 = 12;

fn produce_request_decode(c: &mut Criterion) {
    let records = partition_records();
    let request = ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "bench-topic".to_owned(),
            partition_data: records
                .into_iter()
                .enumerate()
                .map(|(index, records)| PartitionProduceData {
                    index: index as i32,
                    records: Some(records),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let frame = request
        .encode_to_bytes(PRODUCE_VERSION)
        .expect("a valid v9 request");
    check_same_request(&frame);
    let record_ranges = record_ranges(&frame);

    let mut group = c.benchmark_group("produce_request_v9_decode");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("pinlog", |b| {
        b.iter(|| ProduceRequest::decode_from(black_box(frame.clone()), PRODUCE_VERSION))
    });
    group.bench_function("kafka-protocol", |b| {
        b.iter(|| {
            let mut input = black_box(frame.clone());
            kp::ProduceRequest::decode(&mut input, PRODUCE_VERSION)
        })
    });
    // The floor of any decoder that hands out each partition's records as a `Bytes`: slicing
    // them out of the frame (an atomic increment each, and a decrement on drop).
    group.bench_function("baseline/slice-records", |b| {
        b.iter(|| {
            let frame = black_box(frame.clone());
            let mut out = Vec::with_capacity(PARTITIONS);
            for range in &record_ranges {
                out.push(frame.slice(range.clone()));
            }
            out
        })
    });
    group.finish();
}

fn fetch_response_encode(c: &mut Criterion) {
    let records = partition_records();
    let response = FetchResponse {
        responses: vec![FetchableTopicResponse {
            topic: "bench-topic".to_owned(),
            partitions: records
                .into_iter()
                .enumerate()
                .map(|(index, records)| PartitionData {
                    partition_index: index as i32,
                    high_watermark: 1_000_000,
                    last_stable_offset: 1_000_000,
                    log_start_offset: 0,
                    aborted_transactions: None,
                    records: Some(records),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let frame = response
        .encode_to_bytes(FETCH_VERSION)
        .expect("a valid v12 response");
    // kafka-protocol's value is its decode of our frame, so both encode the same message.
    let theirs = kp::FetchResponse::decode(&mut frame.clone(), FETCH_VERSION)
        .expect("kafka-protocol reads our frame");
    check_same_response(&response, &theirs, &frame);

    let mut group = c.benchmark_group("fetch_response_v12_encode");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("pinlog/chunks", |b| {
        b.iter(|| {
            let mut writer = Writer::new();
            black_box(&response)
                .encode(&mut writer, FETCH_VERSION)
                .expect("valid");
            writer.into_chunks()
        })
    });
    group.bench_function("pinlog/contiguous", |b| {
        b.iter(|| {
            let mut writer = Writer::new();
            black_box(&response)
                .encode(&mut writer, FETCH_VERSION)
                .expect("valid");
            writer.into_bytes()
        })
    });
    group.bench_function("kafka-protocol", |b| {
        b.iter(|| {
            let mut out = BytesMut::new();
            black_box(&theirs)
                .encode(&mut out, FETCH_VERSION)
                .expect("valid");
            out
        })
    });
    group.bench_function("kafka-protocol/presized", |b| {
        b.iter(|| {
            let value = black_box(&theirs);
            let size = value.compute_size(FETCH_VERSION).expect("valid");
            let mut out = BytesMut::with_capacity(size);
            value.encode(&mut out, FETCH_VERSION).expect("valid");
            out
        })
    });
    // The floor of any encoder that returns one contiguous buffer: copying the frame.
    group.bench_function("baseline/memcpy", |b| {
        b.iter(|| {
            let mut out = BytesMut::with_capacity(frame.len());
            out.extend_from_slice(black_box(&frame));
            out
        })
    });
    group.finish();
}

/// One distinct 16 KiB slice per partition, all of one buffer. The content is arbitrary but not
/// zeros, so that nothing can take a shortcut on it.
fn partition_records() -> Vec<Bytes> {
    let all: Bytes = (0..PARTITIONS * RECORDS_BYTES_PER_PARTITION)
        .map(|i| (i * 31 + 7) as u8)
        .collect::<Vec<u8>>()
        .into();
    (0..PARTITIONS)
        .map(|p| all.slice(p * RECORDS_BYTES_PER_PARTITION..(p + 1) * RECORDS_BYTES_PER_PARTITION))
        .collect()
}

/// Where each partition's records sit in the frame, as our decoder finds them.
fn record_ranges(frame: &Bytes) -> Vec<std::ops::Range<usize>> {
    let request = ProduceRequest::decode_from(frame.clone(), PRODUCE_VERSION).expect("ours reads");
    request.topic_data[0]
        .partition_data
        .iter()
        .map(|p| {
            let records = p.records.as_ref().expect("records");
            let start = records.as_ptr() as usize - frame.as_ptr() as usize;
            start..start + records.len()
        })
        .collect()
}

/// Both decoders must see the same 100 partitions, or the comparison means nothing.
fn check_same_request(frame: &Bytes) {
    let ours = ProduceRequest::decode_from(frame.clone(), PRODUCE_VERSION).expect("ours reads");
    let theirs =
        kp::ProduceRequest::decode(&mut frame.clone(), PRODUCE_VERSION).expect("theirs reads");
    let ours = &ours.topic_data[0].partition_data;
    let theirs = &theirs.topic_data[0].partition_data;
    assert_eq!(ours.len(), PARTITIONS);
    assert_eq!(theirs.len(), PARTITIONS);
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o.records, t.records);
    }
}

/// Both encoders must produce the same bytes, or the comparison means nothing.
fn check_same_response(ours: &FetchResponse, theirs: &kp::FetchResponse, frame: &Bytes) {
    let mut writer = Writer::new();
    ours.encode(&mut writer, FETCH_VERSION).expect("valid");
    let chunks = writer.into_chunks();
    assert!(
        chunks.len() > PARTITIONS,
        "records must be emitted as chunks"
    );
    assert_eq!(&chunks.concat()[..], &frame[..]);
    let mut out = BytesMut::new();
    theirs.encode(&mut out, FETCH_VERSION).expect("valid");
    assert_eq!(&out[..], &frame[..]);
}

criterion_group!(benches, produce_request_decode, fetch_response_encode);
criterion_main!(benches);
