//! The encoder every generated `encode` is written against.
//!
//! Fixed fields are appended to an owned buffer; record data at or above
//! [`ZERO_COPY_RECORDS_MIN_BYTES`](crate::limits::ZERO_COPY_RECORDS_MIN_BYTES) is not copied but
//! appended as its own chunk, so a Fetch response made of segment bytes goes to the socket as a
//! vectored write of the original `Bytes`.

use bytes::{BufMut, Bytes, BytesMut};

use super::{EncodeError, EncodeErrorKind, Uuid};
use crate::limits::ZERO_COPY_RECORDS_MIN_BYTES;

enum Chunk {
    Owned(BytesMut),
    Shared(Bytes),
}

/// Encoding context: which message and version errors are about.
#[derive(Debug, Clone, Copy)]
pub struct EncodeContext {
    pub message: &'static str,
    pub version: i16,
}

/// An output of owned bytes interleaved with shared record chunks. See the module docs.
pub struct Writer {
    buf: BytesMut,
    chunks: Vec<Chunk>,
    len: usize,
    context: EncodeContext,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Self {
        Self::with_capacity(256)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: BytesMut::with_capacity(capacity),
            chunks: Vec::new(),
            len: 0,
            context: EncodeContext {
                message: "",
                version: 0,
            },
        }
    }

    /// Total bytes written so far, chunks included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn set_context(&mut self, message: &'static str, version: i16) {
        self.context = EncodeContext { message, version };
    }

    pub fn error(&self, field: &'static str, kind: EncodeErrorKind) -> EncodeError {
        EncodeError {
            message: self.context.message,
            version: self.context.version,
            field,
            kind,
        }
    }

    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    pub fn bool(&mut self, value: bool) {
        self.put_slice(&[u8::from(value)]);
    }
    pub fn i8(&mut self, value: i8) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn i16(&mut self, value: i16) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn u16(&mut self, value: u16) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn i32(&mut self, value: i32) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn u32(&mut self, value: u32) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn i64(&mut self, value: i64) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn f64(&mut self, value: f64) {
        self.put_slice(&value.to_be_bytes());
    }
    pub fn uuid(&mut self, value: &Uuid) {
        self.put_slice(&value.0);
    }

    pub fn uvarint(&mut self, mut value: u32) {
        let mut scratch = [0u8; 5];
        let mut len = 0;
        while value >= 0x80 {
            scratch[len] = (value as u8) | 0x80;
            value >>= 7;
            len += 1;
        }
        scratch[len] = value as u8;
        self.put_slice(&scratch[..=len]);
    }

    /// Writes the length prefix of a string, bytes or array field; `None` is null.
    fn length(
        &mut self,
        len: Option<usize>,
        compact: bool,
        short: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        let limit = if short {
            i16::MAX as usize
        } else {
            i32::MAX as usize - 1
        };
        match len {
            Some(n) if n > limit => Err(self.error(field, EncodeErrorKind::TooLong(n))),
            Some(n) if compact => {
                self.uvarint(n as u32 + 1);
                Ok(())
            }
            Some(n) if short => {
                self.i16(n as i16);
                Ok(())
            }
            Some(n) => {
                self.i32(n as i32);
                Ok(())
            }
            None if compact => {
                self.uvarint(0);
                Ok(())
            }
            None if short => {
                self.i16(-1);
                Ok(())
            }
            None => {
                self.i32(-1);
                Ok(())
            }
        }
    }

    /// Null is written only where the field is nullable at this version.
    fn check_null<T>(
        &self,
        value: &Option<T>,
        nullable: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        if value.is_none() && !nullable {
            return Err(self.error(field, EncodeErrorKind::NullNotAllowed));
        }
        Ok(())
    }

    pub fn nullable_string(
        &mut self,
        value: Option<&str>,
        compact: bool,
        nullable: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.check_null(&value, nullable, field)?;
        self.length(value.map(str::len), compact, true, field)?;
        if let Some(text) = value {
            self.put_slice(text.as_bytes());
        }
        Ok(())
    }

    pub fn string(
        &mut self,
        value: &str,
        compact: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.nullable_string(Some(value), compact, false, field)
    }

    pub fn nullable_bytes(
        &mut self,
        value: Option<&Bytes>,
        compact: bool,
        nullable: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.check_null(&value, nullable, field)?;
        self.length(value.map(Bytes::len), compact, false, field)?;
        if let Some(bytes) = value {
            self.put_slice(bytes);
        }
        Ok(())
    }

    pub fn bytes(
        &mut self,
        value: &Bytes,
        compact: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.nullable_bytes(Some(value), compact, false, field)
    }

    /// Record data: large payloads become their own chunk instead of being copied.
    pub fn records(
        &mut self,
        value: Option<&Bytes>,
        compact: bool,
        nullable: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.check_null(&value, nullable, field)?;
        self.length(value.map(Bytes::len), compact, false, field)?;
        if let Some(records) = value {
            if records.len() >= ZERO_COPY_RECORDS_MIN_BYTES {
                self.push_shared(records.clone());
            } else {
                self.put_slice(records);
            }
        }
        Ok(())
    }

    /// Appends bytes that are to be sent as they are, without copying.
    pub fn push_shared(&mut self, bytes: Bytes) {
        if !self.buf.is_empty() {
            let owned = self.buf.split();
            self.chunks.push(Chunk::Owned(owned));
        }
        self.len += bytes.len();
        self.chunks.push(Chunk::Shared(bytes));
    }

    pub fn array_len(
        &mut self,
        len: usize,
        compact: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.length(Some(len), compact, false, field)
    }

    pub fn nullable_array_len(
        &mut self,
        len: Option<usize>,
        compact: bool,
        nullable: bool,
        field: &'static str,
    ) -> Result<(), EncodeError> {
        self.check_null(&len, nullable, field)?;
        self.length(len, compact, false, field)
    }

    /// Overwrites four bytes at `position` (counted from the start of the output) with a
    /// big-endian `i32`; used for a frame's size prefix, which is written before the body.
    pub fn patch_i32(&mut self, position: usize, value: i32) {
        let bytes = value.to_be_bytes();
        let mut offset = 0;
        for chunk in self.chunks.iter_mut() {
            match chunk {
                Chunk::Owned(owned) if position < offset + owned.len() => {
                    owned[position - offset..position - offset + 4].copy_from_slice(&bytes);
                    return;
                }
                Chunk::Owned(owned) => offset += owned.len(),
                Chunk::Shared(shared) => offset += shared.len(),
            }
        }
        let at = position - offset;
        self.buf[at..at + 4].copy_from_slice(&bytes);
    }

    /// The encoded bytes as chunks ready for a vectored write, in order.
    pub fn into_chunks(mut self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.chunks.len() + 1);
        for chunk in self.chunks.drain(..) {
            match chunk {
                Chunk::Owned(owned) => out.push(owned.freeze()),
                Chunk::Shared(shared) => out.push(shared),
            }
        }
        if !self.buf.is_empty() {
            out.push(self.buf.freeze());
        }
        out
    }

    /// The encoded bytes in one buffer (copies shared chunks if there are any).
    pub fn into_bytes(self) -> Bytes {
        if self.chunks.is_empty() {
            return self.buf.freeze();
        }
        let total = self.len;
        let mut out = BytesMut::with_capacity(total);
        for chunk in self.into_chunks() {
            out.put_slice(&chunk);
        }
        out.freeze()
    }
}

impl Writer {
    /// Writes the unknown tagged fields (sorted by tag, as decoded) whose tag is below `below`,
    /// starting at `*next`; generated code calls it before each known tagged field so that all
    /// tags go out in ascending order, as the protocol requires.
    pub fn raw_tagged_fields(
        &mut self,
        fields: &[super::RawTaggedField],
        below: u64,
        next: &mut usize,
    ) {
        while let Some(field) = fields.get(*next) {
            if u64::from(field.tag) >= below {
                break;
            }
            self.uvarint(field.tag);
            self.uvarint(field.data.len() as u32);
            self.put_slice(&field.data);
            *next += 1;
        }
    }
}
