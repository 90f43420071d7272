//! Idempotent producer state of one partition: Kafka's `ProducerStateManager`.
//!
//! For every producer id the table keeps the current epoch and the last
//! [`PRODUCER_BATCHES_RETAINED_MAX`] (5) batches appended by that producer: sequence range,
//! offsets, max timestamp. The log consults it before it assigns offsets to a batch
//! ([`ProducerStateTable::check`]) and updates it once the batch is appended
//! ([`ProducerStateTable::record`]). It does no I/O: the log persists it with
//! [`ProducerStateTable::encode_snapshot`] (see [`snapshot`]) and, on recovery, loads the latest
//! valid snapshot and replays the batches after it with
//! [`ProducerStateTable::apply_batch_for_recovery`].
//!
//! # Rules (Apache Kafka 4.x, `storage/.../log/ProducerAppendInfo.java`,
//! `ProducerStateEntry.java`, `UnifiedLog.analyzeAndValidateProducerState`, `LogValidator`)
//!
//! Checked in this order, as Kafka does:
//! 1. A batch without a producer id (any negative id, Kafka's `hasProducerId`) is not tracked.
//! 2. A negative base sequence with a producer id is INVALID_RECORD (`LogValidator`).
//! 3. Duplicate: same epoch as the producer's current epoch and the exact (first, last) sequence
//!    range of one of the retained batches. The caller answers with the original batch's
//!    offsets and timestamp, error NONE, and appends nothing (`findDuplicateBatch`).
//! 4. An epoch lower than the current one is INVALID_PRODUCER_EPOCH. Kafka replaced
//!    PRODUCER_FENCED with INVALID_PRODUCER_EPOCH in produce responses in 2.7 (KIP-588), so that
//!    the client aborts and retries instead of treating it as fatal; 4.x still does this.
//! 5. A higher epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER.
//! 6. The same epoch must continue the last retained batch: `first == last + 1`, where the
//!    sequence after `i32::MAX` is 0. Else OUT_OF_ORDER_SEQUENCE_NUMBER.
//! 7. An unknown producer id (never seen, expired, evicted) has no epoch (-1) and Kafka accepts
//!    *any* sequence from it: since KIP-360 (Kafka 2.5) the broker no longer answers
//!    UNKNOWN_PRODUCER_ID to a produce, because state legitimately disappears when retention
//!    deletes a producer's last batches and the producer must be able to continue. pinlog does
//!    the same. (Kafka's transactions-v2 check that rejects a non-zero sequence on an empty
//!    entry needs verification state, which pinlog does not have yet.)
//!
//! A new epoch replaces the retained batches (`maybeUpdateProducerEpoch`). Recovery applies
//! batches without checks, as Kafka's REPLICATION origin does: the log is the truth.
//!
//! # Bounds
//!
//! Kafka bounds the table only by time (`producer.id.expiration.ms`,
//! [`ProducerStateTable::expire`]): a producer whose last batch's max timestamp is at least
//! that old is dropped, as in Kafka's `isProducerExpired`. pinlog also bounds the count
//! ([`PRODUCER_STATE_PRODUCERS_MAX`]) and evicts the least recently appended producer beyond
//! it. An evicted or expired producer is unknown again: its next batch is accepted whatever its
//! sequence, and a retry of a batch appended before the eviction is appended a second time. The
//! bound trades that window for memory that many short-lived producers cannot grow without
//! limit (a full table takes about 20 MiB).
//!
//! Owned by the shard that owns the partition. Between `check` and `record` of a batch no other
//! batch of the same producer may be checked or recorded: run both, and the offset assignment,
//! in one synchronous section with no `.await` between them. Otherwise two copies of a retried
//! batch both pass as new, or two consecutive batches are both checked against the old state.
//! Batches of one request are checked and recorded one after the other, as Kafka's
//! `ProducerAppendInfo` accumulates them.

pub mod snapshot;

use std::collections::{BTreeMap, HashMap};

use pinlog_protocol::error_code::ErrorCode;

use crate::limits::{PRODUCER_BATCHES_RETAINED_MAX, PRODUCER_STATE_PRODUCERS_MAX};

