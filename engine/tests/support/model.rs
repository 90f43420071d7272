//! The model of the model-based test (`model.rs`): segments of batches, exact about offsets,
//! the log start and end, segment boundaries and stored bytes; the checks of the log against
//! it; and the batches the tests append.

use bytes::Bytes;
use pinlog_engine::{EngineError, LogConfig, PartitionLog};
use pinlog_protocol::records::{BatchBuilder, Compression, NewRecord, ProducerFields, RecordBatch};

use super::{split_batches, stored_bytes};

pub const MAX_MESSAGE_BYTES: u32 = 2 * 1024 * 1024;
pub const TIMESTAMP_BASE_MS: i64 = 1_700_000_000_000;

#[derive(Debug, Clone)]
pub struct Setup {
    pub segment_bytes: u64,
    pub index_interval_bytes: u32,
    pub cache_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct BatchSpec {
    pub value_sizes: Vec<usize>,
    pub compression: Compression,
}

#[derive(Debug, Clone)]
pub struct ModelBatch {
    pub base: i64,
    pub last: i64,
    /// As stored: baseOffset and partitionLeaderEpoch rewritten.
    pub bytes: Bytes,
}

#[derive(Debug, Clone)]
pub struct ModelSegment {
    pub base: i64,
    pub batches: Vec<ModelBatch>,
}

impl ModelSegment {
    pub fn bytes(&self) -> u64 {
        self.batches.iter().map(|b| b.bytes.len() as u64).sum()
    }
}

#[derive(Debug)]
pub struct Model {
    pub segment_bytes: u64,
    pub retention_bytes: Option<u64>,
    /// The last is the active segment.
    pub segments: Vec<ModelSegment>,
    pub log_start: i64,
    pub log_end: i64,
    /// What Written and Durable appends guaranteed the high watermark to be at least.
    pub written_at_least: i64,
}

impl Model {
    pub fn new(segment_bytes: u64) -> Model {
        Model {
            segment_bytes,
            retention_bytes: None,
            segments: vec![ModelSegment {
                base: 0,
                batches: Vec::new(),
            }],
            log_start: 0,
            log_end: 0,
            written_at_least: 0,
        }
    }

    pub fn active(&self) -> &ModelSegment {
        self.segments.last().expect("an active segment")
    }

    pub fn batches(&self) -> impl Iterator<Item = &ModelBatch> {
        self.segments.iter().flat_map(|s| s.batches.iter())
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(ModelSegment::bytes).sum()
    }

    pub fn first_data_offset(&self) -> i64 {
        self.segments[0].base
    }

    /// Rolls as the log does: before an append that would take a non-empty active segment
    /// beyond `segment.bytes`; the append's batches all go to one segment.
    pub fn append(&mut self, batches: &[RecordBatch], leader_epoch: i32) -> (i64, i64) {
        let incoming: u64 = batches.iter().map(|b| b.size_bytes() as u64).sum();
        let active_bytes = self.active().bytes();
        if active_bytes > 0 && active_bytes + incoming > self.segment_bytes {
            self.roll();
        }
        let base = self.log_end;
        let mut next = base;
        for batch in batches {
            let last = next + i64::from(batch.last_offset_delta());
            let bytes = stored_bytes(batch, next, leader_epoch);
            let active = self.segments.last_mut().expect("an active segment");
            active.batches.push(ModelBatch {
                base: next,
                last,
                bytes,
            });
            next = last + 1;
        }
        self.log_end = next;
        (base, next - 1)
    }

    pub fn roll(&mut self) {
        if self.active().bytes() > 0 {
            self.segments.push(ModelSegment {
                base: self.log_end,
                batches: Vec::new(),
            });
        }
    }

    /// How many of the oldest closed segments retention deletes.
    pub fn retention_victims(&self) -> usize {
        let mut size = self.size_bytes();
        let mut victims = 0;
        for pair in self.segments.windows(2) {
            let (segment, next) = (&pair[0], &pair[1]);
            let by_bytes = self
                .retention_bytes
                .is_some_and(|limit| size.saturating_sub(segment.bytes()) >= limit);
            let below_start = next.base <= self.log_start;
            if !(by_bytes || below_start) {
                break;
            }
            size -= segment.bytes();
            victims += 1;
        }
        victims
    }

