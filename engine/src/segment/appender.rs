//! The DMA appender: an aligned write-behind buffer over the tail of a segment file.
//!
//! The buffer is a window of the file starting at a page boundary. Appends copy bytes into it;
//! when it is full it is sealed and queued for writing as it is (page-aligned at both ends, so
//! it overlaps no other write). A flush seals a partly filled window: its last partial page is
//! zero-padded for the write and copied (at most one page) to the start of the next window, so
//! the next write rewrites that page with more data. Two writes that share a page must not be
//! in flight together; [`PendingWrite::ends_on_page_boundary`] tells the flusher which writes
//! may overlap in time.
//!
//! Only one task appends to a log at a time (the log serialises appends), and the flusher
//! consumes [`PendingWrite`]s in order.

use std::collections::VecDeque;

use crate::io::{AlignedBuffer, SegmentFile};
use crate::limits::{APPEND_BUFFER_BYTES, PAGE_BYTES};

/// A sealed window waiting to be written.
pub struct PendingWrite {
    pub buffer: AlignedBuffer,
    /// File position of the buffer's first byte (page-aligned).
    pub position: u64,
    /// File position just past the last data byte in the buffer (before padding).
    pub data_end: u64,
}

impl PendingWrite {
    pub fn ends_on_page_boundary(&self) -> bool {
        self.data_end.is_multiple_of(PAGE_BYTES as u64)
    }
}

pub struct Appender {
    window: AlignedBuffer,
    /// File position of `window[0]`.
    window_position: u64,
    /// Bytes of data in the window, carried tail included.
    window_len: usize,
    /// Bytes at the start of the window that were already queued for writing (the carried
    /// partial page); a flush with nothing beyond them has nothing to write.
    carried_len: usize,
    sealed: VecDeque<PendingWrite>,
}

impl Appender {
    /// An appender whose data ends at `data_end`; `tail` holds the bytes of the partial page
    /// before it (`data_end % PAGE_BYTES` bytes, read back from the file on open).
    pub fn new(file: &SegmentFile, data_end: u64, tail: &[u8]) -> Appender {
        let carried = (data_end % PAGE_BYTES as u64) as usize;
        assert_eq!(
            tail.len(),
            carried,
            "tail must be the partial page before data_end"
        );
        let mut window = file.alloc_buffer(APPEND_BUFFER_BYTES);
        window.as_bytes_mut()[..carried].copy_from_slice(tail);
        Appender {
            window,
            window_position: data_end - carried as u64,
            window_len: carried,
            carried_len: carried,
            sealed: VecDeque::new(),
        }
    }

    /// File position just past the last appended byte.
    pub fn data_end(&self) -> u64 {
        self.window_position + self.window_len as u64
    }

    /// Copies `bytes` in at the end of the data, sealing windows that fill up. Returns the file
    /// position where they start.
    pub fn append(&mut self, file: &SegmentFile, bytes: &[u8]) -> u64 {
        let start = self.data_end();
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = self.window.len() - self.window_len;
            let take = room.min(rest.len());
            self.window.as_bytes_mut()[self.window_len..self.window_len + take]
                .copy_from_slice(&rest[..take]);
            self.window_len += take;
            rest = &rest[take..];
            if self.window_len == self.window.len() {
                self.seal(file);
            }
        }
        start
    }

    /// Seals the window if it holds data not yet queued; the flusher then writes everything
    /// appended so far.
    pub fn flush(&mut self, file: &SegmentFile) {
        if self.window_len > self.carried_len {
            self.seal(file);
        }
    }

    /// The sealed writes, oldest first.
    pub fn take_sealed(&mut self) -> VecDeque<PendingWrite> {
        std::mem::take(&mut self.sealed)
    }

    pub fn has_unsealed_data(&self) -> bool {
        self.window_len > self.carried_len
    }

    fn seal(&mut self, file: &SegmentFile) {
        let tail_len = self.window_len % PAGE_BYTES;
        let write_len = self.window_len + (PAGE_BYTES - tail_len) % PAGE_BYTES;
        let mut next = file.alloc_buffer(APPEND_BUFFER_BYTES);
        let tail_start = self.window_len - tail_len;
        next.as_bytes_mut()[..tail_len]
            .copy_from_slice(&self.window.as_bytes()[tail_start..self.window_len]);
        let mut sealed = std::mem::replace(&mut self.window, next);
        // Zero padding, so recovery reads zeros (the end of the log) after the last batch.
        sealed.as_bytes_mut()[self.window_len..write_len].fill(0);
        sealed.truncate(write_len);
        let data_end = self.window_position + self.window_len as u64;
        self.sealed.push_back(PendingWrite {
            buffer: sealed,
            position: self.window_position,
            data_end,
        });
        self.window_position += tail_start as u64;
        self.window_len = tail_len;
        self.carried_len = tail_len;
    }
}
