//! kafkajs (pure JavaScript, its own protocol code) against the real broker with two shards:
//! an idempotent gzip producer, a group consumer, and the admin calls of its API (including
//! the legacy AlterConfigs it still sends). The checks are in `clients/kafkajs_check.js`;
//! kafkajs comes from `clients/package.json` (`npm install --prefix tools/tests/clients`).
//!
//! Skipped, saying so, only when node or kafkajs is not installed (`.ci/run` installs it).

mod support;

use std::io::Write;

use support::{client_checks, Broker};

#[test]
fn kafkajs_produces_consumes_in_a_group_and_administers() {
    let installed = client_checks::script("node_modules/kafkajs/package.json").is_file();
    if !installed || !client_checks::on_path("node") {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: node or kafkajs not installed (npm install --prefix tools/tests/clients)"
        );
        return;
    }
    let broker = Broker::start("kafkajs", 2);
    let script = client_checks::script("kafkajs_check.js");
    println!("{}", client_checks::run("node", &script, &broker));
}
