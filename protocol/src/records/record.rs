//! Records inside a batch, iterated lazily and without copying.
//!
//! ```text
//! length            varint   bytes of the rest of the record
//! attributes        i8       unused by Kafka so far
//! timestampDelta    varlong  from the batch's baseTimestamp
//! offsetDelta       varint   from the batch's baseOffset
//! keyLength         varint   -1 = null key
//! key               bytes
//! valueLength       varint   -1 = null value
//! value             bytes
//! headersCount      varint
//! headers           headerKeyLength varint, headerKey (UTF-8), headerValueLength varint
//!                   (-1 = null), headerValue
//! ```
//!
//! Every length is checked against the bytes that remain *within the record* before anything
//! is sliced, so a record cannot reach into the next one; a header count larger than the
//! record could hold (each header takes at least 2 bytes) is refused before any header is
//! read. Keys, values and header values are `Bytes` slices of the batch (or of the one
//! decompressed buffer of a compressed batch).
//!
//! Kafka reads any negative key or value length as null; pinlog accepts only -1, the one value
//! clients write, and refuses others as malformed (as kafka-protocol does), so that a stored
//! batch has one meaning.

use std::ops::Range;

use bytes::Bytes;

use super::parse::{header_at, parse_record, RawRecord};
use super::varint::VarintError;

/// One record, with its offset and timestamp made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub attributes: i8,
    pub offset_delta: i32,
    /// baseOffset + offsetDelta.
    pub offset: i64,
    pub timestamp_delta: i64,
    /// baseTimestamp + timestampDelta, or the batch's maxTimestamp when the batch has
    /// LogAppendTime (Kafka's `DefaultRecordBatch` rule: the broker's append time stands for
    /// every record of such a batch).
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Headers,
}

/// The headers of a record, parsed on demand. They were fully checked when the record was read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    count: u32,
    bytes: Bytes,
}

/// One record header. Kafka defines the key as UTF-8 but does not enforce it; neither does
/// pinlog, so the key is bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: Bytes,
    pub value: Option<Bytes>,
}

/// The part of a record that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    Length,
    Attributes,
    TimestampDelta,
    OffsetDelta,
    KeyLength,
    Key,
    ValueLength,
    Value,
    HeadersCount,
    HeaderKeyLength,
    HeaderKey,
    HeaderValueLength,
    HeaderValue,
    /// The record as a whole (its length, its offset, or what follows it).
    Record,
}

/// A malformed record: which record, which field, where, and what is wrong.
///
/// `position` counts from the start of the batch for uncompressed batches, and from the start
/// of the decompressed records for compressed ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index}, {field:?} at byte {position}: {kind}")]
pub struct RecordError {
    pub index: u32,
    pub field: RecordField,
    pub position: usize,
    pub kind: RecordErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordErrorKind {
    #[error("needs {needed} bytes, {remaining} remain")]
    Truncated { needed: usize, remaining: usize },
    #[error("{0}")]
    Varint(VarintError),
    #[error("invalid length {0}")]
    InvalidLength(i32),
    #[error("{count} headers cannot fit in the {remaining} bytes that remain")]
    HeadersCountExceedsRemaining { count: i32, remaining: usize },
    #[error("length says {declared} bytes but the fields take {used}")]
    LengthMismatch { declared: i32, used: usize },
    #[error("offset delta {delta} does not follow {previous}")]
    OffsetDeltaNotIncreasing { delta: i32, previous: i64 },
    #[error("offset delta {delta} is beyond the batch's lastOffsetDelta {last_offset_delta}")]
    OffsetDeltaBeyondLast { delta: i32, last_offset_delta: i32 },
    #[error("{remaining} bytes follow the last declared record")]
    TrailingBytes { remaining: usize },
    #[error("the batch declares {declared} records, only {found} are present")]
    MissingRecords { declared: u32, found: u32 },
}

/// What a record needs from its batch to make its offset and timestamp absolute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchContext {
    pub base_offset: i64,
    pub base_timestamp: i64,
    pub last_offset_delta: i32,
    pub log_append_time: Option<i64>,
    pub records_count: u32,
}

/// Iterator over the records of one batch, yielding `Err` once and then ending at the first
/// malformed record. Besides each record's framing it checks what the batch header promises:
/// exactly `recordsCount` records, strictly increasing offset deltas within
/// `0..=lastOffsetDelta`, and no bytes after the last record.
#[derive(Debug, Clone)]
pub struct Records {
    buf: Bytes,
    position: usize,
    /// Added to positions in errors, so that they count from the start of the batch.
    position_base: usize,
    context: BatchContext,
    index: u32,
    previous_delta: i64,
    done: bool,
}

