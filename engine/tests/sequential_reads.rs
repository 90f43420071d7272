//! Disk reads that continue where the previous one ended start at that batch, not at the
//! index entry before it (the index maps a batch's last offset to its start), so a consumer
//! reading on gets as many whole batches as its max bytes hold and the device reads no batch
//! twice.

mod support;

use std::path::Path;

use bytes::Bytes;
use pinlog_engine::{Durability, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{BatchBuilder, NewRecord, RecordBatch};
use support::{run, test_dir, values};

const RECORDS_PER_BATCH: i64 = 4;
const VALUE_BYTES: usize = 60 * 1024;

/// A batch of [`RECORDS_PER_BATCH`] records of [`VALUE_BYTES`] each, values tagged `tag`.
fn big_batch(tag: u8) -> RecordBatch {
    let mut builder = BatchBuilder::new();
    for _ in 0..RECORDS_PER_BATCH {
        builder.push(NewRecord {
            value: Some(Bytes::from(vec![tag; VALUE_BYTES])),
            timestamp: 1_700_000_000_000,
            ..NewRecord::default()
        });
    }
    RecordBatch::new(builder.build().expect("a batch")).expect("a valid batch")
}

fn batch_count(chunks: &[Bytes]) -> i64 {
    values(chunks).len() as i64 / RECORDS_PER_BATCH
}

/// A log in `dir` without a batch cache (every read goes to the disk) holding `batches` big
/// batches tagged 0, 1, ..; and the size of one.
async fn log_of_big_batches(dir: &Path, batches: u8) -> (PartitionLog, usize) {
    let storage = ShardStorage::new(dir, 0);
    let log = PartitionLog::open(&storage, &dir.join("t-0"), LogConfig::default())
        .await
        .unwrap();
    for tag in 0..batches {
        log.append(&[big_batch(tag)], Durability::Written, 0)
            .await
            .unwrap();
    }
    (log, big_batch(0).as_bytes().len())
}

#[test]
fn a_reader_reading_on_gets_every_whole_batch_its_max_bytes_hold() {
    let dir = test_dir("sequential-reads");
    run(async move {
        let (log, batch_bytes) = log_of_big_batches(&dir, 16).await;
        let max_bytes = 4 * batch_bytes;
        let mut offset = 0;
        while offset < log.log_end_offset() {
            let read = log.read(offset, max_bytes).await.unwrap();
            let got = values(&read.chunks);
            assert_eq!(got[0].0, offset, "the read starts at the offset asked for");
            // Starting at the batch before (the index entry) leaves room for three.
            assert_eq!(batch_count(&read.chunks), 4, "read at {offset}");
            let tag = (offset / RECORDS_PER_BATCH) as u8;
            assert!(got[0].1.iter().all(|&b| b == tag), "read at {offset}");
            offset = got.last().unwrap().0 + 1;
        }
        assert_eq!(offset, 16 * RECORDS_PER_BATCH);
        log.close().await.unwrap();
    });
}

#[test]
fn after_a_truncation_a_read_where_an_earlier_read_ended_serves_the_new_batches() {
    let dir = test_dir("sequential-reads-truncated");
    run(async move {
        let (log, batch_bytes) = log_of_big_batches(&dir, 4).await;
        // A read ends at offset 8 (batch 2).
        let first = log.read(0, 2 * batch_bytes).await.unwrap();
        assert_eq!(batch_count(&first.chunks), 2);
        // Offset 8 now begins a smaller batch at another position, after a batch of one record.
        let records_kept = 5;
        assert_eq!(log.truncate_to(records_kept).await.unwrap(), 4);
        let mut refill = BatchBuilder::new();
        refill.push(NewRecord {
            value: Some(Bytes::from_static(b"refill")),
            timestamp: 1_700_000_000_000,
            ..NewRecord::default()
        });
        let refill = RecordBatch::new(refill.build().unwrap()).unwrap();
        for _ in 0..8 {
            log.append(std::slice::from_ref(&refill), Durability::Written, 0)
                .await
                .unwrap();
        }
        let got = values(&log.read(8, 2 * batch_bytes).await.unwrap().chunks);
        assert_eq!(got[0], (8, Bytes::from_static(b"refill")));
        assert_eq!(got.len(), 4, "offsets 8..12 are the new one-record batches");
        log.close().await.unwrap();
    });
}
