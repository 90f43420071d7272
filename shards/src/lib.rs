//! The thread-per-core broker runtime (see DESIGN.md, "Threading" and "Routing").
//!
//! Not built yet: this crate is delivered by issue 4.
