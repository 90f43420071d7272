//! The per-shard batch cache: recently appended record batches, served to fetches without a
//! disk read.
//!
//! The appender inserts every batch it appends; a fetch asks for the batches from an offset
//! and gets either a run of whole, consecutive batches starting with the one that contains the
//! offset, or `None`, in which case it reads from disk. Nothing is inserted on a read.
//!
//! A batch may be cached in two parts, a head and the rest (see [`BatchCache::insert_parts`]):
//! the log caches the producer's bytes as they came and only its rewritten first header bytes
//! apart, so that appending copies a batch once (into the DMA buffer), not twice. The first
//! read of such a batch joins the parts (one copy, then kept), so reads return whole batches
//! and a batch no fetch reads from the cache is never copied for it.
//!
//! # Why FIFO
//!
//! Eviction drops the batch inserted first. Consumers that keep up read what was just
//! appended, so the newest batches are the valuable ones, and per log insertion order is
//! offset order: FIFO keeps, for each log, a contiguous run ending at the log's end, which is
//! exactly what tailing consumers ask for. An LRU (or segmented LRU) would let a lagging
//! consumer's reads promote old batches and push out the tail every other consumer needs, and
//! would make every read a write to the recency structure. Lagging consumers are better served
//! by sequential DMA reads, which do not touch this cache at all.
//!
//! # Bound
//!
//! The cache charges each batch its length plus [`CACHE_BATCH_OVERHEAD_BYTES`] (the map
//! entries that track it), and never holds more than its bound. A batch larger than the whole
//! bound is not cached. The caller should insert `Bytes` that own little besides the batch
//! (a slice of a larger buffer keeps all of it alive, and only the slice is charged).
//!
//! Owned by one shard: not thread-safe, no locks; `read` takes `&self` so that it can run
//! under a `RefCell::borrow` while other reads are in progress.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::limits::CACHE_BATCH_OVERHEAD_BYTES;

/// Counters of a [`BatchCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads answered `None`.
    pub misses: u64,
    /// Batches dropped to make room (not those dropped by truncation or removal).
    pub evictions: u64,
    /// Bytes charged for the batches held, overhead included.
    pub bytes: usize,
    pub batches: usize,
}

#[derive(Debug)]
struct CachedBatch {
    last_offset: i64,
    /// The batch's first bytes when they are kept apart from `data` (empty if not).
    head: Bytes,
    data: Bytes,
    /// Key in `BatchCache::insertions`.
    insertion: u64,
}

impl CachedBatch {
    fn len(&self) -> usize {
        self.head.len() + self.data.len()
    }

    fn charged_bytes(&self) -> usize {
        charged_bytes(self.len())
    }

    /// The whole batch, joining its parts on first use.
    fn whole(&mut self) -> Bytes {
        if !self.head.is_empty() {
            let mut joined = bytes::BytesMut::with_capacity(self.len());
            joined.extend_from_slice(&self.head);
            joined.extend_from_slice(&self.data);
            self.data = joined.freeze();
            self.head = Bytes::new();
        }
        self.data.clone()
    }
}

/// Bounded cache of recently appended batches, keyed by (log id, base offset).
#[derive(Debug)]
pub struct BatchCache {
    /// Per log, batches by base offset: a read is a range query.
    logs: HashMap<u64, BTreeMap<i64, CachedBatch>>,
    /// Insertion number -> (log id, base offset), oldest first: the eviction order.
    insertions: BTreeMap<u64, (u64, i64)>,
    insertion_next: u64,
    bytes: usize,
    bytes_max: usize,
    hits: Cell<u64>,
    misses: Cell<u64>,
    evictions: u64,
}

impl BatchCache {
    /// An empty cache that holds at most `bytes_max` bytes (see the module doc for what is
    /// charged). The default bound is [`crate::limits::CACHE_BYTES_DEFAULT`].
    pub fn new(bytes_max: usize) -> Self {
        BatchCache {
            logs: HashMap::new(),
            insertions: BTreeMap::new(),
            insertion_next: 0,
            bytes: 0,
            bytes_max,
            hits: Cell::new(0),
            misses: Cell::new(0),
            evictions: 0,
        }
    }

