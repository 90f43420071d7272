//! Arbitrary bytes as a request frame (header and body of every API key); see `check_request`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pinlog_protocol_fuzz::check_request(data));
