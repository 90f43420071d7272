//! Three control bytes (frame size limit, chunking), then a byte stream; see `check_frame`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pinlog_protocol_fuzz::check_frame(data));
