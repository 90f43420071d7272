//! `pinlog-bench`: a load generator for any Kafka-compatible broker, and pinlog's criterion
//! micro-benchmarks (in `benches/`).
//!
//! The load generator is organised by workload kind (produce, consume, end-to-end) in
//! [`workload`]; each drives a client — pinlog's own pipelined glommio client on the protocol
//! crate, or librdkafka as a neutral reference — and records completions and latencies in
//! per-task [`report::Recorder`]s, merged into a [`report::Report`] that is printed, written
//! as JSON, plotted, and compared against a baseline by `pinlog-bench compare`.

pub mod client;
pub mod report;
pub mod workload;
