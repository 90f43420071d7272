//! The storage engine: partition logs on io_uring O_DIRECT (see DESIGN.md, "Storage engine").
//!
//! Not built yet: this crate is delivered by issue 3. It exists so that the workspace has its
//! final shape and dependencies point one way: protocol <- engine <- shards <- tools.