impl Records {
    pub(crate) fn new(buf: Bytes, position_base: usize, context: BatchContext) -> Self {
        Records {
            buf,
            position: 0,
            position_base,
            context,
            index: 0,
            previous_delta: -1,
            done: false,
        }
    }

    /// Checks every remaining record without building `Record`s; returns how many there were.
    pub fn validate(mut self) -> Result<u32, RecordError> {
        while self.next_raw()?.is_some() {}
        Ok(self.index)
    }

    /// Parses the next record into ranges of `buf`, with all checks done.
    fn next_raw(&mut self) -> Result<Option<RawRecord>, RecordError> {
        if self.done {
            return Ok(None);
        }
        let result = self.parse_next();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    fn parse_next(&mut self) -> Result<Option<RawRecord>, RecordError> {
        let remaining = self.buf.len().saturating_sub(self.position);
        let at_end = |field, kind| RecordError {
            index: self.index,
            field,
            position: self.position_base + self.position,
            kind,
        };
        if self.index == self.context.records_count {
            if remaining > 0 {
                let kind = RecordErrorKind::TrailingBytes { remaining };
                return Err(at_end(RecordField::Record, kind));
            }
            return Ok(None);
        }
        if remaining == 0 {
            let kind = RecordErrorKind::MissingRecords {
                declared: self.context.records_count,
                found: self.index,
            };
            return Err(at_end(RecordField::Record, kind));
        }
        let raw = parse_record(&self.buf, self.position, self.position_base, self.index)?;
        let delta = i64::from(raw.offset_delta);
        if delta <= self.previous_delta {
            let kind = RecordErrorKind::OffsetDeltaNotIncreasing {
                delta: raw.offset_delta,
                previous: self.previous_delta,
            };
            return Err(at_end(RecordField::OffsetDelta, kind));
        }
        if raw.offset_delta > self.context.last_offset_delta {
            let kind = RecordErrorKind::OffsetDeltaBeyondLast {
                delta: raw.offset_delta,
                last_offset_delta: self.context.last_offset_delta,
            };
            return Err(at_end(RecordField::OffsetDelta, kind));
        }
        self.previous_delta = delta;
        self.position = raw.end;
        self.index += 1;
        Ok(Some(raw))
    }

    fn build(&self, raw: RawRecord) -> Record {
        let slice = |range: Range<usize>| self.buf.slice(range);
        let context = &self.context;
        // Offsets and timestamps come from the wire: wrap as Java's long arithmetic does
        // rather than panic on a hostile baseOffset.
        let timestamp = match context.log_append_time {
            Some(time) => time,
            None => context.base_timestamp.wrapping_add(raw.timestamp_delta),
        };
        Record {
            attributes: raw.attributes,
            offset_delta: raw.offset_delta,
            offset: context
                .base_offset
                .wrapping_add(i64::from(raw.offset_delta)),
            timestamp_delta: raw.timestamp_delta,
            timestamp,
            key: raw.key.map(slice),
            value: raw.value.map(slice),
            headers: Headers {
                count: raw.headers_count,
                bytes: slice(raw.headers),
            },
        }
    }
}

impl Iterator for Records {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_raw() {
            Ok(Some(raw)) => Some(Ok(self.build(raw))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let declared = self.context.records_count.saturating_sub(self.index) as usize;
        // The last item may be an error instead of a record.
        (0, Some(declared.saturating_add(1)))
    }
}

impl Headers {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> HeaderIter<'_> {
        HeaderIter {
            headers: self,
            position: 0,
            remaining: self.count,
        }
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = Header;
    type IntoIter = HeaderIter<'a>;

    fn into_iter(self) -> HeaderIter<'a> {
        self.iter()
    }
}

/// Iterator over a record's headers.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    headers: &'a Headers,
    position: usize,
    remaining: u32,
}

impl Iterator for HeaderIter<'_> {
    type Item = Header;

    fn next(&mut self) -> Option<Header> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let bytes = &self.headers.bytes;
        // The headers were checked when the record was parsed, so this cannot fail; if it
        // did, ending the iteration early is the safe answer.
        let ((key, value), next) = header_at(bytes, self.position).ok()?;
        self.position = next;
        Some(Header {
            key: bytes.slice(key),
            value: value.map(|range| bytes.slice(range)),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining as usize))
    }
}
