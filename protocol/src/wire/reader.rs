//! The bounded decoder every generated `decode` is written against.
//!
//! A `Reader` is a cursor over one frame's `Bytes`. Every read checks the remaining length
//! first, and every count or length read from the wire is checked against what the remaining
//! bytes could hold *before* anything is allocated: a 12-byte request cannot ask for 200 GB.
//! Byte-like fields (`bytes`, `records`, unknown tagged fields) are `Bytes` slices of the frame,
//! never copies.
//!
//! The reads on the records path (`uvarint`, `length`, `nullable_bytes`, `records`) are
//! `#[inline(always)]`: left out of line, each returns a 64-byte `Result` through the stack, and
//! that was ~30% of decoding a 100-partition ProduceRequest (bench `codec`).

use bytes::Bytes;

use super::{DecodeError, DecodeErrorKind, Uuid};

/// Decoding context carried by the reader so that errors name the message and version without
/// the generated code passing them to every call.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub message: &'static str,
    pub version: i16,
}

/// A bounded cursor over a frame. See the module docs.
pub struct Reader {
    buf: Bytes,
    pos: usize,
    context: Context,
}

impl Reader {
    pub fn new(buf: Bytes, message: &'static str, version: i16) -> Self {
        Reader {
            buf,
            pos: 0,
            context: Context { message, version },
        }
    }