    pub fn delete_oldest(&mut self, count: usize) {
        assert!(count < self.segments.len(), "never the active segment");
        self.segments.drain(..count);
        self.log_start = self.log_start.max(self.segments[0].base);
    }

    /// Removes the batch containing `offset` and everything after; returns the new log end.
    pub fn truncate(&mut self, offset: i64) -> i64 {
        if offset >= self.log_end {
            return self.log_end;
        }
        if offset < self.first_data_offset() {
            self.segments = vec![ModelSegment {
                base: offset,
                batches: Vec::new(),
            }];
            self.log_end = offset;
        } else {
            let keep = self
                .segments
                .iter()
                .rposition(|s| s.base <= offset)
                .expect("a segment at or below the offset");
            self.segments.truncate(keep + 1);
            let segment = &mut self.segments[keep];
            let cut = segment
                .batches
                .iter()
                .position(|b| b.last >= offset)
                .expect("the batch containing the offset");
            self.log_end = segment.batches[cut].base;
            segment.batches.truncate(cut);
        }
        self.log_start = self.log_start.min(self.log_end);
        self.written_at_least = self.log_end;
        self.log_end
    }

    /// After a reopen everything is written.
    pub fn reopened(&mut self) {
        self.written_at_least = self.log_end;
    }

    pub fn containing(&self, offset: i64) -> Option<usize> {
        self.batches()
            .position(|b| b.base <= offset && offset <= b.last)
    }

