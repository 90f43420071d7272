//! Old clients: Debian's kcat links librdkafka 2.0.2, which mis-parses an ApiVersions response
//! carrying tagged fields (DESIGN.md, Protocol). Metadata, produce and consume round trips.
//! Skipped, saying so, only when kcat is not installed (`.ci/run` installs it).

mod support;

use std::io::Write;
use std::process::{Command, Output};
use std::time::Duration;

use support::{kafka, on_path, run_with_timeout, Broker};

const TOPIC: &str = "legacy";
const RECORDS: usize = 100;
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn kcat_metadata_produce_and_consume() {
    if !on_path("kcat") {
        // Straight to the stderr file descriptor: libtest captures print! and eprint! of a
        // passing test, and a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: kcat not installed");
        return;
    }
    let broker = Broker::start("kcat", 1);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 2);

    let metadata = kcat(&broker, &["-L", "-t", TOPIC], "");
    assert!(
        metadata.contains(&format!("topic \"{TOPIC}\" with 2 partitions")),
        "kcat -L said:\n{metadata}"
    );

    let lines: Vec<String> = (0..RECORDS)
        .map(|index| format!("k{index}:v{index}\n"))
        .collect();
    // Partition 0 plain, partition 1 gzip-compressed; every record carries a header.
    for (partition, codec) in [("0", "none"), ("1", "gzip")] {
        kcat(
            &broker,
            &[
                "-P",
                "-t",
                TOPIC,
                "-p",
                partition,
                "-K",
                ":",
                "-z",
                codec,
                "-H",
                "origin=kcat",
            ],
            &lines.concat(),
        );
    }

    let expected: String = (0..RECORDS)
        .map(|index| format!("k{index}=v{index};origin=kcat\n"))
        .collect();
    for partition in ["0", "1"] {
        let consumed = kcat(
            &broker,
            &[
                "-C",
                "-t",
                TOPIC,
                "-p",
                partition,
                "-o",
                "beginning",
                "-e",
                "-f",
                "%k=%s;%h\n",
            ],
            "",
        );
        assert_eq!(consumed, expected, "kcat -C of partition {partition}");
    }
}

/// Runs kcat against `broker`, asserts it succeeded, and returns its stdout.
fn kcat(broker: &Broker, args: &[&str], stdin: &str) -> String {
    let mut command = Command::new("kcat");
    command
        .args(["-b", &broker.bootstrap(), "-m", "30", "-q"])
        .args(args);
    let output: Output = run_with_timeout(&mut command, stdin.as_bytes(), KCAT_TIMEOUT);
    assert!(
        output.status.success(),
        "kcat {args:?} exited with {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("kcat prints UTF-8 here")
}
