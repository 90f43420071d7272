//! Lines of input, read on their own thread so that the sender can flush a partial batch when
//! input pauses (an operator typing, a slow pipe) instead of waiting for the batch to fill.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use super::ProduceError;

/// Longest line accepted (the newline excluded): 1 MiB, about Kafka's default
/// `max.message.bytes` (1 MiB + 12), which a longer record cannot fit once framed in a batch.
/// It is refused before it is buffered whole. (A line just under it may still be refused by
/// the broker for the batch's framing; the bound is about memory, not an exact fit.)
pub const LINE_BYTES_MAX: usize = 1024 * 1024;
/// Bytes of lines read ahead of the sender; bounds memory when the broker is slower than the
/// input.
const QUEUED_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Lines read ahead of the sender, however short (an empty line still costs a `Vec`).
const LINES_QUEUED_MAX: usize = 1024;

const _: () = assert!(LINE_BYTES_MAX <= QUEUED_BYTES_MAX);

/// One line without its `\n` (a `\r` before it is kept: the bytes are the record's), numbered
/// from 1 for error messages; or why reading stopped.
pub type Line = Result<(u64, Vec<u8>), ProduceError>;

/// The lines read ahead, bounded by [`LINES_QUEUED_MAX`] and [`QUEUED_BYTES_MAX`].
pub struct Lines {
    receiver: Receiver<Line>,
    queued: Arc<QueuedBytes>,
}

impl Lines {
    /// The next line, as [`Receiver::recv_timeout`]; disconnected at the end of input.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Line, RecvTimeoutError> {
        let line = self.receiver.recv_timeout(timeout)?;
        if let Ok((_, bytes)) = &line {
            self.queued.release(bytes.len());
        }
        Ok(line)
    }
}

/// Starts reading `path` (stdin when `None`) on a thread; the lines disconnect at the end of
/// input, after an error if there was one.
pub fn spawn_reader(path: Option<PathBuf>) -> Result<Lines, ProduceError> {
    let source: Box<dyn Read + Send> = match &path {
        Some(path) => Box::new(File::open(path).map_err(|source| ProduceError::Input {
            source_name: path.display().to_string(),
            source,
        })?),
        None => Box::new(std::io::stdin()),
    };
    let source_name = path.map_or_else(|| "stdin".to_string(), |p| p.display().to_string());
    let (sender, receiver) = sync_channel(LINES_QUEUED_MAX);
    let queued = Arc::new(QueuedBytes::default());
    let reader_queued = Arc::clone(&queued);
    thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut number = 0u64;
        loop {
            number += 1;
            match read_line(&mut reader, number, &source_name) {
                Ok(Some(line)) => {
                    reader_queued.acquire(line.len());
                    if sender.send(Ok((number, line))).is_err() {
                        return; // the sender stopped on an error of its own
                    }
                }
                Ok(None) => return,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        }
    });
    Ok(Lines { receiver, queued })
}

/// Bytes of lines sent to the channel and not yet received. The reader waits for room before
/// sending; a line always fits once the queue is empty ([`LINE_BYTES_MAX`] <=
/// [`QUEUED_BYTES_MAX`]).
#[derive(Default)]
struct QueuedBytes {
    bytes: Mutex<usize>,
    freed: Condvar,
}

impl QueuedBytes {
    fn acquire(&self, len: usize) {
        assert!(len <= QUEUED_BYTES_MAX);
        let bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut bytes = self
            .freed
            .wait_while(bytes, |bytes| *bytes + len > QUEUED_BYTES_MAX)
            .unwrap_or_else(PoisonError::into_inner);
        *bytes += len;
    }

    fn release(&self, len: usize) {
        let mut bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(*bytes >= len);
        *bytes -= len;
        self.freed.notify_one();
    }
}

/// The next line, `None` at the end of input. A last line without a newline counts; an empty
/// input has no lines.
fn read_line(
    reader: &mut impl BufRead,
    number: u64,
    source_name: &str,
) -> Result<Option<Vec<u8>>, ProduceError> {
    let mut line = Vec::new();
    let limit = LINE_BYTES_MAX as u64 + 1; // room for the newline
    reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|source| ProduceError::Input {
            source_name: source_name.to_string(),
            source,
        })?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > LINE_BYTES_MAX {
        return Err(ProduceError::LineTooLong {
            line: number,
            bytes_max: LINE_BYTES_MAX,
        });
    }
    Ok(Some(line))
}

/// Splits `line` at the first `separator` into key and value; an error when the line has none.
pub fn split_key<'a>(
    line: &'a [u8],
    separator: &[u8],
    number: u64,
) -> Result<(&'a [u8], &'a [u8]), ProduceError> {
    line.windows(separator.len())
        .position(|window| window == separator)
        .map(|at| (&line[..at], &line[at + separator.len()..]))
        .ok_or(ProduceError::NoKeySeparator { line: number })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_only_their_newline() {
        let mut input: &[u8] = b"a\r\n\nlast";
        let lines: Vec<_> = (1..)
            .map_while(|n| read_line(&mut input, n, "test").expect("reading"))
            .collect();
        assert_eq!(lines, [b"a\r".to_vec(), Vec::new(), b"last".to_vec()]);
    }

    #[test]
    fn a_line_beyond_the_bound_is_refused() {
        let long = vec![b'x'; LINE_BYTES_MAX + 1];
        let error = read_line(&mut &long[..], 1, "test").expect_err("accepted");
        assert!(matches!(error, ProduceError::LineTooLong { line: 1, .. }));
        let fits = vec![b'x'; LINE_BYTES_MAX];
        assert_eq!(
            read_line(&mut &fits[..], 1, "test").expect("reading"),
            Some(fits)
        );
    }

    #[test]
    fn the_reader_waits_while_the_queued_bytes_are_at_the_bound() {
        let queued = Arc::new(QueuedBytes::default());
        queued.acquire(QUEUED_BYTES_MAX - 10);
        let waiting = Arc::clone(&queued);
        let (done, finished) = std::sync::mpsc::channel();
        let reader = thread::spawn(move || {
            waiting.acquire(11);
            let _ = done.send(());
        });
        assert!(
            finished.recv_timeout(Duration::from_millis(200)).is_err(),
            "acquired past the bound"
        );
        queued.release(1);
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("acquired once there was room");
        reader.join().expect("the reader thread");
    }

    #[test]
    fn the_key_ends_at_the_first_separator() {
        assert_eq!(
            split_key(b"k::v::w", b"::", 1).expect("split"),
            (&b"k"[..], &b"v::w"[..])
        );
        assert_eq!(
            split_key(b"::v", b"::", 1).expect("split"),
            (&b""[..], &b"v"[..])
        );
        assert!(matches!(
            split_key(b"novalue", b"::", 3),
            Err(ProduceError::NoKeySeparator { line: 3 })
        ));
    }
}
