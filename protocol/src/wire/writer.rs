//! The encoder every generated `encode` is written against.
//!
//! Fixed fields are appended to an owned buffer; record data at or above
//! [`ZERO_COPY_RECORDS_MIN_BYTES`](crate::limits::ZERO_COPY_RECORDS_MIN_BYTES) is not copied but
//! appended as its own chunk, so a Fetch response made of segment bytes goes to the socket as a
//! vectored write of the original `Bytes`.
//!
//! All owned bytes go to one growing buffer, and each shared chunk remembers where in it it was
//! inserted; the owned runs between shared chunks are cut out only at the end. Splitting the
//! buffer at every shared chunk instead cost an allocation or two per partition of a Fetch
//! response, more than half of its encode time (bench `codec`).

use bytes::{BufMut, Bytes, BytesMut};

use super::{EncodeError, EncodeErrorKind, Uuid};
use crate::limits::ZERO_COPY_RECORDS_MIN_BYTES;

/// Encoding context: which message and version errors are about.
#[derive(Debug, Clone, Copy)]
pub struct EncodeContext {
    pub message: &'static str,
    pub version: i16,
}

/// An output of owned bytes interleaved with shared record chunks. See the module docs.
pub struct Writer {
    /// Every owned byte of the output, in order.
    buf: BytesMut,
    /// Each shared chunk, with the length `buf` had when it was pushed: it goes out between
    /// `buf[..at]` and `buf[at..]`. Ascending in `at`.
    shared: Vec<(usize, Bytes)>,
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
            shared: Vec::new(),
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
        self.len += bytes.len();
        self.shared.push((self.buf.len(), bytes));
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
    /// The four bytes must have been written as owned bytes, not be part of a shared chunk.
    pub fn patch_i32(&mut self, position: usize, value: i32) {
        // Output position = position in `buf` + the shared bytes that go out before it.
        let mut shared_before = 0;
        for (at, bytes) in &self.shared {
            if position < at + shared_before {
                break;
            }
            assert!(
                position >= at + shared_before + bytes.len(),
                "patch_i32 into a shared chunk"
            );
            shared_before += bytes.len();
        }
        let at = position - shared_before;
        self.buf[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    /// The encoded bytes as chunks ready for a vectored write, in order.
    pub fn into_chunks(self) -> Vec<Bytes> {
        let owned = self.buf.freeze();
        let mut out = Vec::with_capacity(2 * self.shared.len() + 1);
        let mut start = 0;
        for (at, bytes) in self.shared {
            if at > start {
                out.push(owned.slice(start..at));
                start = at;
            }
            out.push(bytes);
        }
        if owned.len() > start {
            out.push(owned.slice(start..));
        }
        out
    }

    /// The encoded bytes in one buffer (copies shared chunks if there are any).
    pub fn into_bytes(self) -> Bytes {
        if self.shared.is_empty() {
            return self.buf.freeze();
        }
        let mut out = BytesMut::with_capacity(self.len);
        let mut start = 0;
        for (at, bytes) in &self.shared {
            out.put_slice(&self.buf[start..*at]);
            out.put_slice(bytes);
            start = *at;
        }
        out.put_slice(&self.buf[start..]);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Owned runs and shared chunks come out in write order, the shared ones without a copy,
    /// and a patch lands on the owned byte it names even after shared chunks.
    #[test]
    fn owned_and_shared_bytes_interleave_in_order() {
        let first = Bytes::from(vec![0xaa; 600]);
        let second = Bytes::from(vec![0xbb; 700]);
        let mut writer = Writer::new();
        writer.i32(0);
        writer.push_shared(first.clone());
        writer.push_shared(second.clone());
        writer.i16(7);
        writer.i32(0);
        writer.patch_i32(0, 1);
        writer.patch_i32(4 + 600 + 700 + 2, 2);
        assert_eq!(writer.len(), 4 + 600 + 700 + 2 + 4);

        let mut expected = vec![0, 0, 0, 1];
        expected.extend_from_slice(&first);
        expected.extend_from_slice(&second);
        expected.extend_from_slice(&[0, 7, 0, 0, 0, 2]);
        let contiguous = {
            let mut copy = Writer::new();
            copy.i32(1);
            copy.push_shared(first.clone());
            copy.push_shared(second.clone());
            copy.i16(7);
            copy.i32(2);
            copy.into_bytes()
        };
        assert_eq!(&contiguous[..], &expected[..]);

        let chunks = writer.into_chunks();
        assert_eq!(chunks.len(), 4);
        assert_eq!(chunks[1].as_ptr(), first.as_ptr());
        assert_eq!(chunks[2].as_ptr(), second.as_ptr());
        assert_eq!(chunks.concat(), expected);
    }

    #[test]
    fn without_shared_chunks_the_output_is_one_buffer() {
        let mut writer = Writer::new();
        writer.i32(5);
        writer.patch_i32(0, 6);
        let chunks = writer.into_chunks();
        assert_eq!(chunks, vec![Bytes::from_static(&[0, 0, 0, 6])]);
    }
}
