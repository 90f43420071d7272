//! Test support: a glommio executor per test, directories on the real disk, batch builders.
#![allow(dead_code)]

pub mod crash_checks;
pub mod crash_cuts;
pub mod model;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use pinlog_protocol::records::{BatchBuilder, Compression, NewRecord, ProducerFields, RecordBatch};

/// A fresh directory for one test, on the disk the tests are built on (O_DIRECT needs a real
/// filesystem), or under `$PINLOG_TEST_DIR` when set. Never `/tmp`, which may be tmpfs.
pub fn test_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let root = std::env::var_os("PINLOG_TEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engine"));
    let dir = root.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the test directory");
    dir
}

/// Runs a future on a glommio executor of its own, on the test's thread.
pub fn run<F: Future>(future: F) -> F::Output {
    glommio::LocalExecutor::default().run(future)
}

/// A batch of `count` records with values `value-{first}`.. and keys `key-{i}`.
pub fn batch(first: u64, count: u64) -> RecordBatch {
    batch_with(
        first,
        count,
        Compression::None,
        ProducerFields::NONE,
        1_700_000_000_000 + first as i64,
    )
}

pub fn batch_with(
    first: u64,
    count: u64,
    compression: Compression,
    producer: ProducerFields,
    timestamp: i64,
) -> RecordBatch {
    let mut builder = BatchBuilder::new()
        .compression(compression)
        .producer(producer);
    for i in first..first + count {
        builder.push(NewRecord {
            key: Some(Bytes::from(format!("key-{i}"))),
            value: Some(Bytes::from(format!(
                "value-{i}-{}",
                "x".repeat((i % 97) as usize)
            ))),
            headers: Vec::new(),
            timestamp: timestamp + (i - first) as i64,
        });
    }
    RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
}

/// A one-record batch whose value, `value-{offset}-` padded with dots, is `value_bytes` long.
pub fn batch_with_value_size(offset: u64, value_bytes: usize) -> RecordBatch {
    let mut value = format!("value-{offset}-").into_bytes();
    value.resize(value_bytes, b'.');
    let mut builder = BatchBuilder::new();
    builder.push(NewRecord {
        key: None,
        value: Some(Bytes::from(value)),
        headers: Vec::new(),
        timestamp: 1_700_000_000_000 + offset as i64,
    });
    RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
}

/// The values of every record in `chunks`, in order, with their offsets.
pub fn values(chunks: &[Bytes]) -> Vec<(i64, Bytes)> {
    let mut out = Vec::new();
    for chunk in chunks {
        for batch in pinlog_protocol::records::Batches::new(chunk.clone()) {
            let batch = batch.expect("whole batches");
            batch.validate_header().expect("a valid batch");
            for record in batch.records(1 << 26).expect("records") {
                let record = record.expect("a record");
                out.push((record.offset, record.value.clone().unwrap_or_default()));
            }
        }
    }
    out
}

/// Splits read chunks into whole batches by their length fields, panicking on a partial one.
pub fn split_batches(chunks: &[Bytes]) -> Vec<Bytes> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut at = 0;
        while at < chunk.len() {
            let length = chunk
                .get(at + 8..at + 12)
                .map(|field| i32::from_be_bytes(field.try_into().expect("four bytes")))
                .expect("a whole batch length field");
            let size = usize::try_from(length).expect("a non-negative batch length") + 12;
            assert!(
                at + size <= chunk.len(),
                "a partial batch of {size} bytes at {at} in a chunk of {}",
                chunk.len()
            );
            out.push(chunk.slice(at..at + size));
            at += size;
        }
    }
    out
}

/// The bytes the log stores for `batch` appended at `base_offset` with `leader_epoch`: the
/// batch as sent with those two header fields rewritten (the CRC covers neither).
pub fn stored_bytes(batch: &RecordBatch, base_offset: i64, leader_epoch: i32) -> Bytes {
    let mut bytes = bytes::BytesMut::from(batch.as_bytes().as_ref());
    pinlog_protocol::records::set_base_offset(&mut bytes, base_offset).expect("a batch header");
    pinlog_protocol::records::set_partition_leader_epoch(&mut bytes, leader_epoch)
        .expect("a batch header");
    bytes.freeze()
}
