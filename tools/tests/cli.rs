//! The `pinlog` binary's own behaviour, without a broker: version, and configuration errors as
//! one line on stderr with a non-zero exit code.

use std::path::PathBuf;
use std::process::{Command, Output};

fn pinlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlog"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("running pinlog")
}

fn scratch_file(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pinlog-tools-cli");
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    let path = dir.join(format!("{name}-{}", std::process::id()));
    std::fs::write(&path, contents).expect("writing a scratch file");
    path
}

/// Asserts a failed run: exit code 1 and exactly one line on stderr, which is returned.
fn single_error_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("pinlog: error: "), "stderr: {stderr}");
    stderr
}

#[test]
fn version_names_the_binary_and_the_crate_version() {
    let output = pinlog(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("pinlog {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_key_in_the_config_file_stops_serve_with_one_line() {
    let path = scratch_file("unknown-key.toml", "shards = 1\ncolour = \"blue\"\n");
    let stderr = single_error_line(&pinlog(&["serve", "--config", path.to_str().unwrap()]));
    assert!(stderr.contains("unknown field `colour`"), "{stderr}");
    assert!(stderr.contains("at line 2, column 1"), "{stderr}");
    std::fs::remove_file(path).expect("removing the scratch file");
}

#[test]
fn a_missing_config_file_stops_serve_with_one_line() {
    let stderr = single_error_line(&pinlog(&["serve", "--config", "/nonexistent/pinlog.toml"]));
    assert!(
        stderr.contains("reading config file /nonexistent/pinlog.toml"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_log_filter_stops_with_one_line() {
    let stderr = single_error_line(&pinlog(&["--log-level", "pinlog=loud", "serve"]));
    assert!(stderr.contains("invalid log filter"), "{stderr}");
}

#[test]
fn a_usage_error_is_one_line_with_exit_code_2() {
    for args in [
        &["topic", "create", "--bogus", "t"][..],
        &["consume", "--offset", "not-a-number", "t"][..],
        &["no-such-command"][..],
    ] {
        let output = pinlog(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("pinlog: error: "), "{args:?}: {stderr}");
        assert!(stderr.trim_end().ends_with("(see --help)"), "{stderr}");
        assert!(!stderr.contains("Usage:"), "{stderr}");
    }
    // Help still prints whole, on stdout, with success.
    let output = pinlog(&["topic", "create", "--help"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).lines().count() > 3);
}
