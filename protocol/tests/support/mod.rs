//! Golden bytes for the generated codecs, written by hand from Apache Kafka's JSON message specs
//! (`shared/kafka-message-specs/`), never produced by an encoder.
//!
//! Shared by the `golden_*.rs` files, one per API. Each test builds a message, then checks that
//! `encode` writes exactly the listed bytes, that `decode` of those bytes gives the message back,
//! and that `encoded_len` is the byte count. Every message is tested at one classic
//! (non-flexible) version and one flexible version.
//!
//! Reminders for reading the listings:
//! - classic: string = i16 length + UTF-8 (null = -1); bytes, records and arrays = i32 length
//!   (null = -1).
//! - flexible: compact string, bytes, records and arrays = uvarint(length + 1) (0 = null), and
//!   every struct (the message, each array element, each struct field) ends with a tagged-field
//!   section: uvarint count, then per field uvarint tag, uvarint size, data, in ascending tag
//!   order. A known tagged field is written only when it differs from its default.
#![allow(dead_code)]

use bytes::Bytes;
use pinlog_protocol::wire::{Message, RawTaggedField, Writer};
use std::fmt::Debug;

/// Checks the three properties of a golden message at `version`.
pub fn golden<M: Message + PartialEq + Debug>(value: &M, version: i16, expected: &[u8]) {
    let mut writer = Writer::new();
    value
        .encode(&mut writer, version)
        .unwrap_or_else(|e| panic!("{} v{version}: encode failed: {e}", M::NAME));
    let encoded = writer.into_bytes();
    if encoded[..] != expected[..] {
        let at = encoded
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(encoded.len().min(expected.len()));
        panic!(
            "{} v{version}: encoded bytes differ first at offset {at}\n  expected ({} bytes): {}\n  actual   ({} bytes): {}",
            M::NAME,
            expected.len(),
            hex(expected),
            encoded.len(),
            hex(&encoded),
        );
    }

    let decoded = M::decode_from(Bytes::copy_from_slice(expected), version)
        .unwrap_or_else(|e| panic!("{} v{version}: decode failed: {e}", M::NAME));
    assert_eq!(
        &decoded,
        value,
        "{} v{version}: decode gave a different value",
        M::NAME
    );

    assert_eq!(
        value.encoded_len(version),
        expected.len(),
        "{} v{version}: encoded_len",
        M::NAME
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An opaque records payload: the codec carries records as bytes and never looks inside.
pub const RECORDS: [u8; 4] = [0xde, 0xad, 0xbe, 0xef];

pub const TOPIC_ID_A: [u8; 16] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
];
pub const TOPIC_ID_B: [u8; 16] = [0xab; 16];

pub fn unknown(tag: u32, data: &[u8]) -> RawTaggedField {
    RawTaggedField {
        tag,
        data: Bytes::copy_from_slice(data),
    }
}
