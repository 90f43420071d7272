//! The frame splitter against a model, under arbitrary chunkings of the stream.
//!
//! Input: a byte choosing `frame_bytes_max`, two bytes choosing how the stream is cut into
//! reads, then the stream. The stream is fed to a `BytesMut` one read at a time, taking every
//! whole frame after each read, as a connection does. Whatever the cuts, the frames taken, the
//! error that ends the stream (if any, and where) and the bytes left over must be those of a
//! one-pass model of the format; an error must leave the offending prefix unconsumed, and
//! `frame_bytes_needed` must ask for more than is buffered while a frame is incomplete.

use bytes::BytesMut;
use pinlog_protocol::frame::{frame_bytes_needed, split_frame, FrameError, FRAME_PREFIX_BYTES};
use pinlog_protocol::limits::FRAME_BYTES_MAX_DEFAULT;

/// Control bytes before the stream: limit selector, chunking seed, largest read.
pub const FRAME_CONTROL_BYTES: usize = 3;

pub fn check_frame(data: &[u8]) {
    let Some((control, stream)) = data.split_first_chunk::<FRAME_CONTROL_BYTES>() else {
        return;
    };
    let frame_bytes_max = frame_bytes_max(control[0]);
    let mut reads = Reads::new(control[1], control[2]);
    let expected = Model::parse(stream, frame_bytes_max);

    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0;
    let error = loop {
        match split_frame(&mut buf, frame_bytes_max) {
            Ok(Some(frame)) => {
                assert!(frame.len() <= frame_bytes_max, "frame above the limit");
                frames.push(frame);
            }
            Err(error) => break Some(error),
            Ok(None) => {
                check_needed(&buf, frame_bytes_max);
                if fed == stream.len() {
                    break None;
                }
                let read = reads.next_len().min(stream.len() - fed);
                buf.extend_from_slice(&stream[fed..fed + read]);
                fed += read;
            }
        }
    };

    assert_eq!(frames.len(), expected.frames.len(), "frame count");
    for (frame, model) in frames.iter().zip(&expected.frames) {
        assert_eq!(&frame[..], *model, "frame bytes");
    }
    match (error, expected.error) {
        (None, None) => assert_eq!(&buf[..], expected.rest, "bytes left over"),
        (Some(error), Some(model)) => {
            assert_eq!(error, model, "error");
            // The failed frame's prefix is still at the front: nothing was consumed.
            let prefix = expected.rest.get(..FRAME_PREFIX_BYTES);
            assert_eq!(
                buf.get(..FRAME_PREFIX_BYTES),
                prefix,
                "error consumed bytes"
            );
        }
        (error, model) => panic!("split_frame ended with {error:?}, the model with {model:?}"),
    }
}

/// Small limits (so that `TooLarge` is easy to reach), powers of two, and Kafka's default.
fn frame_bytes_max(selector: u8) -> usize {
    match selector {
        0..=191 => usize::from(selector),
        192..=254 => 1 << (selector - 192).min(31),
        255 => FRAME_BYTES_MAX_DEFAULT,
    }
}

/// While no whole frame is buffered, the bytes needed (once the prefix is in) exceed what is
/// buffered, and agree with the prefix.
fn check_needed(buf: &[u8], frame_bytes_max: usize) {
    match frame_bytes_needed(buf, frame_bytes_max) {
        Ok(Some(needed)) => {
            assert!(buf.len() >= FRAME_PREFIX_BYTES, "needed without a prefix");
            assert!(
                needed > buf.len(),
                "a whole frame is buffered but was not split"
            );
        }
        Ok(None) => assert!(
            buf.len() < FRAME_PREFIX_BYTES,
            "prefix present but not read"
        ),
        Err(error) => panic!("split_frame returned None but frame_bytes_needed failed: {error}"),
    }
}

/// Read sizes from 1 to `read_bytes_max`, from a xorshift seeded by the input.
struct Reads {
    state: u32,
    read_bytes_max: usize,
}

impl Reads {
    fn new(seed: u8, read_bytes_max: u8) -> Self {
        Reads {
            state: 0x9e37_79b9 ^ u32::from(seed),
            // 255 means "whole stream at once".
            read_bytes_max: match read_bytes_max {
                255 => usize::MAX,
                n => usize::from(n % 64) + 1,
            },
        }
    }

    fn next_len(&mut self) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        if self.read_bytes_max == usize::MAX {
            return usize::MAX;
        }
        self.state as usize % self.read_bytes_max + 1
    }
}

/// The format in one pass over the whole stream.
struct Model<'a> {
    frames: Vec<&'a [u8]>,
    error: Option<FrameError>,
    /// What follows the last whole frame.
    rest: &'a [u8],
}

impl<'a> Model<'a> {
    fn parse(stream: &'a [u8], frame_bytes_max: usize) -> Self {
        let mut frames = Vec::new();
        let mut rest = stream;
        loop {
            let Some((prefix, body)) = rest.split_first_chunk::<4>() else {
                return Model {
                    frames,
                    error: None,
                    rest,
                };
            };
            let size = i32::from_be_bytes(*prefix);
            let error = if size < 0 {
                Some(FrameError::NegativeSize(size))
            } else if size as usize > frame_bytes_max {
                Some(FrameError::TooLarge {
                    size: size as usize,
                    max: frame_bytes_max,
                })
            } else {
                None
            };
            if error.is_some() {
                return Model {
                    frames,
                    error,
                    rest,
                };
            }
            let Some((frame, next)) = body.split_at_checked(size as usize) else {
                return Model {
                    frames,
                    error: None,
                    rest,
                };
            };
            frames.push(frame);
            rest = next;
        }
    }
}
