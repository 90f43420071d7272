//! Reading the records of a fetched partition with the protocol crate's batch view, for the
//! own client's consumers.
//!
//! A fetch answers with whole batches, so the first one may start before the requested
//! offset (its earlier records are skipped) and the last one may be cut off at the size
//! limit (it is left for the next fetch, which starts at its base offset). Control batches
//! (transaction markers) are stepped over. Compressed batches are decompressed under the
//! protocol crate's bomb cap.

use bytes::Bytes;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::{BatchError, Batches, Record, RecordError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchedError {
    #[error("fetched batch at offset {offset}: {source}")]
    Batch { offset: i64, source: BatchError },
    #[error("fetched batch at offset {offset}: {source}")]
    Record { offset: i64, source: RecordError },
    /// Not a cut-off last batch: a broken length, or a first batch the fetch could not hold.
    #[error("fetched data for offset {offset} is not a sequence of batches: {source}")]
    Framing { offset: i64, source: BatchError },
    #[error("fetched batch at offset {base_offset} claims offsets past the end of the log")]
    OffsetOverflow { base_offset: i64 },
}

/// Calls `on_record` for each record of `records` at or after `from`; returns the offset to
/// fetch next (`from` when nothing whole was there).
pub fn read_records(
    records: Bytes,
    from: i64,
    mut on_record: impl FnMut(&Record),
) -> Result<i64, FetchedError> {
    let mut next = from;
    for (whole_batches_before, batch) in Batches::new(records).enumerate() {
        let batch = match batch {
            Ok(batch) => batch,
            // The size limit cut the last batch: it is fetched again, whole, next time.
            Err(BatchError::Truncated { .. }) if whole_batches_before > 0 => break,
            Err(source) => {
                return Err(FetchedError::Framing {
                    offset: next,
                    source,
                })
            }
        };
        let offset = batch.base_offset();
        // The CRC does not cover baseOffset: a hostile one must not wrap the position.
        let after_batch = offset
            .checked_add(i64::from(batch.last_offset_delta()))
            .and_then(|last| last.checked_add(1))
            .filter(|_| batch.last_offset_delta() >= 0)
            .ok_or(FetchedError::OffsetOverflow {
                base_offset: offset,
            })?;
        if after_batch <= next {
            continue;
        }
        if !batch.is_control() {
            let batch_records = batch
                .records(DECOMPRESSED_BATCH_BYTES_MAX)
                .map_err(|source| FetchedError::Batch { offset, source })?;
            for record in batch_records {
                let record = record.map_err(|source| FetchedError::Record { offset, source })?;
                if record.offset >= next {
                    on_record(&record);
                }
            }
        }
        next = next.max(after_batch);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_broken_length_or_an_overflowing_offset_is_an_error_not_an_endless_refetch() {
        let mut garbage = BytesMut::new();
        garbage.extend_from_slice(&[0u8; 8]);
        garbage.extend_from_slice(&3i32.to_be_bytes()); // batchLength below the minimum
        garbage.extend_from_slice(&[0u8; 60]);
        let error = read_records(garbage.freeze(), 0, |_| {}).expect_err("garbage accepted");
        assert!(matches!(error, FetchedError::Framing { .. }), "{error}");

        let whole = batch(0, &[b"a"], Compression::None);
        let cut_first = whole.slice(..whole.len() - 1);
        let error = read_records(cut_first, 0, |_| {}).expect_err("a cut first batch accepted");
        assert!(matches!(error, FetchedError::Framing { .. }), "{error}");

        let hostile = batch(i64::MAX, &[b"a"], Compression::None);
        let error = read_records(hostile, 0, |_| {}).expect_err("overflow accepted");
        assert!(
            matches!(error, FetchedError::OffsetOverflow { .. }),
            "{error}"
        );
    }

    use bytes::BytesMut;
    use pinlog_protocol::records::{
        BatchBuilder, Compression, ControlMarker, EndTxnMarker, NewRecord,
    };

    use super::*;

    fn batch(base_offset: i64, values: &[&'static [u8]], compression: Compression) -> Bytes {
        let mut builder = BatchBuilder::new()
            .base_offset(base_offset)
            .compression(compression);
        for value in values {
            builder.push(NewRecord {
                value: Some(Bytes::from_static(value)),
                ..NewRecord::default()
            });
        }
        builder.build().expect("a valid batch")
    }

    #[test]
    fn records_before_the_offset_control_batches_and_a_cut_batch_are_skipped() {
        let mut fetched = BytesMut::new();
        fetched.extend_from_slice(&batch(10, &[b"a", b"b", b"c"], Compression::Lz4));
        let marker = BatchBuilder::new()
            .base_offset(13)
            .end_txn_marker(
                ControlMarker {
                    commit: true,
                    marker: EndTxnMarker {
                        version: 0,
                        coordinator_epoch: 0,
                    },
                },
                0,
            )
            .build()
            .expect("a control batch");
        fetched.extend_from_slice(&marker);
        fetched.extend_from_slice(&batch(14, &[b"d"], Compression::Zstd));
        let cut = batch(15, &[b"e"], Compression::None);
        fetched.extend_from_slice(&cut[..cut.len() - 3]);

        let mut values = Vec::new();
        let next = read_records(fetched.freeze(), 11, |record| {
            values.push((record.offset, record.value.clone()));
        })
        .expect("readable");
        assert_eq!(next, 15, "the cut batch is fetched again");
        let expected: Vec<(i64, Option<Bytes>)> = [(11, &b"b"[..]), (12, b"c"), (14, b"d")]
            .into_iter()
            .map(|(offset, value)| (offset, Some(Bytes::from_static(value))))
            .collect();
        assert_eq!(values, expected);
    }
}