    pub fn boundaries(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self.batches().map(|b| b.base).collect();
        out.push(self.log_end);
        out.extend(self.segments.iter().map(|s| s.base));
        out
    }
}

pub fn config(setup: &Setup, retention_bytes: Option<u64>) -> LogConfig {
    LogConfig {
        segment_bytes: setup.segment_bytes,
        segment_ms: None,
        retention_bytes,
        retention_ms: None,
        // The model applies retention where the operations enforce it; eager deletions have
        // their own tests (engine/tests/recycling.rs).
        retention_eager: false,
        index_interval_bytes: setup.index_interval_bytes,
        max_message_bytes: MAX_MESSAGE_BYTES,
        ..LogConfig::default()
    }
}

/// Applies to the model the retention the log did: exactly the model's when everything was
/// written, otherwise any number of the oldest closed segments up to the model's choice.
pub fn follow_retention(model: &mut Model, deleted: usize, exact: bool, context: &str) {
    let victims = model.retention_victims();
    if exact {
        assert_eq!(deleted, victims, "{context}: segments deleted by retention");
    } else {
        assert!(
            deleted < model.segments.len(),
            "{context}: retention deleted {deleted} of {} segments",
            model.segments.len()
        );
    }
    model.delete_oldest(deleted);
}

pub fn check_state(log: &PartitionLog, model: &Model, context: &str) {
    assert_eq!(log.log_end_offset(), model.log_end, "{context}: log end");
    assert_eq!(
        log.log_start_offset(),
        model.log_start,
        "{context}: log start"
    );
    assert_eq!(
        log.segment_count(),
        model.segments.len(),
        "{context}: segments"
    );
    let hw = log.high_watermark();
    assert!(
        model.log_start <= hw,
        "{context}: log start {} above the high watermark {hw}",
        model.log_start
    );
    assert!(
        model.written_at_least <= hw && hw <= model.log_end,
        "{context}: high watermark {hw} outside [{}, {}]",
        model.written_at_least,
        model.log_end
    );
    assert!(
        model.boundaries().contains(&hw),
        "{context}: high watermark {hw} inside a batch"
    );
    if hw == model.log_end {
        assert_eq!(log.size_bytes(), model.size_bytes(), "{context}: size");
    }
}

/// One read, checked against the model: whole batches from the one containing `offset`,
/// consecutive, below the high watermark, byte for byte as stored, within `max_bytes` unless
/// there is just one.
pub async fn check_read(
    log: &PartitionLog,
    model: &Model,
    offset: i64,
    max_bytes: usize,
    context: &str,
) -> Vec<Bytes> {
    let hw = log.high_watermark();
    let result = log.read(offset, max_bytes).await;
    let context = format!("{context}: read({offset}, {max_bytes}) with hw {hw}");
    let read = match result {
        Err(EngineError::OffsetOutOfRange { .. }) if offset < model.log_start || offset > hw => {
            return Vec::new()
        }
        Err(e) => panic!("{context}: {e}"),
        Ok(_) if offset < model.log_start || offset > hw => {
            panic!("{context}: served outside [{}, {hw}]", model.log_start)
        }
        Ok(read) => read,
    };
    assert_eq!(read.high_watermark, hw, "{context}");
    assert_eq!(read.log_start_offset, model.log_start, "{context}");
    let got = split_batches(&read.chunks);
    if offset == hw {
        assert!(got.is_empty(), "{context}: batches at the high watermark");
        return got;
    }
    let first = model
        .containing(offset)
        .unwrap_or_else(|| panic!("{context}: the model has no batch containing it"));
    let expected: Vec<&ModelBatch> = model
        .batches()
        .skip(first)
        .take_while(|b| b.last < hw)
        .collect();
    assert!(
        !got.is_empty(),
        "{context}: no batch below the high watermark"
    );
    assert!(
        got.len() <= expected.len(),
        "{context}: {} batches, at most {} expected",
        got.len(),
        expected.len()
    );
    for (i, (bytes, want)) in got.iter().zip(&expected).enumerate() {
        let batch = RecordBatch::new(bytes.clone()).expect("a batch header");
        batch
            .validate_header()
            .unwrap_or_else(|e| panic!("{context}: batch {i} invalid: {e}"));
        assert!(
            *bytes == want.bytes,
            "{context}: batch {i} (offsets {}..={}) differs from what was appended \
             (got base {} with {} bytes, want {} bytes)",
            want.base,
            want.last,
            batch.base_offset(),
            bytes.len(),
            want.bytes.len()
        );
    }
    let total: usize = got.iter().map(Bytes::len).sum();
    assert!(
        got.len() == 1 || total <= max_bytes,
        "{context}: {} batches of {total} bytes",
        got.len()
    );
    got
}

/// Reads from the log start to the high watermark, each read continuing after the last batch
/// of the one before.
pub async fn read_all(log: &PartitionLog, model: &Model, max_bytes: usize, context: &str) {
    let hw = log.high_watermark();
    let mut offset = model.log_start;
    while offset < hw {
        let got = check_read(log, model, offset, max_bytes, context).await;
        let last = RecordBatch::new(got.last().expect("a batch").clone())
            .expect("a batch header")
            .last_offset();
        offset = last + 1;
    }
}

/// Builds batches whose every value is distinct (a running number, then filler).
#[derive(Default)]
pub struct ValueSource {
    pub next: u64,
}

impl ValueSource {
    pub fn batch(&mut self, spec: &BatchSpec) -> RecordBatch {
        let mut builder = BatchBuilder::new()
            .compression(spec.compression)
            .producer(ProducerFields::NONE);
        for &size in &spec.value_sizes {
            let id = self.next;
            self.next += 1;
            let mut value = format!("v{id}:").into_bytes();
            value.extend((0..size).map(|i| b'a' + ((id as usize + i) % 26) as u8));
            builder.push(NewRecord {
                key: (!id.is_multiple_of(3)).then(|| Bytes::from(format!("k{}", id % 10))),
                value: Some(Bytes::from(value)),
                headers: Vec::new(),
                timestamp: TIMESTAMP_BASE_MS + id as i64,
            });
        }
        RecordBatch::new(builder.build().expect("building a batch")).expect("a batch")
    }
}

/// Files under `dir` this process has open.
pub fn open_files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("procfs") {
        let Ok(target) = std::fs::read_link(entry.expect("an fd entry").path()) else {
            continue;
        };
        if target.starts_with(dir) {
            out.push(target);
        }
    }
    out
}
