//! A second broker on an address the first listens on is refused with one clear line, instead
//! of binding beside it with SO_REUSEPORT and taking half of its connections.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{kafka, run_with_timeout, Broker};

/// A refused start exits at once; a broker that starts runs until killed.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn a_second_broker_on_the_same_address_is_refused() {
    let broker = Broker::start("second-broker", 1);
    let other_data = broker.data_dir().with_file_name("other-data");
    let output = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_pinlog"))
            .arg("serve")
            .arg("--data-dir")
            .arg(&other_data)
            .args(["--listen", &broker.bootstrap(), "--shards", "1"])
            .env_remove("RUST_LOG"),
        b"",
        REFUSAL_TIMEOUT,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("binding {}", broker.bootstrap()))
            && stderr.to_lowercase().contains("in use"),
        "stderr: {stderr}"
    );
    // The first broker still answers.
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "still-here", 1);
}
