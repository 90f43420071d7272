//! Arbitrary bytes as a snappy-compressed records section; see `check_decompress`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinlog_protocol::records::Compression;

fuzz_target!(|data: &[u8]| pinlog_protocol_fuzz::check_decompress(Compression::Snappy, data));
