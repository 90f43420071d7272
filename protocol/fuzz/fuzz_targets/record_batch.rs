//! One mode byte, then a buffer of record batches; see `check_record_batch`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pinlog_protocol_fuzz::check_record_batch(data));