    pub fn bytes_max(&self) -> usize {
        self.bytes_max
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.get(),
            misses: self.misses.get(),
            evictions: self.evictions,
            bytes: self.bytes,
            batches: self.insertions.len(),
        }
    }

    /// Caches the batch `[base_offset, last_offset]` of log `log_id`, evicting the oldest
    /// batches to make room. Batches of the log that overlap it or come after it are dropped
    /// first: an insert at `base_offset` means the log's end is there now. Returns whether the
    /// batch was cached (not when it is larger than the whole cache or its offsets are
    /// inverted).
    pub fn insert(&mut self, log_id: u64, base_offset: i64, last_offset: i64, data: Bytes) -> bool {
        self.insert_parts(log_id, base_offset, last_offset, Bytes::new(), data)
    }

    /// [`insert`](Self::insert) for a batch whose bytes are `head` then `rest` (joined when
    /// first read).
    pub fn insert_parts(
        &mut self,
        log_id: u64,
        base_offset: i64,
        last_offset: i64,
        head: Bytes,
        rest: Bytes,
    ) -> bool {
        if last_offset < base_offset {
            return false;
        }
        let overlaps = self
            .logs
            .get(&log_id)
            .and_then(|batches| batches.last_key_value())
            .is_some_and(|(_, last)| last.last_offset >= base_offset);
        if overlaps {
            self.truncate(log_id, base_offset);
        }
        let charged = charged_bytes(head.len() + rest.len());
        if charged > self.bytes_max {
            return false;
        }
        while self.bytes + charged > self.bytes_max {
            if !self.evict_oldest() {
                break;
            }
        }
        let insertion = self.insertion_next;
        self.insertion_next += 1;
        let batch = CachedBatch {
            last_offset,
            head,
            data: rest,
            insertion,
        };
        self.logs
            .entry(log_id)
            .or_default()
            .insert(base_offset, batch);
        self.insertions.insert(insertion, (log_id, base_offset));
        self.bytes += charged;
        assert!(self.bytes <= self.bytes_max);
        true
    }

    /// The cached batches from the one that contains `from_offset` on, as long as they are
    /// consecutive (each starts right after the previous one ends) and their total stays
    /// within `max_bytes`; the first batch is returned even when it alone exceeds `max_bytes`,
    /// as Kafka returns at least one whole batch. `None` when no cached batch contains
    /// `from_offset`. Takes `&mut self`: batches cached in parts are joined (see the module
    /// doc).
    pub fn read(&mut self, log_id: u64, from_offset: i64, max_bytes: usize) -> Option<Vec<Bytes>> {
        self.read_below(log_id, from_offset, max_bytes, i64::MAX)
    }

    /// [`read`](Self::read), without the batches that start at `end_offset` or after (a log's
    /// batches not yet readable).
    pub fn read_below(
        &mut self,
        log_id: u64,
        from_offset: i64,
        max_bytes: usize,
        end_offset: i64,
    ) -> Option<Vec<Bytes>> {
        let run = self.logs.get_mut(&log_id).and_then(|batches| {
            let (&first_base, first) = batches.range_mut(..=from_offset).next_back()?;
            if first.last_offset < from_offset || first_base >= end_offset {
                return None;
            }
            let mut run = vec![first.whole()];
            let mut total = first.len();
            let mut next_offset = first.last_offset.checked_add(1)?;
            for (&base, batch) in batches.range_mut(
                first_base.saturating_add(1)..end_offset.max(first_base.saturating_add(1)),
            ) {
                let Some(new_total) = total.checked_add(batch.len()) else {
                    break;
                };
                if base != next_offset || new_total > max_bytes {
                    break;
                }
                run.push(batch.whole());
                total = new_total;
                let Some(after) = batch.last_offset.checked_add(1) else {
                    break;
                };
                next_offset = after;
            }
            Some(run)
        });
        let counter = if run.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.set(counter.get() + 1);
        run
    }

    /// Drops the log's batches at or after `from_offset`, including the one that contains it
    /// (the log truncates at batch boundaries).
    pub fn truncate(&mut self, log_id: u64, from_offset: i64) {
        let Some(batches) = self.logs.get_mut(&log_id) else {
            return;
        };
        // The batch that starts before `from_offset` may still reach it.
        let straddling = batches
            .range(..from_offset)
            .next_back()
            .filter(|(_, batch)| batch.last_offset >= from_offset)
            .map(|(&base, _)| base);
        let split_at = straddling.unwrap_or(from_offset);
        let dropped = batches.split_off(&split_at);
        if batches.is_empty() {
            self.logs.remove(&log_id);
        }
        self.forget(dropped.into_values());
    }

    /// Drops every batch of a log (deleted, or moved to another shard).
    pub fn remove_log(&mut self, log_id: u64) {
        if let Some(batches) = self.logs.remove(&log_id) {
            self.forget(batches.into_values());
        }
    }

    fn forget(&mut self, batches: impl Iterator<Item = CachedBatch>) {
        for batch in batches {
            self.insertions.remove(&batch.insertion);
            self.bytes -= batch.charged_bytes();
        }
    }

    /// Drops the oldest batch; false when the cache is empty.
    fn evict_oldest(&mut self) -> bool {
        let Some((_, (log_id, base_offset))) = self.insertions.pop_first() else {
            return false;
        };
        let evicted = self
            .logs
            .get_mut(&log_id)
            .and_then(|batches| batches.remove(&base_offset));
        if self.logs.get(&log_id).is_some_and(BTreeMap::is_empty) {
            self.logs.remove(&log_id);
        }
        // Both maps are updated together everywhere, so the batch is there.
        let Some(batch) = evicted else {
            panic!("batch cache maps out of step: ({log_id}, {base_offset}) missing");
        };
        self.bytes -= batch.charged_bytes();
        self.evictions += 1;
        true
    }
}

fn charged_bytes(len: usize) -> usize {
    len.saturating_add(CACHE_BATCH_OVERHEAD_BYTES)
}

#[cfg(test)]
mod tests;
