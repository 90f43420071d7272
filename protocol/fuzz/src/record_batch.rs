//! RecordBatch v2: splitting, every validation, record iteration, the in-place rewrites, and
//! rebuilding what was read.
//!
//! Input: a mode byte, then a buffer of concatenated batches. With [`MODE_FIX_CRC`] set, each
//! batch's CRC32C is recomputed before anything else, so that the fuzzer reaches the checks
//! behind the CRC (a mutated byte otherwise fails there first).
//!
//! Properties, for every batch the splitter yields:
//! - the batches tile the buffer up to `Batches::position`, and iteration ends after an error;
//! - `validate_records` agrees with iterating `records`: the same count, or the same error;
//!   a batch whose records validate holds exactly `recordsCount` of them;
//! - every record's offset is baseOffset + offsetDelta, and its headers (checked when the record
//!   was read) all parse;
//! - the baseOffset and partitionLeaderEpoch rewrites leave `validate_header`'s verdict
//!   unchanged (the CRC does not cover them), and `set_log_append_time` keeps a valid header
//!   valid;
//! - records that were read can be rebuilt into a batch with `BatchBuilder`, and that batch
//!   validates and yields the same keys, values, headers and timestamps.

use bytes::{Bytes, BytesMut};
use pinlog_protocol::records::layout::{CRC, CRC_START, HEADER_BYTES};
use pinlog_protocol::records::{
    crc32c, set_base_offset, set_log_append_time, set_partition_leader_epoch, BatchBuilder,
    BatchError, Batches, BuildError, ControlMarker, Header, NewRecord, Record, RecordBatch,
    TimestampType,
};

/// Mode bit: recompute every batch's CRC before checking.
pub const MODE_FIX_CRC: u8 = 1;

/// Decompression cap for compressed batches: small enough that a bomb is cheap to find.
pub const RECORDS_BYTES_MAX: usize = 1 << 20;

pub fn check_record_batch(data: &[u8]) {
    let Some((&mode, buf)) = data.split_first() else {
        return;
    };
    let buf = if mode & MODE_FIX_CRC != 0 {
        fix_crcs(buf)
    } else {
        Bytes::copy_from_slice(buf)
    };
    let mut batches = Batches::new(buf.clone());
    let mut end = 0;
    while let Some(next) = batches.next() {
        match next {
            Ok(batch) => {
                let bytes = batch.as_bytes();
                assert_eq!(
                    &buf[end..end + bytes.len()],
                    &bytes[..],
                    "batches tile the buffer"
                );
                end += bytes.len();
                assert_eq!(batches.position(), end, "position after a batch");
                check_batch(&batch);
            }
            Err(_) => {
                assert_eq!(batches.position(), end, "position after an error");
                assert!(batches.next().is_none(), "iteration goes on after an error");
                break;
            }
        }
    }
    if end == buf.len() {
        assert!(batches.next().is_none());
    }
}

fn check_batch(batch: &RecordBatch) {
    read_header(batch);
    let header = batch.validate_header();
    let _ = batch.validate_produce();
    check_rewrites(batch, &header);

    let validated = batch.validate_records(RECORDS_BYTES_MAX);
    let records = match batch.records(RECORDS_BYTES_MAX) {
        Ok(records) => records,
        Err(error) => {
            // The two may check the header in a different order, so only agree on failing.
            assert!(
                validated.is_err(),
                "records() fails with {error}, validate_records passes"
            );
            return;
        }
    };
    let mut read = Vec::new();
    let mut iteration_error = None;
    for record in records {
        match record {
            Ok(record) => {
                check_record(batch, &record);
                read.push(record);
            }
            Err(error) => iteration_error = Some(error),
        }
    }
    match (validated, iteration_error) {
        (Ok(count), None) => {
            assert_eq!(count as usize, read.len(), "validate_records count");
            assert_eq!(
                i64::from(batch.records_count()),
                read.len() as i64,
                "recordsCount"
            );
            if batch.is_control() {
                read.first().map(ControlMarker::parse);
            } else {
                check_rebuild(&read);
            }
        }
        (Err(BatchError::Record(error)), Some(iterated))
        | (Err(BatchError::DecompressedRecord { source: error, .. }), Some(iterated)) => {
            assert_eq!(
                error, iterated,
                "validate_records and records() fail differently"
            );
        }
        (validated, iterated) => {
            panic!("validate_records gives {validated:?}, iterating records ends in {iterated:?}")
        }
    }
}

