//! Buffers of several batches: splitting them into views, and the in-place header rewrites the
//! broker does on append.

use bytes::Bytes;

use super::batch::BatchError;
use super::crc::crc32c;
use super::layout::{self, attributes as attr};
use super::RecordBatch;

/// Splits a buffer of concatenated batches (a produce request's records, a fetched chunk, a
/// segment) into [`RecordBatch`] views without copying.
///
/// Each batch is delimited by its batchLength only; nothing else is checked (call the
/// `validate_*` methods on each view). A batch that runs past the end of the buffer, or a
/// batchLength too small to be a batch, is yielded as an `Err` and ends the iteration:
/// [`position`](Self::position) then tells where the good batches end. (A fetch response may
/// legitimately end with a partial batch; a produce request may not. The caller decides.)
#[derive(Debug, Clone)]
pub struct Batches {
    buf: Bytes,
    position: usize,
    done: bool,
}

impl Batches {
    pub fn new(buf: Bytes) -> Self {
        Batches {
            buf,
            position: 0,
            done: false,
        }
    }

    /// Byte offset, in the buffer, of the first batch not yet yielded (the end of the last
    /// whole batch once iteration has ended on an error).
    pub fn position(&self) -> usize {
        self.position
    }

    fn split_next(&mut self) -> Result<Option<RecordBatch>, BatchError> {
        let rest = self.buf.get(self.position..).unwrap_or_default();
        if rest.is_empty() {
            return Ok(None);
        }
        let truncated = |needed| BatchError::Truncated {
            position: self.position,
            needed,
            available: rest.len(),
        };
        let length_field = rest
            .get(layout::BATCH_LENGTH..layout::LOG_OVERHEAD_BYTES)
            .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
            .ok_or_else(|| truncated(layout::LOG_OVERHEAD_BYTES))?;
        let batch_length = i32::from_be_bytes(length_field);
        let size = usize::try_from(batch_length)
            .ok()
            .filter(|&length| length >= layout::BATCH_LENGTH_MIN)
            .map(|length| length + layout::LOG_OVERHEAD_BYTES)
            .ok_or(BatchError::LengthTooSmall {
                position: self.position + layout::BATCH_LENGTH,
                batch_length,
            })?;
        if size > rest.len() {
            return Err(truncated(size));
        }
        let batch = RecordBatch::new(self.buf.slice(self.position..self.position + size))?;
        self.position += size;
        Ok(Some(batch))
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.split_next().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// Writes baseOffset into a batch in place. The CRC does not cover it, so the batch stays valid.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), BatchError> {
    write_field(batch, layout::BASE_OFFSET, base_offset.to_be_bytes())
}

/// Writes partitionLeaderEpoch into a batch in place. Not covered by the CRC either.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), BatchError> {
    write_field(batch, layout::PARTITION_LEADER_EPOCH, epoch.to_be_bytes())
}

/// Marks a batch LogAppendTime with `timestamp_ms` as its maxTimestamp, which every record of
/// the batch then reports, as Kafka's broker does for topics with
/// `message.timestamp.type=LogAppendTime`. Both fields are under the CRC, so unlike the two
/// rewrites above this recomputes it: one pass over the batch.
pub fn set_log_append_time(batch: &mut [u8], timestamp_ms: i64) -> Result<(), BatchError> {
    let header = batch
        .get(..layout::HEADER_BYTES)
        .ok_or(BatchError::Truncated {
            position: 0,
            needed: layout::HEADER_BYTES,
            available: batch.len(),
        })?;
    let attributes = i16::from_be_bytes([
        header.get(layout::ATTRIBUTES).copied().unwrap_or_default(),
        header
            .get(layout::ATTRIBUTES + 1)
            .copied()
            .unwrap_or_default(),
    ]);
    let attributes = attributes | attr::TIMESTAMP_TYPE;
    write_field(batch, layout::ATTRIBUTES, attributes.to_be_bytes())?;
    write_field(batch, layout::MAX_TIMESTAMP, timestamp_ms.to_be_bytes())?;
    let crc = crc32c(batch.get(layout::CRC_START..).unwrap_or_default());
    write_field(batch, layout::CRC, crc.to_be_bytes())
}

fn write_field<const N: usize>(
    batch: &mut [u8],
    at: usize,
    value: [u8; N],
) -> Result<(), BatchError> {
    let available = batch.len();
    let field = batch
        .get_mut(at..at + N)
        .filter(|_| available >= layout::HEADER_BYTES)
        .ok_or(BatchError::Truncated {
            position: 0,
            needed: layout::HEADER_BYTES,
            available,
        })?;
    field.copy_from_slice(&value);
    Ok(())
}
