//! One codec's decompressor on arbitrary bytes, and its cap.
//!
//! Properties:
//! - the output never exceeds the cap (1 MiB here), and a bomb is `OutputTooLarge`, not an
//!   allocation of what it asks for (run with `-rss_limit_mb` to see the second half);
//! - the cap is exact: input that decompresses to `n` bytes succeeds with the same output
//!   under a cap of `n`, and fails with `OutputTooLarge` under a cap of `n - 1`;
//! - the input, taken as plain data, survives `compress` then `decompress`.

use pinlog_protocol::records::{compress, decompress, Compression, CompressionError};

/// The output cap the targets run with.
pub const DECOMPRESSED_BYTES_MAX: usize = 1 << 20;

pub fn check_decompress(codec: Compression, data: &[u8]) {
    if let Ok(output) = decompress(codec, data, DECOMPRESSED_BYTES_MAX) {
        assert!(
            output.len() <= DECOMPRESSED_BYTES_MAX,
            "{codec:?} output past the cap"
        );
        check_exact_cap(codec, data, &output);
    }
    let compressed =
        compress(codec, data).unwrap_or_else(|e| panic!("{codec:?} cannot compress: {e}"));
    let round_trip = decompress(codec, &compressed, data.len())
        .unwrap_or_else(|e| panic!("{codec:?} cannot decompress its own output: {e}"));
    assert!(round_trip == data, "{codec:?} round trip changed the data");
}

fn check_exact_cap(codec: Compression, data: &[u8], output: &[u8]) {
    let at_cap = decompress(codec, data, output.len()).unwrap_or_else(|e| {
        panic!(
            "{codec:?}: {} bytes fail under a cap of as many: {e}",
            output.len()
        )
    });
    assert!(at_cap == output, "{codec:?} output depends on the cap");
    if let Some(below) = output.len().checked_sub(1) {
        match decompress(codec, data, below) {
            Err(CompressionError::OutputTooLarge { .. }) => {}
            other => panic!(
                "{codec:?}: {} bytes under a cap of {below} give {:?}",
                output.len(),
                other.map(|out| out.len())
            ),
        }
    }
}
