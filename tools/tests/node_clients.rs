//! kafkajs (pure JavaScript, its own protocol code) against the real broker with two shards:
//! an idempotent gzip producer, a group consumer, and the admin calls of its API (including
//! the legacy AlterConfigs it still sends). The checks are in `clients/kafkajs_check.js`;
//! kafkajs comes from `clients/package.json` (`npm install --prefix tools/tests/clients`).
//!
//! Skipped, saying so, only when node or kafkajs is not installed (`.ci/run` installs it).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::Broker;

#[test]
fn kafkajs_produces_consumes_in_a_group_and_administers() {
    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    if !kafkajs_installed(&clients) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: node or kafkajs not installed (npm install --prefix tools/tests/clients)"
        );
        return;
    }
    let broker = Broker::start("kafkajs", 2);
    let output = Command::new("node")
        .arg(script(&clients))
        .arg(broker.bootstrap())
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "kafkajs check exited with {}\nstdout: {stdout}\nstderr: {stderr}\nthe broker said: {}",
        output.status,
        broker.stderr()
    );
    println!("{stdout}");
}

fn script(clients: &Path) -> PathBuf {
    clients.join("kafkajs_check.js")
}

fn kafkajs_installed(clients: &Path) -> bool {
    clients.join("node_modules/kafkajs/package.json").is_file()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
}