pub use snapshot::SnapshotError;

/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH`: the epoch of a producer the table does not know.
pub const NO_PRODUCER_EPOCH: i16 = -1;

/// The producer fields of a record batch, as the table needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerBatch {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub first_sequence: i32,
    pub last_sequence: i32,
}

impl ProducerBatch {
    /// From a batch header's `baseSequence` and `lastOffsetDelta`; the last sequence wraps
    /// after `i32::MAX` to 0 as in Kafka's `DefaultRecordBatch.incrementSequence`.
    pub fn new(
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        last_offset_delta: i32,
    ) -> Self {
        ProducerBatch {
            producer_id,
            producer_epoch,
            first_sequence: base_sequence,
            last_sequence: sequence_add(base_sequence, last_offset_delta),
        }
    }

    /// Whether the batch carries a producer id (Kafka's `hasProducerId`).
    pub fn is_idempotent(&self) -> bool {
        self.producer_id >= 0
    }
}

/// Where and when the log appended a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppendedBatch {
    pub first_offset: i64,
    pub last_offset: i64,
    /// The batch's max timestamp (or its log-append time); a duplicate answers with it.
    pub max_timestamp: i64,
}

/// One retained batch of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchMetadata {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub appended: AppendedBatch,
}

/// The outcome of [`ProducerStateTable::check`] for a batch that may be appended or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Append the batch, then [`ProducerStateTable::record`] it.
    New,
    /// A retry of a batch already in the log: answer with its offsets, append nothing.
    Duplicate(AppendedBatch),
}

/// Why a batch is refused. Each variant maps to one Kafka error in [`Self::error_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    #[error("producer {producer_id}: base sequence {first_sequence} is negative")]
    InvalidSequence {
        producer_id: i64,
        first_sequence: i32,
    },
    #[error(
        "producer {producer_id}: epoch {epoch} is older than the current epoch {current_epoch}"
    )]
    InvalidProducerEpoch {
        producer_id: i64,
        epoch: i16,
        current_epoch: i16,
    },
    #[error(
        "producer {producer_id} epoch {epoch}: sequence {first_sequence} does not follow \
         {current_last_sequence:?} (epoch {current_epoch})"
    )]
    OutOfOrderSequence {
        producer_id: i64,
        epoch: i16,
        first_sequence: i32,
        current_epoch: i16,
        /// The last sequence of the current epoch, `None` when the epoch has no batch.
        current_last_sequence: Option<i32>,
    },
}

impl ProducerError {
    /// The error a produce response carries for this partition.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ProducerError::InvalidSequence { .. } => ErrorCode::InvalidRecord,
            ProducerError::InvalidProducerEpoch { .. } => ErrorCode::InvalidProducerEpoch,
            ProducerError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
        }
    }
}

/// The state of one producer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    epoch: i16,
    /// Oldest first; at most [`PRODUCER_BATCHES_RETAINED_MAX`], all of `epoch`.
    batches: Vec<BatchMetadata>,
    /// Max timestamp of the last batch: what expiry measures, as in Kafka.
    last_timestamp: i64,
    /// Key of this producer in the table's recency order.
    recency: u64,
}

impl ProducerEntry {
    pub fn epoch(&self) -> i16 {
        self.epoch
    }

    /// The retained batches, oldest first.
    pub fn batches(&self) -> &[BatchMetadata] {
        &self.batches
    }

    pub fn last_timestamp(&self) -> i64 {
        self.last_timestamp
    }

    /// The last sequence of the current epoch, `None` when the epoch has no batch yet.
    pub fn last_sequence(&self) -> Option<i32> {
        self.batches.last().map(|b| b.last_sequence)
    }

    fn duplicate_of(&self, batch: &ProducerBatch) -> Option<AppendedBatch> {
        if batch.producer_epoch != self.epoch {
            return None;
        }
        self.batches
            .iter()
            .find(|b| {
                b.first_sequence == batch.first_sequence && b.last_sequence == batch.last_sequence
            })
            .map(|b| b.appended)
    }

