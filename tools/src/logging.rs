//! Structured logs to stderr through `tracing`, quiet unless asked: the level is `warn` unless
//! `--log-level` or `RUST_LOG` says otherwise (the flag wins). stdout stays free for the
//! broker's ready line, which scripts and the test harness wait for.

use std::io::IsTerminal;

use tracing_subscriber::filter::{EnvFilter, LevelFilter};

#[derive(Debug, thiserror::Error)]
#[error("invalid log filter {directives:?} (from {origin}): {reason}")]
pub struct LoggingError {
    directives: String,
    origin: &'static str,
    reason: String,
}

/// Installs the global subscriber. `log_level` is the `--log-level` flag.
pub fn init(log_level: Option<&str>) -> Result<(), LoggingError> {
    let filter = match (log_level, std::env::var("RUST_LOG")) {
        (Some(directives), _) => parse_filter(directives, "--log-level")?,
        (None, Ok(directives)) if !directives.trim().is_empty() => {
            parse_filter(&directives, "RUST_LOG")?
        }
        (None, _) => EnvFilter::default().add_directive(LevelFilter::WARN.into()),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // When stderr cannot be written (a log file on a full disk), tracing would report that
        // with eprintln!, which panics on the same failure: the thread that logged, a shard,
        // died. A log line that cannot be written is dropped instead.
        .log_internal_errors(false)
        .init();
    Ok(())
}

fn parse_filter(directives: &str, origin: &'static str) -> Result<EnvFilter, LoggingError> {
    EnvFilter::try_new(directives).map_err(|error| LoggingError {
        directives: directives.to_string(),
        origin,
        reason: error.to_string(),
    })
}
