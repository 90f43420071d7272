//! The `pinlog` binary: `serve` and the operator commands.
//!
//! Not built yet: the broker is delivered by issue 4, the operator CLI by issue 6.
