//! Building RecordBatch v2 bytes: what pinlog's own client, the bench tool and the tests
//! produce, and how the broker writes control batches (transaction markers).
//!
//! Records get consecutive offset deltas from 0, baseTimestamp is the first record's
//! timestamp and maxTimestamp the largest, as Kafka's `MemoryRecordsBuilder` does. The
//! records are encoded straight after the header, or into a scratch buffer that is then
//! compressed; the CRC is computed last over the finished bytes.

use bytes::{BufMut, Bytes, BytesMut};

use super::batch::{TimestampType, MAGIC_V2};
use super::compression::{compress, Compression, CompressionError};
use super::control::{ControlKey, ControlMarker, ControlType};
use super::crc::crc32c;
use super::layout::{self, attributes as attr};
use super::record::Header;
use super::varint::{encode_varint, encode_varlong, varint_len, varlong_len};

/// A record to put in a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
}

/// The idempotent / transactional producer fields, named so that they cannot be swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerFields {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

impl ProducerFields {
    /// A batch from a producer that is neither idempotent nor transactional.
    pub const NONE: ProducerFields = ProducerFields {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("a batch needs at least one record")]
    Empty,
    #[error("a control batch holds exactly one record, not {0}")]
    ControlRecordCount(usize),
    #[error("{what} is {bytes} bytes, more than a batch can describe")]
    TooLarge { what: &'static str, bytes: usize },
    #[error("timestamp {timestamp} is too far from the base timestamp {base_timestamp}")]
    TimestampDelta { base_timestamp: i64, timestamp: i64 },
    #[error("{0}")]
    Compression(#[from] CompressionError),
}

/// Builds one batch. Configure with the chained setters, add records, then [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    base_offset: i64,
    partition_leader_epoch: i32,
    compression: Compression,
    timestamp_type: TimestampType,
    producer: ProducerFields,
    transactional: bool,
    control: bool,
    records: Vec<NewRecord>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    /// Base offset 0, no leader epoch (-1), uncompressed, CreateTime, no producer id.
    pub fn new() -> Self {
        BatchBuilder {
            base_offset: 0,
            partition_leader_epoch: -1,
            compression: Compression::None,
            timestamp_type: TimestampType::Create,
            producer: ProducerFields::NONE,
            transactional: false,
            control: false,
            records: Vec::new(),
        }
    }

    pub fn base_offset(mut self, base_offset: i64) -> Self {
        self.base_offset = base_offset;
        self
    }

    pub fn partition_leader_epoch(mut self, epoch: i32) -> Self {
        self.partition_leader_epoch = epoch;
        self
    }

    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// With LogAppend, readers report maxTimestamp (the largest record timestamp) as every
    /// record's timestamp.
    pub fn timestamp_type(mut self, timestamp_type: TimestampType) -> Self {
        self.timestamp_type = timestamp_type;
        self
    }

    pub fn producer(mut self, producer: ProducerFields) -> Self {
        self.producer = producer;
        self
    }

    pub fn transactional(mut self, transactional: bool) -> Self {
        self.transactional = transactional;
        self
    }

    /// Makes this a control batch holding one transaction marker, as the broker writes when a
    /// transaction ends. Control batches are transactional and carry no sequence.
    pub fn end_txn_marker(mut self, marker: ControlMarker, timestamp: i64) -> Self {
        let kind = match marker.commit {
            true => ControlType::Commit,
            false => ControlType::Abort,
        };
        let key = ControlKey { version: 0, kind };
        self.control = true;
        self.transactional = true;
        self.producer.base_sequence = -1;
        self.records = vec![NewRecord {
            key: Some(Bytes::copy_from_slice(&key.encode())),
            value: Some(Bytes::copy_from_slice(&marker.marker.encode())),
            headers: Vec::new(),
            timestamp,
        }];
        self
    }

    pub fn record(mut self, record: NewRecord) -> Self {
        self.records.push(record);
        self
    }

    pub fn push(&mut self, record: NewRecord) {
        self.records.push(record);
    }

    pub fn build(&self) -> Result<Bytes, BuildError> {
        let first = self.records.first().ok_or(BuildError::Empty)?;
        if self.control && self.records.len() != 1 {
            return Err(BuildError::ControlRecordCount(self.records.len()));
        }
        let count = i32::try_from(self.records.len()).map_err(|_| BuildError::TooLarge {
            what: "the record count",
            bytes: self.records.len(),
        })?;
        let base_timestamp = first.timestamp;
        let max_timestamp = self.records.iter().map(|r| r.timestamp).max();

        let mut out = BytesMut::with_capacity(layout::HEADER_BYTES + self.encoded_len_hint());
        out.put_bytes(0, layout::HEADER_BYTES);
        match self.compression {
            Compression::None => self.encode_records(base_timestamp, &mut out)?,
            codec => {
                let mut plain = BytesMut::with_capacity(self.encoded_len_hint());
                self.encode_records(base_timestamp, &mut plain)?;
                out.put_slice(&compress(codec, &plain)?);
            }
        }
        let batch_length = i32::try_from(out.len() - layout::LOG_OVERHEAD_BYTES).map_err(|_| {
            BuildError::TooLarge {
                what: "the batch",
                bytes: out.len(),
            }
        })?;

        let mut header = Vec::with_capacity(layout::HEADER_BYTES);
        header.put_i64(self.base_offset);
        header.put_i32(batch_length);
        header.put_i32(self.partition_leader_epoch);
        header.put_i8(MAGIC_V2);
        header.put_u32(0); // the CRC, computed below over what follows it
        header.put_i16(self.attributes());
        header.put_i32(count - 1);
        header.put_i64(base_timestamp);
        header.put_i64(max_timestamp.unwrap_or(base_timestamp));
        header.put_i64(self.producer.producer_id);
        header.put_i16(self.producer.producer_epoch);
        header.put_i32(self.producer.base_sequence);
        header.put_i32(count);
        debug_assert_eq!(header.len(), layout::HEADER_BYTES);
        if let Some(target) = out.get_mut(..layout::HEADER_BYTES) {
            target.copy_from_slice(&header);
        }
        let crc = crc32c(out.get(layout::CRC_START..).unwrap_or_default());
        if let Some(target) = out.get_mut(layout::CRC..layout::CRC_START) {
            target.copy_from_slice(&crc.to_be_bytes());
        }
        Ok(out.freeze())
    }

    fn attributes(&self) -> i16 {
        let mut attributes = self.compression.attribute_bits();
        if self.timestamp_type == TimestampType::LogAppend {
            attributes |= attr::TIMESTAMP_TYPE;
        }
        if self.transactional {
            attributes |= attr::TRANSACTIONAL;
        }
        if self.control {
            attributes |= attr::CONTROL;
        }
        attributes
    }

    /// Roughly the encoded size of the records, for reserving buffers.
    fn encoded_len_hint(&self) -> usize {
        self.records
            .iter()
            .map(|r| {
                let key = r.key.as_ref().map_or(0, Bytes::len);
                let value = r.value.as_ref().map_or(0, Bytes::len);
                let headers: usize = r.headers.iter().map(|h| h.key.len() + 8).sum();
                key + value + headers + 16
            })
            .fold(0usize, usize::saturating_add)
    }

    fn encode_records(&self, base_timestamp: i64, out: &mut BytesMut) -> Result<(), BuildError> {
        for (offset_delta, record) in self.records.iter().enumerate() {
            // The count was checked to fit an i32.
            let offset_delta = i32::try_from(offset_delta).unwrap_or(i32::MAX);
            let timestamp_delta =
                record
                    .timestamp
                    .checked_sub(base_timestamp)
                    .ok_or(BuildError::TimestampDelta {
                        base_timestamp,
                        timestamp: record.timestamp,
                    })?;
            let body_len = body_len(record, timestamp_delta, offset_delta)?;
            encode_varint(body_len, out);
            out.put_i8(0);
            encode_varlong(timestamp_delta, out);
            encode_varint(offset_delta, out);
            put_nullable(record.key.as_deref(), out);
            put_nullable(record.value.as_deref(), out);
            encode_varint(length(record.headers.len(), "the header count")?, out);
            for header in &record.headers {
                encode_varint(length(header.key.len(), "a header key")?, out);
                out.put_slice(&header.key);
                put_nullable(header.value.as_deref(), out);
            }
        }
        Ok(())
    }
}

/// The length of a record after its length prefix.
fn body_len(
    record: &NewRecord,
    timestamp_delta: i64,
    offset_delta: i32,
) -> Result<i32, BuildError> {
    let nullable_len = |bytes: Option<&Bytes>, what| -> Result<usize, BuildError> {
        Ok(match bytes {
            None => varint_len(-1),
            Some(bytes) => varint_len(length(bytes.len(), what)?) + bytes.len(),
        })
    };
    let mut len = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
    len += nullable_len(record.key.as_ref(), "a key")?;
    len += nullable_len(record.value.as_ref(), "a value")?;
    len += varint_len(length(record.headers.len(), "the header count")?);
    for header in &record.headers {
        len += varint_len(length(header.key.len(), "a header key")?) + header.key.len();
        len += nullable_len(header.value.as_ref(), "a header value")?;
    }
    length(len, "a record")
}

fn length(len: usize, what: &'static str) -> Result<i32, BuildError> {
    i32::try_from(len).map_err(|_| BuildError::TooLarge { what, bytes: len })
}

fn put_nullable(bytes: Option<&[u8]>, out: &mut BytesMut) {
    match bytes {
        None => encode_varint(-1, out),
        Some(bytes) => {
            // body_len checked every length against i32 before anything was written.
            encode_varint(i32::try_from(bytes.len()).unwrap_or(i32::MAX), out);
            out.put_slice(bytes);
        }
    }
}
