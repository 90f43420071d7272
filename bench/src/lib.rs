//! Benchmarks live in `benches/`; the load generator arrives with issue 6.
