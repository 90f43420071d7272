//! Retention by time empties a log that stopped receiving, as Kafka's does: the active segment,
//! once every record in it is past retention.ms, is rolled so that it can be deleted.

mod support;

use pinlog_engine::{Durability, LogConfig, PartitionLog, ShardStorage};
use pinlog_protocol::records::{Compression, ProducerFields};
use support::{batch_with, run, test_dir};

const HOUR_MS: i64 = 3600 * 1000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn config() -> LogConfig {
    LogConfig {
        retention_ms: Some(HOUR_MS as u64),
        retention_bytes: None,
        retention_eager: false,
        ..LogConfig::default()
    }
}

#[test]
fn an_idle_log_whose_records_all_expired_is_emptied() {
    let dir = test_dir("retention-idle");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config())
            .await
            .unwrap();
        let two_hours_ago = now_ms() - 2 * HOUR_MS;
        for first in (0..30).step_by(10) {
            let batch = batch_with(
                first,
                10,
                Compression::None,
                ProducerFields::NONE,
                two_hours_ago,
            );
            log.append(&[batch], Durability::Durable, 0).await.unwrap();
        }
        assert_eq!(log.segment_count(), 1, "everything in the active segment");

        let deleted = log.enforce_retention().await.unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(log.log_start_offset(), 30);
        assert_eq!(log.log_end_offset(), 30);
        assert_eq!(log.size_bytes(), 0);
        // Nothing more to do, and no roll of the empty active segment each time.
        assert_eq!(log.enforce_retention().await.unwrap(), 0);
        assert_eq!(log.segment_count(), 1);
        // The log goes on from where it was.
        let batch = batch_with(0, 5, Compression::None, ProducerFields::NONE, now_ms());
        let outcome = log.append(&[batch], Durability::Durable, 0).await.unwrap();
        assert_eq!(outcome.base_offset, 30);
        log.close().await.unwrap();
    });
}

#[test]
fn an_active_segment_with_a_record_inside_retention_stays() {
    let dir = test_dir("retention-recent");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config())
            .await
            .unwrap();
        let old = batch_with(
            0,
            10,
            Compression::None,
            ProducerFields::NONE,
            now_ms() - 2 * HOUR_MS,
        );
        let recent = batch_with(10, 10, Compression::None, ProducerFields::NONE, now_ms());
        log.append(&[old], Durability::Durable, 0).await.unwrap();
        log.append(&[recent], Durability::Durable, 0).await.unwrap();
        assert_eq!(log.enforce_retention().await.unwrap(), 0);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 20));
        assert_eq!(log.segment_count(), 1, "not rolled");
        log.close().await.unwrap();
    });
}

fn producer_batch(producer_id: i64, timestamp: i64) -> pinlog_protocol::records::RecordBatch {
    let producer = ProducerFields {
        producer_id,
        producer_epoch: 0,
        base_sequence: 0,
    };
    batch_with(0, 3, Compression::None, producer, timestamp)
}

#[test]
fn producers_idle_past_the_expiration_are_forgotten_by_the_periodic_check() {
    let dir = test_dir("producer-expiry");
    run(async move {
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            retention_ms: None,
            ..config()
        };
        let log = PartitionLog::open(&storage, &dir.join("t-0"), config)
            .await
            .unwrap();
        // Kafka's producer.id.expiration.ms default: one day.
        let two_days_ago = now_ms() - 48 * HOUR_MS;
        let idle = producer_batch(11, two_days_ago);
        let live = producer_batch(12, now_ms());
        log.append(std::slice::from_ref(&idle), Durability::Durable, 0)
            .await
            .unwrap();
        log.append(std::slice::from_ref(&live), Durability::Durable, 0)
            .await
            .unwrap();
        assert_eq!(log.enforce_retention().await.unwrap(), 0);
        // The live producer's retry is still recognised; the expired one is a new producer,
        // whose batch at sequence 0 is appended again, as in Kafka.
        let retry = log.append(&[live], Durability::Durable, 0).await.unwrap();
        assert!(retry.duplicate);
        let again = log.append(&[idle], Durability::Durable, 0).await.unwrap();
        assert!(!again.duplicate);
        assert_eq!(again.base_offset, 6);
        log.close().await.unwrap();
    });
}