    fn add_batch(&mut self, batch: &ProducerBatch, appended: &AppendedBatch) {
        if self.epoch != batch.producer_epoch {
            self.epoch = batch.producer_epoch;
            self.batches.clear();
        }
        if self.batches.len() == PRODUCER_BATCHES_RETAINED_MAX {
            self.batches.remove(0);
        }
        self.batches.push(BatchMetadata {
            first_sequence: batch.first_sequence,
            last_sequence: batch.last_sequence,
            appended: *appended,
        });
        self.last_timestamp = appended.max_timestamp;
        assert!(self.batches.len() <= PRODUCER_BATCHES_RETAINED_MAX);
    }
}

/// The producer state of one partition. Owned by the partition's shard; not thread-safe.
#[derive(Debug, Clone)]
pub struct ProducerStateTable {
    producers: HashMap<i64, ProducerEntry>,
    /// Recency key -> producer id, least recently appended first: the eviction order.
    recency: BTreeMap<u64, i64>,
    recency_next: u64,
    producers_max: usize,
}

impl Default for ProducerStateTable {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for ProducerStateTable {
    /// Same producers, same states, same eviction order (recency keys themselves may differ).
    fn eq(&self, other: &Self) -> bool {
        self.producers_max == other.producers_max
            && self.recency.len() == other.recency.len()
            && self
                .producers_in_recency_order()
                .zip(other.producers_in_recency_order())
                .all(|((id_a, a), (id_b, b))| {
                    id_a == id_b
                        && a.epoch == b.epoch
                        && a.batches == b.batches
                        && a.last_timestamp == b.last_timestamp
                })
    }
}

impl ProducerStateTable {
    /// An empty table bounded by [`PRODUCER_STATE_PRODUCERS_MAX`].
    pub fn new() -> Self {
        Self::with_producers_max(PRODUCER_STATE_PRODUCERS_MAX)
    }

    /// An empty table that tracks at most `producers_max` producers, clamped to
    /// `1..=PRODUCER_STATE_PRODUCERS_MAX` so that every table's snapshot decodes.
    pub fn with_producers_max(producers_max: usize) -> Self {
        ProducerStateTable {
            producers: HashMap::new(),
            recency: BTreeMap::new(),
            recency_next: 0,
            producers_max: producers_max.clamp(1, PRODUCER_STATE_PRODUCERS_MAX),
        }
    }

    /// Number of producers tracked.
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    pub fn producers_max(&self) -> usize {
        self.producers_max
    }

