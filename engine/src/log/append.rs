//! The append path. See the `log` module docs for the watermarks it feeds.
//!
//! Everything that must be atomic with respect to other appends — the idempotent-producer
//! check, offset assignment, recording the producer state and registering the completion
//! waiter — happens in one synchronous section, with no `.await` in between. The waiter is
//! registered before the flusher is kicked: glommio may run a spawned task at once.

use bytes::Bytes;
use futures::channel::oneshot;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::layout::{BASE_OFFSET, HEADER_BYTES, MAGIC, PARTITION_LEADER_EPOCH};
use pinlog_protocol::records::RecordBatch;

use super::flusher::{kick, now_ms};
use super::state::{AppendMark, Durability, LogState, PendingSnapshot};
use super::waiters::WaitError;
use super::{AppendOutcome, PartitionLog};
use crate::error::EngineError;
use crate::index::IndexedBatch;
use crate::limits::{BATCH_BYTES_MAX, UNWRITTEN_BYTES_MAX};
use crate::producer_state::{AppendedBatch, Check, ProducerBatch, ProducerStateTable};

type Completion = oneshot::Receiver<Result<(), WaitError>>;

/// The first bytes of a batch, up to magic: the two fields the log rewrites (baseOffset and
/// partitionLeaderEpoch, outside the CRC) and batchLength between them. A batch is appended
/// as this rewritten head and the rest of the producer's bytes as they came, so it is copied
/// once (into the DMA buffer) while the batch cache keeps the producer's bytes.
const REWRITTEN_HEAD_BYTES: usize = MAGIC;
const _: () = assert!(BASE_OFFSET + 8 <= PARTITION_LEADER_EPOCH);
const _: () = assert!(PARTITION_LEADER_EPOCH + 4 == REWRITTEN_HEAD_BYTES);
const _: () = assert!(REWRITTEN_HEAD_BYTES < HEADER_BYTES);

