//! How consumed records are printed.
//!
//! - text: the value's bytes as they are, one record per line, after what was asked for, in
//!   this order, each followed by a tab: `--print-offset` `PARTITION:OFFSET`,
//!   `--print-timestamp` the timestamp (milliseconds since the epoch), `--print-headers`
//!   `key:value` pairs separated by commas (`NO_HEADERS` when there are none, as
//!   kafka-console-consumer prints), `--print-key` the key (empty when null). A null value
//!   prints as an empty line.
//! - json: one object per line, `{"topic", "partition", "offset", "timestamp", "key", "value",
//!   "headers": [{"key", "value"}]}`. Bytes (keys, values, header keys and values) are a JSON
//!   string when they are valid UTF-8, `{"base64": "..."}` (standard alphabet, padded) when
//!   they are not, and `null` when null: text stays readable and binary survives the round
//!   trip, with no guessing on the reader's side.

use std::io::Write;

use bytes::Bytes;
use pinlog_protocol::records::Record;
use serde_json::{json, Value};

/// Output format of `pinlog consume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What text lines show besides the value.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub print_key: bool,
    pub print_offset: bool,
    pub print_timestamp: bool,
    pub print_headers: bool,
}

/// Writes `record` of `topic`/`partition` in `format`.
pub fn write_record(
    out: &mut impl Write,
    format: Format,
    text: TextOptions,
    topic: &str,
    partition: i32,
    record: &Record,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let headers: Vec<Value> = record
                .headers
                .iter()
                .map(|h| json!({ "key": bytes_json(Some(&h.key)), "value": bytes_json(h.value.as_ref()) }))
                .collect();
            let object = json!({
                "topic": topic,
                "partition": partition,
                "offset": record.offset,
                "timestamp": record.timestamp,
                "key": bytes_json(record.key.as_ref()),
                "value": bytes_json(record.value.as_ref()),
                "headers": headers,
            });
            writeln!(out, "{object}")
        }
        Format::Text => {
            if text.print_offset {
                write!(out, "{partition}:{}\t", record.offset)?;
            }
            if text.print_timestamp {
                write!(out, "{}\t", record.timestamp)?;
            }
            if text.print_headers {
                if record.headers.is_empty() {
                    out.write_all(b"NO_HEADERS")?;
                }
                for (index, header) in record.headers.iter().enumerate() {
                    if index > 0 {
                        out.write_all(b",")?;
                    }
                    out.write_all(&header.key)?;
                    out.write_all(b":")?;
                    out.write_all(header.value.as_deref().unwrap_or_default())?;
                }
                out.write_all(b"\t")?;
            }
            if text.print_key {
                out.write_all(record.key.as_deref().unwrap_or_default())?;
                out.write_all(b"\t")?;
            }
            out.write_all(record.value.as_deref().unwrap_or_default())?;
            out.write_all(b"\n")
        }
    }
}

/// Bytes as JSON: see the module docs.
pub fn bytes_json(bytes: Option<&Bytes>) -> Value {
    match bytes {
        None => Value::Null,
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => json!({ "base64": base64(bytes) }),
        },
    }
}

/// Standard base64 (RFC 4648 alphabet, `=` padding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let triple = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for (index, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((triple >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn bytes_are_text_when_they_can_be() {
        assert_eq!(bytes_json(None), Value::Null);
        assert_eq!(bytes_json(Some(&Bytes::from_static(b"hi"))), json!("hi"));
        assert_eq!(
            bytes_json(Some(&Bytes::from_static(&[0xff]))),
            json!({ "base64": "/w==" })
        );
    }
}