    pub fn producer(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    /// Decides whether a batch from a client may be appended (Kafka's rules, module doc).
    pub fn check(&self, batch: &ProducerBatch) -> Result<Check, ProducerError> {
        if !batch.is_idempotent() {
            return Ok(Check::New);
        }
        if batch.first_sequence < 0 {
            return Err(ProducerError::InvalidSequence {
                producer_id: batch.producer_id,
                first_sequence: batch.first_sequence,
            });
        }
        let entry = self.producers.get(&batch.producer_id);
        if let Some(original) = entry.and_then(|e| e.duplicate_of(batch)) {
            return Ok(Check::Duplicate(original));
        }
        let current_epoch = entry.map_or(NO_PRODUCER_EPOCH, |e| e.epoch);
        let current_last_sequence = entry.and_then(|e| e.last_sequence());
        if batch.producer_epoch < current_epoch {
            return Err(ProducerError::InvalidProducerEpoch {
                producer_id: batch.producer_id,
                epoch: batch.producer_epoch,
                current_epoch,
            });
        }
        let in_order = if current_epoch == NO_PRODUCER_EPOCH {
            // Unknown producer (or one that never had an epoch): any sequence (KIP-360).
            true
        } else if batch.producer_epoch != current_epoch {
            batch.first_sequence == 0
        } else {
            // An epoch without batches expects 0, as Kafka's NO_SEQUENCE (-1) + 1.
            let last = current_last_sequence.unwrap_or(-1);
            batch.first_sequence == sequence_add(last, 1)
        };
        if !in_order {
            return Err(ProducerError::OutOfOrderSequence {
                producer_id: batch.producer_id,
                epoch: batch.producer_epoch,
                first_sequence: batch.first_sequence,
                current_epoch,
                current_last_sequence,
            });
        }
        Ok(Check::New)
    }

    /// Records a batch the log appended after [`Self::check`] answered [`Check::New`].
    pub fn record(&mut self, batch: &ProducerBatch, appended: &AppendedBatch) {
        debug_assert_eq!(
            self.check(batch),
            Ok(Check::New),
            "record without a passing check"
        );
        self.apply(batch, appended);
    }

    /// Applies a batch read back from the log during recovery, without checks: the log is the
    /// truth, even where it breaks the rules (an older epoch, a sequence gap).
    pub fn apply_batch_for_recovery(&mut self, batch: &ProducerBatch, appended: &AppendedBatch) {
        self.apply(batch, appended);
    }

    /// Drops producers whose last batch's max timestamp is `expiration_ms` or more before
    /// `now_ms` (Kafka's `removeExpiredProducers`, `producer.id.expiration.ms`). Returns how
    /// many were dropped. O(producers): call it periodically, as Kafka does every
    /// `producer.id.expiration.check.interval.ms`.
    pub fn expire(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        let recency = &mut self.recency;
        self.producers.retain(|_, entry| {
            let expired = now_ms.saturating_sub(entry.last_timestamp) >= expiration_ms;
            if expired {
                recency.remove(&entry.recency);
            }
            !expired
        });
        assert_eq!(self.producers.len(), self.recency.len());
        before - self.producers.len()
    }

    /// Producers from the least to the most recently appended.
    pub fn producers_in_recency_order(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> + '_ {
        self.recency
            .values()
            .filter_map(|id| self.producers.get(id).map(|entry| (*id, entry)))
    }

    fn apply(&mut self, batch: &ProducerBatch, appended: &AppendedBatch) {
        if !batch.is_idempotent() {
            return;
        }
        let recency = self.recency_next;
        self.recency_next += 1;
        if let Some(entry) = self.producers.get_mut(&batch.producer_id) {
            self.recency.remove(&entry.recency);
            entry.recency = recency;
            entry.add_batch(batch, appended);
        } else {
            if self.producers.len() >= self.producers_max {
                self.evict_least_recent();
            }
            let mut entry = ProducerEntry {
                epoch: batch.producer_epoch,
                batches: Vec::with_capacity(PRODUCER_BATCHES_RETAINED_MAX),
                last_timestamp: appended.max_timestamp,
                recency,
            };
            entry.add_batch(batch, appended);
            self.producers.insert(batch.producer_id, entry);
        }
        self.recency.insert(recency, batch.producer_id);
        assert_eq!(self.producers.len(), self.recency.len());
        assert!(self.producers.len() <= self.producers_max);
    }

    fn evict_least_recent(&mut self) {
        if let Some((_, producer_id)) = self.recency.pop_first() {
            self.producers.remove(&producer_id);
            tracing::debug!(
                producer_id,
                "producer state full: evicted the least recent producer"
            );
        }
    }

    /// Inserts a decoded producer as the most recent one; the snapshot decoder's only way in.
    fn insert_most_recent(
        &mut self,
        producer_id: i64,
        epoch: i16,
        batches: Vec<BatchMetadata>,
        last_timestamp: i64,
    ) {
        let recency = self.recency_next;
        self.recency_next += 1;
        let entry = ProducerEntry {
            epoch,
            batches,
            last_timestamp,
            recency,
        };
        if let Some(old) = self.producers.insert(producer_id, entry) {
            self.recency.remove(&old.recency);
        }
        self.recency.insert(recency, producer_id);
    }
}

/// `sequence + delta` in Kafka's sequence space: non-negative `i32`, where `i32::MAX + 1` is 0.
fn sequence_add(sequence: i32, delta: i32) -> i32 {
    let sum = i64::from(sequence) + i64::from(delta);
    // Kafka's DefaultRecordBatch.incrementSequence wraps into [0, i32::MAX]; for valid
    // (non-negative) inputs this is the same value, and invalid ones cannot overflow.
    sum.rem_euclid(1 << 31) as i32
}

#[cfg(test)]
mod tests;
