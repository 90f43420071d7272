//! Client libraries other than librdkafka, run as scripts (`tests/clients/`) against a broker:
//! each script exits non-zero with the check that failed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Broker;

/// `tests/clients/<name>`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// Runs `interpreter script HOST:PORT` against `broker`; panics with everything it and the
/// broker said unless it succeeds, and returns its stdout.
pub fn run(interpreter: &str, script: &Path, broker: &Broker) -> String {
    let output = Command::new(interpreter)
        .arg(script)
        .arg(broker.bootstrap())
        .output()
        .unwrap_or_else(|error| panic!("running {interpreter}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} exited with {}\nstdout: {stdout}\nstderr: {stderr}\nthe broker said: {}",
        script.display(),
        output.status,
        broker.stderr()
    );
    stdout
}

/// The program runs (`program --version` succeeds).
pub fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}
