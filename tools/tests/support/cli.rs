//! Running the `pinlog` binary's operator commands against a test broker, and the checks
//! every CLI test makes of a run: success with stdout, or one error line and exit code 1.

use std::process::{Command, Output};
use std::time::Duration;

use super::Broker;

/// Bound on one CLI run; a command that hangs fails the test instead of the whole suite.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `pinlog <args>` with `--bootstrap` of `broker` appended, and `stdin` as its input.
pub fn run(broker: &Broker, args: &[&str], stdin: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pinlog"));
    command
        .args(args)
        .args(["--bootstrap", &broker.bootstrap()])
        .env_remove("RUST_LOG");
    super::run_with_timeout(&mut command, stdin, RUN_TIMEOUT)
}

/// Runs `pinlog <args>` as given (no `--bootstrap`), for offline commands.
pub fn run_offline(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pinlog"));
    command.args(args).env_remove("RUST_LOG");
    super::run_with_timeout(&mut command, b"", RUN_TIMEOUT)
}

/// Stdout of a run that must succeed.
pub fn success(broker: &Broker, args: &[&str]) -> String {
    success_with_input(broker, args, b"")
}

pub fn success_with_input(broker: &Broker, args: &[&str], stdin: &[u8]) -> String {
    stdout_of_success(args, run(broker, args, stdin))
}

pub fn stdout_of_success(args: &[&str], output: Output) -> String {
    assert!(
        output.status.success(),
        "pinlog {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The one stderr line of a run that must fail with exit code 1.
pub fn failure(broker: &Broker, args: &[&str]) -> String {
    failure_with_input(broker, args, b"")
}

pub fn failure_with_input(broker: &Broker, args: &[&str], stdin: &[u8]) -> String {
    single_error_line(args, run(broker, args, stdin))
}

pub fn single_error_line(args: &[&str], output: Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("pinlog: error: "), "{stderr}");
    stderr
}

/// The words of the line of `table` whose first column is `key`.
pub fn row<'a>(table: &'a str, key: &str) -> Option<Vec<&'a str>> {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&key))
}
