//! Primitive encoding of the Kafka protocol: the bounded [`Reader`], the chunked [`Writer`],
//! the [`Message`] trait every generated type implements, and the typed errors.
//!
//! Errors name the message, the version and the field (as `Struct.Field`), so a malformed
//! request can be logged and answered precisely without a debugger.

mod reader;
mod writer;

pub use reader::{Context, Reader};
pub use writer::{EncodeContext, Writer};

use bytes::Bytes;

/// A Kafka UUID (16 bytes, big-endian as on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    pub const ZERO: Uuid = Uuid([0; 16]);
}

/// A tagged field this code does not know, kept as raw bytes so that it is re-encoded unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawTaggedField {
    pub tag: u32,
    pub data: Bytes,
}

/// Why a decode failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("needs {needed} bytes, {remaining} remain")]
    Truncated { needed: usize, remaining: usize },
    #[error("count {count} cannot fit in the {remaining} bytes that remain")]
    CountExceedsFrame { count: usize, remaining: usize },
    #[error("negative length {0}")]
    NegativeLength(i32),
    #[error("null where the schema forbids it")]
    UnexpectedNull,
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("unsigned varint longer than 5 bytes")]
    VarintOverflow,
    #[error("{0} bytes left over")]
    TrailingBytes(usize),
    #[error("version not supported by this message")]
    UnsupportedVersion,
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
}

/// A decode failure, naming where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("decoding {message} v{version}, field {field}: {kind}")]
pub struct DecodeError {
    pub message: &'static str,
    pub version: i16,
    pub field: &'static str,
    pub kind: DecodeErrorKind,
}

/// Why an encode failed: the value cannot be represented at the requested version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeErrorKind {
    #[error("null is not allowed at this version")]
    NullNotAllowed,
    #[error("field has a non-default value but does not exist at this version")]
    FieldNotInVersion,
    #[error("length {0} is too long for its length prefix")]
    TooLong(usize),
    #[error("version not supported by this message")]
    UnsupportedVersion,
}

/// An encode failure, naming where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encoding {message} v{version}, field {field}: {kind}")]
pub struct EncodeError {
    pub message: &'static str,
    pub version: i16,
    pub field: &'static str,
    pub kind: EncodeErrorKind,
}

/// An inclusive range of versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRange {
    pub min: i16,
    pub max: i16,
}

impl VersionRange {
    pub const fn contains(&self, version: i16) -> bool {
        version >= self.min && version <= self.max
    }
}

/// A message or struct that can be read and written at any of its versions.
pub trait Message: Sized {
    /// The schema name, e.g. `ProduceRequest`.
    const NAME: &'static str;
    /// The versions this message is defined for.
    const VERSIONS: VersionRange;

    fn decode(reader: &mut Reader, version: i16) -> Result<Self, DecodeError>;
    fn encode(&self, writer: &mut Writer, version: i16) -> Result<(), EncodeError>;
    /// Exact size of `encode`'s output at `version` (for values `encode` accepts).
    fn encoded_len(&self, version: i16) -> usize;

    /// Decodes a whole buffer, which must be consumed exactly.
    fn decode_from(buf: Bytes, version: i16) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(buf, Self::NAME, version);
        let value = Self::decode(&mut reader, version)?;
        reader.expect_end(Self::NAME)?;
        Ok(value)
    }

    /// Encodes into one contiguous buffer (copying record chunks).
    fn encode_to_bytes(&self, version: i16) -> Result<Bytes, EncodeError> {
        let mut writer = Writer::with_capacity(self.encoded_len(version));
        self.encode(&mut writer, version)?;
        Ok(writer.into_bytes())
    }
}

/// Size of an unsigned varint.
#[inline]
pub const fn uvarint_len(value: u32) -> usize {
    match value {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0x0fff_ffff => 4,
        _ => 5,
    }
}

/// Size of a length prefix: compact (uvarint of len + 1, 0 for null) or classic.
#[inline]
pub const fn length_prefix_len(len: Option<usize>, compact: bool, short: bool) -> usize {
    if compact {
        match len {
            Some(n) => uvarint_len(n as u32 + 1),
            None => 1,
        }
    } else if short {
        2
    } else {
        4
    }
}

/// Size of the unknown tagged fields as encoded (tag, size, data each).
pub fn raw_tagged_fields_len(fields: &[RawTaggedField]) -> usize {
    fields
        .iter()
        .map(|f| uvarint_len(f.tag) + uvarint_len(f.data.len() as u32) + f.data.len())
        .sum()
}
