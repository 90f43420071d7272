//! The record parser behind [`Records`](super::record::Records): one record at a time into
//! ranges of the records buffer, every length checked against what remains of the record
//! before anything is sliced.

use std::ops::Range;

use super::record::{RecordError, RecordErrorKind, RecordField};
use super::varint::{decode_varint, decode_varlong};

/// A parsed record as ranges of the records buffer.
#[derive(Debug)]
pub(super) struct RawRecord {
    pub(super) attributes: i8,
    pub(super) timestamp_delta: i64,
    pub(super) offset_delta: i32,
    pub(super) key: Option<Range<usize>>,
    pub(super) value: Option<Range<usize>>,
    pub(super) headers_count: u32,
    pub(super) headers: Range<usize>,
    pub(super) end: usize,
}

/// Each header takes at least a 1-byte key length and a 1-byte value length.
const HEADER_BYTES_MIN: usize = 2;

pub(super) fn parse_record(
    buf: &[u8],
    start: usize,
    position_base: usize,
    index: u32,
) -> Result<RawRecord, RecordError> {
    let mut outer = Cursor::new(buf, start, position_base, index);
    let length = outer.length(RecordField::Length)?;
    let body = outer.take(length, RecordField::Record)?;
    // The fields are read from the body alone, so none can reach past the declared length.
    let body_buf = buf.get(..body.end).unwrap_or_default();
    let mut cursor = Cursor::new(body_buf, body.start, position_base, index);

    let attributes = cursor.byte(RecordField::Attributes)? as i8;
    let timestamp_delta = cursor.varlong(RecordField::TimestampDelta)?;
    let offset_delta = cursor.varint(RecordField::OffsetDelta)?;
    let key = cursor.nullable(RecordField::KeyLength, RecordField::Key)?;
    let value = cursor.nullable(RecordField::ValueLength, RecordField::Value)?;
    let count = cursor.varint(RecordField::HeadersCount)?;
    let remaining = cursor.remaining();
    let headers_count = u32::try_from(count)
        .ok()
        .filter(|&count| count as usize <= remaining / HEADER_BYTES_MIN)
        .ok_or_else(|| {
            let kind = RecordErrorKind::HeadersCountExceedsRemaining { count, remaining };
            cursor.error(RecordField::HeadersCount, kind)
        })?;
    let headers_start = cursor.position;
    for _ in 0..headers_count {
        parse_header(&mut cursor)?;
    }
    if cursor.position != body.end {
        let used = cursor.position - body.start;
        let kind = RecordErrorKind::LengthMismatch {
            declared: i32::try_from(length).unwrap_or(i32::MAX),
            used,
        };
        return Err(cursor.error(RecordField::Record, kind));
    }
    Ok(RawRecord {
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        value,
        headers_count,
        headers: headers_start..body.end,
        end: body.end,
    })
}

/// One header's key and value ranges.
pub(super) type HeaderRanges = (Range<usize>, Option<Range<usize>>);

/// The header at `position` of a headers section, and where the next one starts.
pub(super) fn header_at(buf: &[u8], position: usize) -> Result<(HeaderRanges, usize), RecordError> {
    let mut cursor = Cursor::new(buf, position, 0, 0);
    let ranges = parse_header(&mut cursor)?;
    Ok((ranges, cursor.position))
}

fn parse_header(cursor: &mut Cursor<'_>) -> Result<HeaderRanges, RecordError> {
    let key_length = cursor.length(RecordField::HeaderKeyLength)?;
    let key = cursor.take(key_length, RecordField::HeaderKey)?;
    let value = cursor.nullable(RecordField::HeaderValueLength, RecordField::HeaderValue)?;
    Ok((key, value))
}

/// A bounded read position in a records buffer that names the record and field in errors.
struct Cursor<'a> {
    buf: &'a [u8],
    position: usize,
    position_base: usize,
    index: u32,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], position: usize, position_base: usize, index: u32) -> Self {
        Cursor {
            buf,
            position,
            position_base,
            index,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.position)
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.position..).unwrap_or_default()
    }

    fn error(&self, field: RecordField, kind: RecordErrorKind) -> RecordError {
        self.error_at(self.position, field, kind)
    }

    fn error_at(&self, position: usize, field: RecordField, kind: RecordErrorKind) -> RecordError {
        RecordError {
            index: self.index,
            field,
            position: self.position_base + position,
            kind,
        }
    }

    fn byte(&mut self, field: RecordField) -> Result<u8, RecordError> {
        let range = self.take(1, field)?;
        Ok(self.buf.get(range.start).copied().unwrap_or_default())
    }

    /// A varint length that must not be negative.
    fn length(&mut self, field: RecordField) -> Result<usize, RecordError> {
        let start = self.position;
        let length = self.varint(field)?;
        usize::try_from(length)
            .map_err(|_| self.error_at(start, field, RecordErrorKind::InvalidLength(length)))
    }

    fn varint(&mut self, field: RecordField) -> Result<i32, RecordError> {
        let (value, len) = decode_varint(self.rest())
            .map_err(|e| self.error(field, RecordErrorKind::Varint(e)))?;
        self.position += len;
        Ok(value)
    }

    fn varlong(&mut self, field: RecordField) -> Result<i64, RecordError> {
        let (value, len) = decode_varlong(self.rest())
            .map_err(|e| self.error(field, RecordErrorKind::Varint(e)))?;
        self.position += len;
        Ok(value)
    }

    fn take(&mut self, len: usize, field: RecordField) -> Result<Range<usize>, RecordError> {
        let remaining = self.remaining();
        if len > remaining {
            let kind = RecordErrorKind::Truncated {
                needed: len,
                remaining,
            };
            return Err(self.error(field, kind));
        }
        let range = self.position..self.position + len;
        self.position = range.end;
        Ok(range)
    }

    /// A varint length then that many bytes; -1 is null, any other negative is malformed.
    fn nullable(
        &mut self,
        length_field: RecordField,
        field: RecordField,
    ) -> Result<Option<Range<usize>>, RecordError> {
        let start = self.position;
        match self.varint(length_field)? {
            -1 => Ok(None),
            length => match usize::try_from(length) {
                Ok(len) => self.take(len, field).map(Some),
                Err(_) => {
                    let kind = RecordErrorKind::InvalidLength(length);
                    Err(self.error_at(start, length_field, kind))
                }
            },
        }
    }
}
