//! Length-prefixed frames: a 4-byte big-endian size, then that many bytes.
//!
//! [`split_frame`] takes whole frames off the front of a connection's read buffer without
//! copying them. A size above the configured maximum (Kafka's `socket.request.max.bytes`) or a
//! negative size is an error before anything is allocated: the caller logs it and closes the
//! connection, as Kafka does, since the stream can no longer be trusted.

use bytes::{Bytes, BytesMut};

/// Size of the length prefix.
pub const FRAME_PREFIX_BYTES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("negative frame size {0}")]
    NegativeSize(i32),
}

/// If `buf` starts with a whole frame, removes it and returns its body (without the prefix).
/// `Ok(None)` means more bytes are needed; the caller can reserve [`frame_bytes_needed`].
pub fn split_frame(
    buf: &mut BytesMut,
    frame_bytes_max: usize,
) -> Result<Option<Bytes>, FrameError> {
    let Some(size) = frame_size(buf, frame_bytes_max)? else {
        return Ok(None);
    };
    if buf.len() < FRAME_PREFIX_BYTES + size {
        return Ok(None);
    }
    let mut frame = buf.split_to(FRAME_PREFIX_BYTES + size);
    let _prefix = frame.split_to(FRAME_PREFIX_BYTES);
    Ok(Some(frame.freeze()))
}

/// Total bytes (prefix included) the frame at the front of `buf` needs, once its prefix has
/// arrived; lets a reader size one read instead of many small ones.
pub fn frame_bytes_needed(buf: &[u8], frame_bytes_max: usize) -> Result<Option<usize>, FrameError> {
    Ok(frame_size(buf, frame_bytes_max)?.map(|size| FRAME_PREFIX_BYTES + size))
}

fn frame_size(buf: &[u8], frame_bytes_max: usize) -> Result<Option<usize>, FrameError> {
    let Some(prefix) = buf.get(..FRAME_PREFIX_BYTES) else {
        return Ok(None);
    };
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if size < 0 {
        return Err(FrameError::NegativeSize(size));
    }
    let size = size as usize;
    if size > frame_bytes_max {
        return Err(FrameError::TooLarge {
            size,
            max: frame_bytes_max,
        });
    }
    Ok(Some(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_whole_frames_and_waits_for_partial_ones() {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 2, b'x']);
        assert_eq!(
            split_frame(&mut buf, 100).unwrap().unwrap(),
            Bytes::from_static(b"abc")
        );
        assert_eq!(frame_bytes_needed(&buf, 100).unwrap(), Some(6));
        assert_eq!(split_frame(&mut buf, 100).unwrap(), None);
        buf.extend_from_slice(b"y");
        assert_eq!(
            split_frame(&mut buf, 100).unwrap().unwrap(),
            Bytes::from_static(b"xy")
        );
        assert!(buf.is_empty());
        assert_eq!(split_frame(&mut buf, 100).unwrap(), None);
    }

    #[test]
    fn rejects_oversized_and_negative_sizes_before_allocating() {
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            split_frame(&mut buf, 1024),
            Err(FrameError::TooLarge {
                size: i32::MAX as usize,
                max: 1024
            })
        );
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert_eq!(
            split_frame(&mut buf, 1024),
            Err(FrameError::NegativeSize(-2))
        );
    }

    #[test]
    fn an_empty_frame_is_a_frame() {
        let mut buf = BytesMut::from(&[0, 0, 0, 0][..]);
        assert_eq!(split_frame(&mut buf, 10).unwrap().unwrap().len(), 0);
    }
}
