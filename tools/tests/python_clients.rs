//! Clients with protocol code of their own, not librdkafka's: kafka-python (pure Python)
//! produces with an idempotent producer and gzip, consumes in a group, and runs the admin
//! calls cluster tools use (configs, log directory sizes, partitions, records, groups),
//! against the real broker with two shards. The checks are in `clients/kafka_python_check.py`.
//!
//! Skipped, saying so, only when kafka-python is not installed (`.ci/run` installs it).

mod support;

use std::io::Write;
use std::process::Command;

use support::{client_checks, Broker};

#[test]
fn kafka_python_produces_consumes_in_a_group_and_administers() {
    let installed = Command::new("python3")
        .args(["-c", "import kafka"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: kafka-python not installed (pip install kafka-python)"
        );
        return;
    }
    let broker = Broker::start("kafka-python", 2);
    let script = client_checks::script("kafka_python_check.py");
    println!("{}", client_checks::run("python3", &script, &broker));
}
