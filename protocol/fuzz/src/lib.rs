//! The checks behind pinlog-protocol's fuzz targets, one module per decoder family.
//!
//! Each `check_*` takes the raw fuzzer input, feeds it to a decoder and asserts properties that
//! must hold for *every* input, not only "no panic": a decoded message re-encodes to bytes that
//! decode to the same message, the frame splitter agrees with a simple model whatever the
//! chunking, batch validation agrees with record iteration, and decompression honours its cap
//! exactly. A failed assertion is a bug in the library (or in the property: say which when
//! reporting it).
//!
//! The checks are in a library so that each target in `fuzz_targets/` is one line and the
//! corpus generator (`examples/gen_corpus.rs`) can run every seed it writes through them.

mod codec;
mod decompress;
mod frame;
mod record_batch;

pub use codec::{check_request, check_response, response_selector, RESPONSE_SELECTOR_BYTES};
pub use decompress::{check_decompress, DECOMPRESSED_BYTES_MAX};
pub use frame::{check_frame, FRAME_CONTROL_BYTES};
pub use record_batch::{check_record_batch, MODE_FIX_CRC, RECORDS_BYTES_MAX};
