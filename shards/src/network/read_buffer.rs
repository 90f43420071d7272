//! A connection's read buffer: bytes read from the socket, with whole request frames split
//! off its front as `Bytes` (which the batch cache may keep).
//!
//! A read needs an initialised `&mut [u8]`. Zero-filling the space before every read cost
//! more than a tenth of a shard's time under produce load: a frame of a few MiB arrives in
//! many reads, and each zeroed the whole rest of the frame again. Here each byte of the
//! buffer is zeroed at most once: the buffer remembers how much initialised space lies past
//! its data, as long as that data has not moved.

use bytes::{Bytes, BytesMut};
use pinlog_protocol::frame::{frame_bytes_needed, split_frame, FrameError, FRAME_PREFIX_BYTES};

pub struct ReadBuffer {
    data: BytesMut,
    /// Bytes past the end of `data` known to be initialised (zeroed or read into)...
    spare_initialised: usize,
    /// ...valid only while the end of `data` is still at this address: a reallocation
    /// or a move of the data inside its allocation invalidates it.
    spare_at: usize,
    /// Bytes the last `spare` offered (appended to `data` until `commit`).
    offered: usize,
}

impl ReadBuffer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            data: BytesMut::with_capacity(capacity),
            spare_initialised: 0,
            spare_at: 0,
            offered: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next whole frame, if it has arrived. Splitting leaves the end of the data, and so
    /// the initialised space after it, where it was.
    pub fn split_frame(&mut self, frame_bytes_max: usize) -> Result<Option<Bytes>, FrameError> {
        split_frame(&mut self.data, frame_bytes_max)
    }

    /// How many more bytes to read: the rest of the frame at the front when its prefix has
    /// arrived (one read sized for it rather than many small ones), at least `min_bytes`.
    pub fn bytes_wanted(
        &self,
        frame_bytes_max: usize,
        min_bytes: usize,
    ) -> Result<usize, FrameError> {
        let needed = frame_bytes_needed(&self.data, frame_bytes_max)?.unwrap_or(FRAME_PREFIX_BYTES);
        Ok(needed.saturating_sub(self.data.len()).max(min_bytes))
    }

    /// `want` bytes of writable space after the data, for one read; `commit` then keeps the
    /// bytes the read filled.
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        let start = self.data.len();
        self.data.reserve(want);
        let end_address = self.data.as_ptr() as usize + start;
        let known = if end_address == self.spare_at {
            self.spare_initialised.min(self.data.capacity() - start)
        } else {
            0
        };
        // SAFETY: `known` bytes past the data's end were initialised by an earlier `spare`
        // (zero-filled by `resize` or written by a read) in this same allocation at this same
        // address: the end address is unchanged, and neither `truncate` nor `split_to` (the
        // only changes since) touches bytes past the end. `reserve` keeps the bytes of an
        // allocation it grows in place, and any move changes the address.
        unsafe { self.data.set_len(start + known.min(want)) };
        self.data.resize(start + want, 0);
        self.spare_initialised = known.max(want);
        self.spare_at = end_address;
        self.offered = want;
        &mut self.data[start..]
    }

    /// Keeps `read` of the bytes just offered by `spare`: the rest stays initialised spare.
    pub fn commit(&mut self, read: usize) {
        let read = read.min(self.offered);
        let start = self.data.len() - self.offered;
        self.data.truncate(start + read);
        self.spare_initialised -= read;
        self.spare_at = self.data.as_ptr() as usize + self.data.len();
        self.offered = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut bytes = (payload.len() as i32).to_be_bytes().to_vec();
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Feeds `input` through the buffer `chunk` bytes per read, as a socket would.
    fn read_frames(input: &[u8], chunk: usize, min_bytes: usize) -> Vec<Bytes> {
        let mut buffer = ReadBuffer::with_capacity(min_bytes);
        let mut frames = Vec::new();
        let mut position = 0;
        loop {
            while let Some(frame) = buffer.split_frame(1 << 20).unwrap() {
                frames.push(frame);
            }
            if position == input.len() {
                assert!(buffer.is_empty(), "no partial frame left over");
                return frames;
            }
            let want = buffer.bytes_wanted(1 << 20, min_bytes).unwrap();
            let space = buffer.spare(want);
            let read = chunk.min(space.len()).min(input.len() - position);
            space[..read].copy_from_slice(&input[position..position + read]);
            position += read;
            buffer.commit(read);
        }
    }

    #[test]
    fn frames_come_out_whole_whatever_the_read_sizes() {
        let payloads: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![i; 1 + (i as usize * 997) % 5000])
            .collect();
        let input: Vec<u8> = payloads.iter().flat_map(|p| frame(p)).collect();
        for chunk in [1, 3, 64, 1000, 4096, 1 << 20] {
            for min_bytes in [4, 16, 4096] {
                let frames = read_frames(&input, chunk, min_bytes);
                assert_eq!(
                    frames.len(),
                    payloads.len(),
                    "chunk {chunk} min {min_bytes}"
                );
                for (got, want) in frames.iter().zip(&payloads) {
                    assert_eq!(&got[..], &want[..], "chunk {chunk} min {min_bytes}");
                }
            }
        }
    }

    #[test]
    fn reused_spare_space_is_not_zeroed_again_and_not_served_stale() {
        let mut buffer = ReadBuffer::with_capacity(64);
        let space = buffer.spare(64);
        space[..8].copy_from_slice(&frame(b"abcd"));
        space[8..12].copy_from_slice(&[0xEE; 4]); // read, but not kept
        buffer.commit(8);
        assert_eq!(buffer.len(), 8);
        // The next read is offered the same bytes: stale content is there, but only what
        // the next commit keeps becomes data.
        let space = buffer.spare(56);
        assert_eq!(&space[..4], &[0xEE; 4]);
        buffer.commit(0);
        assert_eq!(buffer.len(), 8);
        assert_eq!(&buffer.split_frame(64).unwrap().unwrap()[..], b"abcd");
        assert!(buffer.is_empty());
    }

    #[test]
    fn lying_prefixes_are_errors() {
        let mut buffer = ReadBuffer::with_capacity(16);
        let space = buffer.spare(4);
        space.copy_from_slice(&(-1i32).to_be_bytes());
        buffer.commit(4);
        assert!(buffer.split_frame(1024).is_err());
        assert!(buffer.bytes_wanted(1024, 16).is_err());
        let mut buffer = ReadBuffer::with_capacity(16);
        buffer.spare(4).copy_from_slice(&4096i32.to_be_bytes());
        buffer.commit(4);
        assert!(buffer.split_frame(1024).is_err());
    }
}