    /// Bytes not yet consumed.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Position of the cursor from the start of the buffer.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn context(&self) -> Context {
        self.context
    }

    /// Changes the message and version named in errors (used after the request header has been
    /// read and the body's schema is known).
    pub fn set_context(&mut self, message: &'static str, version: i16) {
        self.context = Context { message, version };
    }

    /// The unconsumed rest of the buffer, without copying.
    pub fn rest(&self) -> Bytes {
        self.buf.slice(self.pos..)
    }

    pub fn error(&self, field: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            message: self.context.message,
            version: self.context.version,
            field,
            kind,
        }
    }

    #[inline]
    fn take(&mut self, len: usize, field: &'static str) -> Result<&[u8], DecodeError> {
        if len > self.remaining() {
            return Err(self.error(
                field,
                DecodeErrorKind::Truncated {
                    needed: len,
                    remaining: self.remaining(),
                },
            ));
        }
        let start = self.pos;
        self.pos += len;
        Ok(&self.buf[start..start + len])
    }

    #[inline]
    fn take_array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    #[inline]
    fn take_bytes(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        if len > self.remaining() {
            return Err(self.error(
                field,
                DecodeErrorKind::Truncated {
                    needed: len,
                    remaining: self.remaining(),
                },
            ));
        }
        let out = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(out)
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.take_array::<1>(field)?[0] != 0)
    }

    pub fn i8(&mut self, field: &'static str) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes(self.take_array(field)?))
    }

    pub fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.take_array(field)?))
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take_array(field)?))
    }

    pub fn i32(&mut self, field: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.take_array(field)?))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take_array(field)?))
    }

    pub fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take_array(field)?))
    }

    pub fn f64(&mut self, field: &'static str) -> Result<f64, DecodeError> {
        Ok(f64::from_be_bytes(self.take_array(field)?))
    }

    pub fn uuid(&mut self, field: &'static str) -> Result<Uuid, DecodeError> {
        Ok(Uuid(self.take_array(field)?))
    }

    /// Kafka's unsigned varint (at most 5 bytes for 32 bits).
    #[inline(always)]
    pub fn uvarint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let byte = self.take_array::<1>(field)?[0];
            if i == 4 && byte > 0x0f {
                return Err(self.error(field, DecodeErrorKind::VarintOverflow));
            }
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error(field, DecodeErrorKind::VarintOverflow))
    }

    /// Length of a string, bytes or array field: `Some(len)` or `None` for null. Compact forms
    /// store length + 1 as an unsigned varint; classic forms a signed int (16 bits for strings).
    #[inline(always)]
    fn length(
        &mut self,
        field: &'static str,
        compact: bool,
        short: bool,
    ) -> Result<Option<usize>, DecodeError> {
        if compact {
            return Ok(match self.uvarint(field)? {
                0 => None,
                n => Some(n as usize - 1),
            });
        }
        let len = if short {
            i32::from(self.i16(field)?)
        } else {
            self.i32(field)?
        };
        match len {
            -1 => Ok(None),
            n if n < 0 => Err(self.error(field, DecodeErrorKind::NegativeLength(n))),
            n => Ok(Some(n as usize)),
        }
    }

    fn require_non_null<T>(&self, value: Option<T>, field: &'static str) -> Result<T, DecodeError> {
        value.ok_or_else(|| self.error(field, DecodeErrorKind::UnexpectedNull))
    }

    /// Null is an error unless `nullable` (the field is nullable at this version).
    fn check_null<T>(
        &self,
        value: Option<T>,
        nullable: bool,
        field: &'static str,
    ) -> Result<Option<T>, DecodeError> {
        if value.is_none() && !nullable {
            return Err(self.error(field, DecodeErrorKind::UnexpectedNull));
        }
        Ok(value)
    }

    /// A string that may be null when `nullable` is true (it may be nullable at some versions
    /// of a field only).
    pub fn nullable_string(
        &mut self,
        field: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<Option<String>, DecodeError> {
        let len = self.length(field, compact, true)?;
        let Some(len) = self.check_null(len, nullable, field)? else {
            return Ok(None);
        };
        let raw = self.take(len, field)?;
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(Some(text.to_owned())),
            Err(_) => Err(self.error(field, DecodeErrorKind::InvalidUtf8)),
        }
    }

    pub fn string(&mut self, field: &'static str, compact: bool) -> Result<String, DecodeError> {
        let value = self.nullable_string(field, compact, false)?;
        self.require_non_null(value, field)
    }

    #[inline(always)]
    pub fn nullable_bytes(
        &mut self,
        field: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<Option<Bytes>, DecodeError> {
        let len = self.length(field, compact, false)?;
        match self.check_null(len, nullable, field)? {
            None => Ok(None),
            Some(len) => self.take_bytes(len, field).map(Some),
        }
    }

    pub fn bytes(&mut self, field: &'static str, compact: bool) -> Result<Bytes, DecodeError> {
        let value = self.nullable_bytes(field, compact, false)?;
        self.require_non_null(value, field)
    }

    /// Record data is carried as a zero-copy slice of the frame, exactly like `bytes`.
    #[inline(always)]
    pub fn records(
        &mut self,
        field: &'static str,
        compact: bool,
        nullable: bool,
    ) -> Result<Option<Bytes>, DecodeError> {
        self.nullable_bytes(field, compact, nullable)
    }

    /// Element count of an array, or `None` for a null array. `min_element_bytes` is the least
    /// an element of this type can occupy at this version (computed by the generator); a count
    /// the remaining bytes could not hold is rejected before anything is allocated.
    pub fn nullable_array_len(
        &mut self,
        field: &'static str,
        compact: bool,
        nullable: bool,
        min_element_bytes: usize,
    ) -> Result<Option<usize>, DecodeError> {
        let count = self.length(field, compact, false)?;
        let Some(count) = self.check_null(count, nullable, field)? else {
            return Ok(None);
        };
        let needed = count.saturating_mul(min_element_bytes.max(1));
        if needed > self.remaining() {
            return Err(self.error(
                field,
                DecodeErrorKind::CountExceedsFrame {
                    count,
                    remaining: self.remaining(),
                },
            ));
        }
        Ok(Some(count))
    }

    pub fn array_len(
        &mut self,
        field: &'static str,
        compact: bool,
        min_element_bytes: usize,
    ) -> Result<usize, DecodeError> {
        let value = self.nullable_array_len(field, compact, false, min_element_bytes)?;
        self.require_non_null(value, field)
    }

    /// Number of tagged fields that follow; each takes at least two bytes (tag and size).
    pub fn tagged_field_count(&mut self, field: &'static str) -> Result<usize, DecodeError> {
        let count = self.uvarint(field)? as usize;
        if count.saturating_mul(2) > self.remaining() {
            return Err(self.error(
                field,
                DecodeErrorKind::CountExceedsFrame {
                    count,
                    remaining: self.remaining(),
                },
            ));
        }
        Ok(count)
    }

    /// Reads one tagged field's tag and returns a reader over exactly its payload.
    pub fn tagged_field(&mut self, field: &'static str) -> Result<(u32, Reader), DecodeError> {
        let tag = self.uvarint(field)?;
        let size = self.uvarint(field)? as usize;
        let payload = self.take_bytes(size, field)?;
        Ok((
            tag,
            Reader {
                buf: payload,
                pos: 0,
                context: self.context,
            },
        ))
    }

    /// A known tagged field must be consumed exactly by its decoder.
    pub fn expect_end(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(self.error(field, DecodeErrorKind::TrailingBytes(extra))),
        }
    }
}