/// Every accessor must answer on any header.
fn read_header(batch: &RecordBatch) {
    let _ = (
        batch.base_offset(),
        batch.last_offset(),
        batch.partition_leader_epoch(),
    );
    let _ = (
        batch.magic(),
        batch.crc(),
        batch.compute_crc(),
        batch.compression(),
    );
    let _ = (
        batch.timestamp_type(),
        batch.is_transactional(),
        batch.has_delete_horizon(),
    );
    let _ = (
        batch.base_timestamp(),
        batch.max_timestamp(),
        batch.producer_id(),
    );
    let _ = (
        batch.producer_epoch(),
        batch.base_sequence(),
        batch.batch_length(),
    );
    assert_eq!(
        batch.records_bytes().len() + HEADER_BYTES,
        batch.size_bytes()
    );
}

fn check_rewrites(batch: &RecordBatch, header: &Result<(), BatchError>) {
    let mut bytes = BytesMut::from(&batch.as_bytes()[..]);
    set_base_offset(&mut bytes, 1 << 40).expect("a whole header");
    set_partition_leader_epoch(&mut bytes, 7).expect("a whole header");
    let rewritten = RecordBatch::new(bytes.clone().freeze()).expect("same length");
    assert_eq!(rewritten.base_offset(), 1 << 40);
    assert_eq!(rewritten.partition_leader_epoch(), 7);
    assert_eq!(
        &rewritten.validate_header(),
        header,
        "rewrites changed the verdict"
    );

    set_log_append_time(&mut bytes, 1_700_000_000_000).expect("a whole header");
    let appended = RecordBatch::new(bytes.freeze()).expect("same length");
    assert_eq!(appended.timestamp_type(), TimestampType::LogAppend);
    assert_eq!(appended.max_timestamp(), 1_700_000_000_000);
    if header.is_ok() {
        assert_eq!(
            appended.validate_header(),
            Ok(()),
            "log append time broke the batch"
        );
    }
}

fn check_record(batch: &RecordBatch, record: &Record) {
    assert_eq!(
        record.offset,
        batch
            .base_offset()
            .wrapping_add(i64::from(record.offset_delta))
    );
    assert!(record.offset_delta >= 0 && record.offset_delta <= batch.last_offset_delta());
    let headers: Vec<Header> = record.headers.iter().collect();
    assert_eq!(
        headers.len(),
        record.headers.len(),
        "a checked header did not parse"
    );
}

/// Builds a batch from what was read and reads it back.
fn check_rebuild(read: &[Record]) {
    let mut builder = BatchBuilder::new();
    for record in read {
        builder.push(NewRecord {
            key: record.key.clone(),
            value: record.value.clone(),
            headers: record.headers.iter().collect(),
            timestamp: record.timestamp,
        });
    }
    let built = match builder.build() {
        Ok(built) => built,
        // Timestamps of a hostile batch may lie further apart than a delta can say.
        Err(BuildError::Empty | BuildError::TimestampDelta { .. }) => return,
        Err(error) => panic!("rebuilding {} records: {error}", read.len()),
    };
    let batch = RecordBatch::new(built).expect("a built batch has a header");
    assert_eq!(batch.validate_header(), Ok(()), "built batch header");
    assert_eq!(batch.validate_produce(), Ok(()), "built batch for produce");
    assert_eq!(
        batch.validate_records(RECORDS_BYTES_MAX),
        Ok(read.len() as u32)
    );
    let records = batch.records(RECORDS_BYTES_MAX).expect("validated");
    for (rebuilt, original) in records.zip(read) {
        let rebuilt = rebuilt.expect("validated");
        assert_eq!(rebuilt.key, original.key);
        assert_eq!(rebuilt.value, original.value);
        assert_eq!(rebuilt.timestamp, original.timestamp);
        assert!(
            rebuilt.headers.iter().eq(original.headers.iter()),
            "headers"
        );
    }
}

/// Recomputes the CRC of every batch the splitter finds (the rest is left as it is).
fn fix_crcs(buf: &[u8]) -> Bytes {
    let mut fixed = BytesMut::from(buf);
    let mut batches = Batches::new(Bytes::copy_from_slice(buf));
    let mut start = 0;
    while let Some(Ok(_)) = batches.next() {
        let end = batches.position();
        let crc = crc32c(&buf[start + CRC_START..end]);
        fixed[start + CRC..start + CRC + 4].copy_from_slice(&crc.to_be_bytes());
        start = end;
    }
    fixed.freeze()
}
