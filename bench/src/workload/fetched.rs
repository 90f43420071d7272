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
}

/// Calls `on_record` for each record of `records` at or after `from`; returns the offset to
/// fetch next (`from` when nothing whole was there).
pub fn read_records(
    records: Bytes,
    from: i64,
    mut on_record: impl FnMut(&Record),
) -> Result<i64, FetchedError> {
    let mut next = from;
    // A trailing partial batch ends the iteration with an Err: it is fetched again later.
    for batch in Batches::new(records).map_while(Result::ok) {
        let offset = batch.base_offset();
        if batch.last_offset() < next {
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
        next = next.max(batch.last_offset() + 1);
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
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
