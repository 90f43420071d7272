//! segment.ms: a segment rolls once the incoming batch is that much newer than the segment's
//! first batch (by their timestamps, as Kafka's rollingBasedTimestamp), also after a reopen.

mod support;

use pinlog_engine::{Durability, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{Compression, ProducerFields};
use support::{batch_with, run, test_dir};

const SEGMENT_MS: u64 = 60_000;
const T: i64 = 1_800_000_000_000;

fn config() -> LogConfig {
    LogConfig {
        segment_ms: Some(SEGMENT_MS),
        segment_jitter_ms: 0,
        retention_ms: None,
        retention_eager: false,
        ..LogConfig::default()
    }
}

async fn append_at(log: &PartitionLog, first: u64, count: u64, timestamp: i64) {
    let batch = batch_with(
        first,
        count,
        Compression::None,
        ProducerFields::NONE,
        timestamp,
    );
    log.append(&[batch], Durability::Durable, 0).await.unwrap();
}

#[test]
fn a_segment_rolls_when_a_batch_is_segment_ms_newer_than_its_first() {
    let dir = test_dir("segment-ms");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config())
            .await
            .unwrap();
        append_at(&log, 0, 1, T).await;
        append_at(&log, 1, 1, T + 50_000).await;
        assert_eq!(log.segment_count(), 1);
        append_at(&log, 2, 1, T + 60_001).await;
        assert_eq!(log.segment_count(), 2, "rolled before the batch 60 s newer");
        log.close().await.unwrap();
    });
}

#[test]
fn after_a_reopen_the_age_still_counts_from_the_first_batch() {
    let dir = test_dir("segment-ms-reopen");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let path = dir.join("t-0");
        let log = PartitionLog::open(&storage, &path, config()).await.unwrap();
        append_at(&log, 0, 1, T).await;
        // Enough later batches for the time index's first entry to be one of them.
        let mut next = 1;
        while log.size_bytes() < 16 * 1024 {
            append_at(&log, next, 10, T + 50_000).await;
            next += 10;
        }
        log.close().await.unwrap();

        let log = PartitionLog::open(&storage, &path, config()).await.unwrap();
        append_at(&log, next, 1, T + 55_000).await;
        assert_eq!(log.segment_count(), 1);
        append_at(&log, next + 1, 1, T + 65_000).await;
        assert_eq!(log.segment_count(), 2, "65 s after the first batch: rolled");
        log.close().await.unwrap();
    });
}
