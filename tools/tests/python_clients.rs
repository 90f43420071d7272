//! Clients with protocol code of their own, not librdkafka's: kafka-python (pure Python)
//! produces with an idempotent producer and gzip, consumes in a group, and runs the admin
//! calls cluster tools use (configs, log directory sizes, partitions, records, groups),
//! against the real broker with two shards. The checks are in `clients/kafka_python_check.py`.
//!
//! Skipped, saying so, only when kafka-python is not installed (`.ci/run` installs it).

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use support::Broker;

#[test]
fn kafka_python_produces_consumes_in_a_group_and_administers() {
    if !python_has_module("kafka") {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: kafka-python not installed (pip install kafka-python)"
        );
        return;
    }
    let broker = Broker::start("kafka-python", 2);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/kafka_python_check.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(broker.bootstrap())
        .output()
        .expect("running python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "kafka-python check exited with {}\nstdout: {stdout}\nstderr: {stderr}\nthe broker said: {}",
        output.status,
        broker.stderr()
    );
    println!("{stdout}");
}

fn python_has_module(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success())
}
