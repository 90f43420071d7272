//! Mistakes on the command line end the run before it starts, with one line on stderr and exit
//! code 2: nothing here reaches a broker (the bootstrap address has none).

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Nothing listens here; a run that got as far as connecting would say so.
const NO_BROKER: &str = "127.0.0.1:1";
/// Checks come before any connection attempt or workload: they take no time at all.
const CHECKS_TAKE_AT_MOST: Duration = Duration::from_secs(10);

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlog-bench"))
        .args(args)
        .output()
        .expect("running pinlog-bench")
}

/// Asserts a refused command line and returns its one line.
fn refused(args: &[&str]) -> String {
    let started = Instant::now();
    let output = bench(args);
    assert!(started.elapsed() < CHECKS_TAKE_AT_MOST, "{args:?} ran");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("pinlog-bench: error: "), "{stderr}");
    assert!(
        !stderr.contains("connect"),
        "{args:?} tried the broker: {stderr}"
    );
    // The message once, not followed by its own cause again.
    let message = stderr.trim_start_matches("pinlog-bench: error: ");
    let head = &message[..message.len().min(24)];
    assert_eq!(message.matches(head).count(), 1, "said twice: {stderr}");
    stderr
}

#[test]
fn a_plot_that_cannot_be_drawn_is_refused_before_the_run() {
    let line = refused(&["produce", "--bootstrap", NO_BROKER, "--plot", "out.jpg"]);
    assert!(line.contains("*.svg or *.png"), "{line}");
}

#[test]
fn an_output_file_in_a_missing_directory_is_refused_before_the_run() {
    for option in ["--json", "--plot"] {
        let path = "/no/such/directory/out.svg";
        let line = refused(&["produce", "--bootstrap", NO_BROKER, option, path]);
        assert!(line.contains("is not a directory"), "{line}");
    }
}

#[test]
fn a_rate_too_slow_to_schedule_is_refused() {
    for rate in ["1e-19", "0", "-5", "NaN", "inf"] {
        let rate = format!("--rate={rate}");
        let line = refused(&["produce", "--bootstrap", NO_BROKER, &rate]);
        assert!(line.contains("--rate"), "{line}");
    }
}

#[test]
fn unknown_options_and_bad_values_are_one_line() {
    for args in [
        &["produce", "--bootstrap", NO_BROKER, "--no-such-option"][..],
        &["produce", "--bootstrap", NO_BROKER, "--acks", "some"][..],
        &[
            "produce",
            "--bootstrap",
            NO_BROKER,
            "--message-size",
            "huge",
        ][..],
        &["fly"][..],
    ] {
        let line = refused(args);
        assert!(line.trim_end().ends_with("(see --help)"), "{line}");
    }
    let help = bench(&["produce", "--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--rate"));
}

#[test]
fn options_a_kind_ignores_are_named_on_stderr() {
    for (args, named) in [
        (
            &["produce", "--consumers", "2"][..],
            "produce ignores --consumers",
        ),
        (
            &["produce", "--prefill", "100"][..],
            "produce ignores --prefill",
        ),
        (
            &["end-to-end", "--prefill", "100"][..],
            "end-to-end ignores --prefill",
        ),
        (
            &["consume", "--acks", "all", "--rate", "10"][..],
            "consume ignores --rate, --acks",
        ),
        (
            &["consume", "--prefill", "10", "--rate", "10"][..],
            "consume ignores --rate",
        ),
    ] {
        let mut full = args.to_vec();
        full.extend(["--bootstrap", NO_BROKER]);
        let stderr = String::from_utf8_lossy(&bench(&full).stderr).into_owned();
        let note = stderr.lines().next().unwrap_or_default();
        assert!(
            note.starts_with("pinlog-bench: note: "),
            "{args:?}: {stderr}"
        );
        assert!(note.contains(named), "{args:?}: {stderr}");
    }
    // Producer settings with a prefill are that prefill's: nothing said.
    let output = bench(&[
        "consume",
        "--prefill",
        "10",
        "--acks",
        "all",
        "--bootstrap",
        NO_BROKER,
    ]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("ignores"));
}
