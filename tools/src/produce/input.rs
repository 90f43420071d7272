//! Lines of input, read on their own thread so that the sender can flush a partial batch when
//! input pauses (an operator typing, a slow pipe) instead of waiting for the batch to fill.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread;

use super::ProduceError;

/// Longest line accepted (the newline excluded): a record far above any broker's
/// `max.message.bytes` is refused before it is buffered whole.
pub const LINE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Lines read ahead of the sender; bounds memory when the broker is slower than the input.
const LINES_QUEUED_MAX: usize = 1024;

/// One line without its `\n` (a `\r` before it is kept: the bytes are the record's), numbered
/// from 1 for error messages; or why reading stopped.
pub type Line = Result<(u64, Vec<u8>), ProduceError>;

/// Starts reading `path` (stdin when `None`) on a thread; the receiver disconnects at the end
/// of input, after an error if there was one.
pub fn spawn_reader(path: Option<PathBuf>) -> Result<Receiver<Line>, ProduceError> {
    let source: Box<dyn Read + Send> = match &path {
        Some(path) => Box::new(File::open(path).map_err(|source| ProduceError::Input {
            source_name: path.display().to_string(),
            source,
        })?),
        None => Box::new(std::io::stdin()),
    };
    let source_name = path.map_or_else(|| "stdin".to_string(), |p| p.display().to_string());
    let (sender, receiver) = sync_channel(LINES_QUEUED_MAX);
    thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut number = 0u64;
        loop {
            number += 1;
            match read_line(&mut reader, number, &source_name) {
                Ok(Some(line)) => {
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
    Ok(receiver)
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
