//! Splitting one partition's fetched records into batches, and the offsets a batch spans.
//!
//! A Fetch response may end with a partial batch: the broker cut there at the size bound, and
//! the batch comes whole in the next fetch, which starts at its offset. That is the only
//! damage a healthy response carries. A batchLength too small to be a batch is corruption
//! wherever it is; a partial batch with no progress before it (nothing whole, or only batches
//! already consumed) would make the next fetch ask for the same bytes forever. Both are errors.

use bytes::Bytes;
use pinlog_protocol::records::{BatchError, Batches, RecordBatch};

/// A fetched chunk split at batch boundaries.
#[derive(Debug)]
pub struct Split {
    /// The whole batches, in order (not validated: only their lengths were read).
    pub batches: Vec<RecordBatch>,
    /// Why the chunk ends early: a partial last batch, acceptable only after progress.
    pub partial_tail: Option<BatchError>,
}

/// Splits `records` into whole batches and a partial tail; an error for a batchLength that
/// cannot be a batch.
pub fn split(records: Bytes) -> Result<Split, BatchError> {
    let mut batches = Vec::new();
    for batch in Batches::new(records) {
        match batch {
            Ok(batch) => batches.push(batch),
            Err(partial @ BatchError::Truncated { .. }) => {
                return Ok(Split {
                    batches,
                    partial_tail: Some(partial),
                })
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Split {
        batches,
        partial_tail: None,
    })
}

/// The offset after `batch`'s last, or `None` when baseOffset + lastOffsetDelta + 1 does not
/// fit an i64. The CRC does not cover baseOffset, so only this check stands between a flipped
/// bit there and an overflow.
pub fn next_offset(batch: &RecordBatch) -> Option<i64> {
    batch
        .base_offset()
        .checked_add(i64::from(batch.last_offset_delta()))
        .and_then(|last| last.checked_add(1))
}

#[cfg(test)]
mod tests {
    use pinlog_protocol::records::{set_base_offset, BatchBuilder, NewRecord};

    use super::*;

    fn batch(base_offset: i64, records: usize) -> Vec<u8> {
        let mut builder = BatchBuilder::new().base_offset(base_offset);
        for index in 0..records {
            builder.push(NewRecord {
                key: None,
                value: Some(Bytes::from(format!("value {index}"))),
                headers: Vec::new(),
                timestamp: 1,
            });
        }
        builder.build().expect("building").to_vec()
    }

    fn chunk(parts: &[&[u8]]) -> Bytes {
        Bytes::from(parts.concat())
    }

    /// batchLength is bytes 8..12 of a batch.
    fn with_batch_length(mut batch: Vec<u8>, length: i32) -> Vec<u8> {
        batch[8..12].copy_from_slice(&length.to_be_bytes());
        batch
    }

    #[test]
    fn a_partial_last_batch_after_whole_ones_is_the_size_bound() {
        let (first, second) = (batch(0, 2), batch(2, 3));
        let cut = &second[..second.len() - 5];
        let split = split(chunk(&[&first, cut])).expect("splitting");
        assert_eq!(split.batches.len(), 1);
        assert_eq!(split.batches[0].base_offset(), 0);
        assert!(matches!(
            split.partial_tail,
            Some(BatchError::Truncated { .. })
        ));

        let whole = split_whole(chunk(&[&first, &second]));
        assert_eq!(whole.len(), 2);
    }

    fn split_whole(records: Bytes) -> Vec<RecordBatch> {
        let split = split(records).expect("splitting");
        assert!(split.partial_tail.is_none(), "{:?}", split.partial_tail);
        split.batches
    }

    #[test]
    fn an_impossible_batch_length_is_an_error_at_the_start_or_in_the_middle() {
        let bad = with_batch_length(batch(0, 1), 3);
        assert!(matches!(
            split(chunk(&[&bad, &batch(1, 1)])),
            Err(BatchError::LengthTooSmall { .. })
        ));
        let bad = with_batch_length(batch(1, 1), -1);
        assert!(matches!(
            split(chunk(&[&batch(0, 1), &bad, &batch(2, 1)])),
            Err(BatchError::LengthTooSmall { .. })
        ));
    }

    #[test]
    fn a_partial_first_batch_leaves_no_whole_batch() {
        let first = batch(0, 4);
        let split = split(chunk(&[&first[..first.len() / 2]])).expect("splitting");
        assert!(split.batches.is_empty());
        assert!(split.partial_tail.is_some());
    }

    #[test]
    fn a_base_offset_at_the_end_of_the_range_has_no_next_offset() {
        let mut bytes = batch(0, 1);
        assert_eq!(next_offset(&split_whole(chunk(&[&bytes]))[0]), Some(1));
        set_base_offset(&mut bytes, i64::MAX).expect("rewriting");
        let batches = split_whole(chunk(&[&bytes]));
        assert_eq!(
            batches[0].validate_header().map_err(|e| e.to_string()),
            Ok(())
        );
        assert_eq!(next_offset(&batches[0]), None);
        let mut bytes = batch(0, 3);
        set_base_offset(&mut bytes, i64::MAX - 1).expect("rewriting");
        assert_eq!(next_offset(&split_whole(chunk(&[&bytes]))[0]), None);
    }
}