impl PartitionLog {
    /// Appends batches that the caller has validated (`validate_header` and `validate_produce`
    /// of the protocol crate), assigning them consecutive offsets from the log end offset, and
    /// completes once they reach `durability`. A retried idempotent batch is not appended
    /// again: the outcome gives its original offsets.
    ///
    /// The shard's batch cache keeps the batches' bytes (not a copy) until it evicts them or
    /// a fetch reads them: pass batches whose buffers hold little else, or that memory stays
    /// alive with them.
    pub async fn append(
        &self,
        batches: &[RecordBatch],
        durability: Durability,
        leader_epoch: i32,
    ) -> Result<AppendOutcome, EngineError> {
        let permit = self
            .inner
            .append_lock
            .acquire_permit(1)
            .await
            .map_err(|_| self.closed_error())?;
        let size: usize = batches.iter().map(RecordBatch::size_bytes).sum();
        self.check_appendable(batches)?;
        if self.roll_needed(batches, size) {
            self.roll().await?;
        }
        self.wait_for_room().await?;

        // From here to the await below: one synchronous section.
        let (outcome, completion) = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            match check_producers(&state.producers, batches)? {
                ProducerCheck::Duplicate(original) => {
                    let total = state.appended_total;
                    let outcome = AppendOutcome {
                        base_offset: original.first_offset,
                        last_offset: original.last_offset,
                        log_start_offset: state.log_start_offset,
                        duplicate: true,
                    };
                    // The original may still be on its way to the device: complete when
                    // everything appended so far is where this retry asked it to be.
                    (outcome, register(state, durability, total))
                }
                ProducerCheck::New(updated) => {
                    let outcome =
                        self.append_locked(state, batches, leader_epoch, size, updated)?;
                    let total = state.appended_total;
                    (outcome, register(state, durability, total))
                }
            }
        };
        self.retain_if_due();
        self.prewrite_spare_if_due();
        drop(permit);
        kick(&self.inner);
        if let Some(completion) = completion {
            self.map_wait(completion.await)?;
        }
        Ok(outcome)
    }

    fn append_locked(
        &self,
        state: &mut LogState,
        batches: &[RecordBatch],
        leader_epoch: i32,
        size: usize,
        updated_producers: Option<ProducerStateTable>,
    ) -> Result<AppendOutcome, EngineError> {
        let base_offset = state.next_offset;
        let mut next = base_offset;
        let active_base = state.active().base_offset;
        let file = state.active().file.clone();
        for batch in batches {
            let bytes = batch.as_bytes();
            assert!(
                bytes.len() >= HEADER_BYTES,
                "a validated batch has a whole header"
            );
            let mut head = [0u8; REWRITTEN_HEAD_BYTES];
            head.copy_from_slice(&bytes[..REWRITTEN_HEAD_BYTES]);
            // The protocol's setters want a whole header: write the two fields here.
            head[BASE_OFFSET..BASE_OFFSET + 8].copy_from_slice(&next.to_be_bytes());
            head[PARTITION_LEADER_EPOCH..PARTITION_LEADER_EPOCH + 4]
                .copy_from_slice(&leader_epoch.to_be_bytes());
            let rest = bytes.slice(REWRITTEN_HEAD_BYTES..);
            let last = next + i64::from(batch.last_offset_delta());
            let position = state.appender.append(&file, &head);
            state.appender.append(&file, &rest);
            let segment = state.active_mut();
            // Positions fit: a segment stays below 2 GiB (see roll_needed).
            let indexed = IndexedBatch {
                last_offset: last,
                max_timestamp: batch.max_timestamp(),
                position: position as u32,
            };
            if let Err(error) = segment.indexes.on_append(indexed) {
                tracing::warn!(%error, "batch left unindexed");
            }
            segment.max_timestamp = segment.max_timestamp.max(batch.max_timestamp());
            segment.first_timestamp.get_or_insert(batch.max_timestamp());
            if updated_producers.is_none() && batch.producer_id() >= 0 {
                let appended = AppendedBatch {
                    first_offset: next,
                    last_offset: last,
                    max_timestamp: batch.max_timestamp(),
                };
                state.producers.record(&producer_batch(batch), &appended);
            }
            self.inner.cache.borrow_mut().insert_parts(
                self.inner.id,
                next,
                last,
                Bytes::copy_from_slice(&head),
                rest,
            );
            next = last + 1;
        }
        if let Some(mut updated) = updated_producers {
            // The multi-batch check ran on a copy with provisional offsets; record the real ones.
            let mut offset = base_offset;
            for batch in batches {
                let last = offset + i64::from(batch.last_offset_delta());
                if batch.producer_id() >= 0 {
                    let appended = AppendedBatch {
                        first_offset: offset,
                        last_offset: last,
                        max_timestamp: batch.max_timestamp(),
                    };
                    updated.apply_batch_for_recovery(&producer_batch(batch), &appended);
                }
                offset = last + 1;
            }
            state.producers = updated;
        }
        state.next_offset = next;
        state.appended_total += size as u64;
        state.appended_since_snapshot += size as u64;
        if state.appended_since_snapshot >= state.config.producer_snapshot_interval_bytes
            && state.pending_snapshot.is_none()
        {
            state.appended_since_snapshot = 0;
            state.pending_snapshot = Some(PendingSnapshot {
                next_offset: next,
                end_total: state.appended_total,
                encoded: state.producers.encode_snapshot(next),
            });
        }
        let data_end = state.appender.data_end();
        state.marks.push_back(AppendMark {
            end_total: state.appended_total,
            next_offset: next,
            segment_base: active_base,
            data_end,
        });
        state.queue_sealed();
        Ok(AppendOutcome {
            base_offset,
            last_offset: next - 1,
            log_start_offset: state.log_start_offset,
            duplicate: false,
        })
    }

    fn check_appendable(&self, batches: &[RecordBatch]) -> Result<(), EngineError> {
        self.check_open()?;
        let state = self.inner.state.borrow();
        if let Some(reason) = &state.failed {
            return Err(EngineError::LogFailed {
                path: self.inner.dir.clone(),
                reason: reason.clone(),
            });
        }
        let max = (state.config.max_message_bytes as usize).min(BATCH_BYTES_MAX);
        for batch in batches {
            if batch.size_bytes() > max {
                return Err(EngineError::BatchTooLarge {
                    size: batch.size_bytes(),
                    max,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn map_wait(
        &self,
        result: Result<Result<(), WaitError>, futures::channel::oneshot::Canceled>,
    ) -> Result<(), EngineError> {
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(WaitError::Failed(reason))) => Err(EngineError::LogFailed {
                path: self.inner.dir.clone(),
                reason,
            }),
            Ok(Err(WaitError::Closed)) | Err(_) => Err(self.closed_error()),
        }
    }

    /// Back-pressure: at most `UNWRITTEN_BYTES_MAX` appended bytes wait for the device.
    async fn wait_for_room(&self) -> Result<(), EngineError> {
        loop {
            let receiver = {
                let mut state = self.inner.state.borrow_mut();
                if state.appended_total - state.written_total <= UNWRITTEN_BYTES_MAX as u64 {
                    return Ok(());
                }
                let threshold = state.appended_total - UNWRITTEN_BYTES_MAX as u64;
                state.written_waiters.wait(threshold)
            };
            kick(&self.inner);
            self.map_wait(receiver.await)?;
        }
    }

    fn roll_needed(&self, batches: &[RecordBatch], incoming: usize) -> bool {
        let state = self.inner.state.borrow();
        let data_end = state.appender.data_end();
        if data_end == 0 {
            return false;
        }
        let active = state.active();
        // Index positions are 32-bit, as in Kafka: a segment stays below 2 GiB.
        let segment_bytes = super::roll_jitter::roll_bytes(
            self.inner.roll_seed,
            active.base_offset,
            state.config.segment_bytes.min(i32::MAX as u64),
            state.config.segment_bytes_jitter_percent,
        );
        if data_end + incoming as u64 > segment_bytes {
            return true;
        }
        let last_offset = state.next_offset
            + batches
                .iter()
                .map(|b| i64::from(b.last_offset_delta()) + 1)
                .sum::<i64>()
            - 1;
        if active.indexes.is_full() || !active.indexes.can_index(last_offset) {
            return true;
        }
        let Some(segment_ms) = state.config.segment_ms else {
            return false;
        };
        // Kafka's rule: the time between the segment's first batch and the incoming one, by
        // their timestamps; wall-clock age only when there are no timestamps.
        let incoming = batches
            .iter()
            .map(RecordBatch::max_timestamp)
            .max()
            .unwrap_or(-1);
        let waited = match active.first_timestamp {
            Some(first) if first >= 0 && incoming >= 0 => incoming - first,
            _ => now_ms() as i64 - active.created_ms,
        };
        let roll_ms = super::roll_jitter::roll_ms(
            self.inner.roll_seed,
            active.base_offset,
            segment_ms,
            state.config.segment_jitter_ms,
        );
        waited > roll_ms as i64
    }
}

/// Registers a completion for `durability` at `end_total`, or `None` if already reached.
pub(crate) fn register(
    state: &mut LogState,
    durability: Durability,
    end_total: u64,
) -> Option<Completion> {
    match durability {
        Durability::None => None,
        Durability::Written if state.written_total >= end_total => None,
        Durability::Durable if state.durable_total >= end_total => None,
        Durability::Written => Some(state.written_waiters.wait(end_total)),
        Durability::Durable => Some(state.durable_waiters.wait(end_total)),
    }
}

enum ProducerCheck {
    /// Append; for several idempotent batches, the table as it will be after them.
    New(Option<ProducerStateTable>),
    /// A retry of a batch already in the log.
    Duplicate(AppendedBatch),
}

/// Kafka's idempotence rules. A client sends one batch per partition, checked against the
/// table as it is. Several batches (replication, tests) are checked one after another on a
/// copy, each seeing the ones before it; a duplicate among them is an error, since part of
/// the request would be appended twice.
fn check_producers(
    table: &ProducerStateTable,
    batches: &[RecordBatch],
) -> Result<ProducerCheck, EngineError> {
    let idempotent = batches.iter().filter(|b| b.producer_id() >= 0).count();
    let refuse = |error: crate::producer_state::ProducerError| {
        EngineError::Producer(error.to_string(), error.error_code())
    };
    if idempotent == 0 {
        return Ok(ProducerCheck::New(None));
    }
    if batches.len() == 1 {
        return match table.check(&producer_batch(&batches[0])).map_err(refuse)? {
            Check::New => Ok(ProducerCheck::New(None)),
            Check::Duplicate(original) => Ok(ProducerCheck::Duplicate(original)),
        };
    }
    let mut scratch = table.clone();
    let mut offset = 0;
    for batch in batches {
        let last = offset + i64::from(batch.last_offset_delta());
        if batch.producer_id() >= 0 {
            let sequence = producer_batch(batch);
            match scratch.check(&sequence).map_err(refuse)? {
                Check::New => {}
                Check::Duplicate(_) => {
                    return Err(EngineError::Producer(
                        format!(
                            "producer {}: a duplicate batch inside a multi-batch append",
                            batch.producer_id()
                        ),
                        ErrorCode::DuplicateSequenceNumber,
                    ))
                }
            }
            let appended = AppendedBatch {
                first_offset: offset,
                last_offset: last,
                max_timestamp: batch.max_timestamp(),
            };
            scratch.record(&sequence, &appended);
        }
        offset = last + 1;
    }
    Ok(ProducerCheck::New(Some(scratch)))
}

/// The producer fields of a batch, as the producer-state table reads them.
pub(crate) fn producer_batch(batch: &RecordBatch) -> ProducerBatch {
    ProducerBatch::new(
        batch.producer_id(),
        batch.producer_epoch(),
        batch.base_sequence(),
        batch.last_offset_delta(),
    )
}
