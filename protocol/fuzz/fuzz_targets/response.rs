//! Four selector bytes (API key, version), then a response body; see `check_response`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pinlog_protocol_fuzz::check_response(data));
