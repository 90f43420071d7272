//! `pinlog topic create | list | describe | alter-config | add-partitions | delete` against the
//! real broker, checked through librdkafka's view of the same broker.

mod support;

use serde_json::Value;

use support::cli::{self, failure, row, success};
use support::kafka;
use support::records::keyed_record;
use support::Broker;

const TOPIC: &str = "orders";
const PRODUCED: usize = 10;

/// Stdout of a successful `pinlog ARGS --bootstrap BOOTSTRAP`.
fn pinlog_with_bootstrap(bootstrap: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pinlog"))
        .args(args)
        .args(["--bootstrap", bootstrap])
        .env_remove("RUST_LOG")
        .output()
        .expect("running pinlog");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

#[test]
fn create_list_describe_alter_grow_and_delete_a_topic() {
    let broker = Broker::start("cli-topics", 1);
    let admin = kafka::admin(&broker);

    let created = success(
        &broker,
        &[
            "topic",
            "create",
            TOPIC,
            "--partitions",
            "3",
            "--replication-factor",
            "1",
            "--config",
            "retention.ms=86400000",
        ],
    );
    assert!(
        created.contains("created topic orders with 3 partition(s)"),
        "{created}"
    );
    kafka::wait_for_topics(&admin, &[(TOPIC, 3)]);
    assert_eq!(
        kafka::topic_overrides(&admin, TOPIC),
        [("retention.ms".to_string(), "86400000".to_string())]
    );

    let listed = success(&broker, &["topic", "list"]);
    assert_eq!(row(&listed, TOPIC), Some(vec![TOPIC, "3"]), "{listed}");
    let listed = json(&success(&broker, &["topic", "list", "--json"]));
    assert!(
        listed
            .as_array()
            .expect("an array")
            .iter()
            .any(|t| t["topic"] == TOPIC && t["partitions"] == 3 && t["internal"] == false),
        "{listed}"
    );

    let producer = kafka::producer(&broker, &[]);
    for index in 0..PRODUCED {
        kafka::send(&producer, TOPIC, 1, &keyed_record(index));
    }
    assert_eq!(kafka::flush(&producer), PRODUCED);

    let described = success(&broker, &["topic", "describe", TOPIC]);
    assert!(
        described.contains("Topic: orders  Partitions: 3  Configs: retention.ms=86400000"),
        "{described}"
    );
    let written = row(&described, "1").expect("partition 1");
    assert_eq!(written[..6], ["1", "0", "0", "0", "0", "10"], "{described}");
    let size: u64 = written[6].parse().expect("a size in bytes");
    assert!(
        size > 10 * 61,
        "ten records in at least one batch: {described}"
    );
    assert_eq!(
        row(&described, "0").expect("partition 0")[4..],
        ["0", "0", "0"]
    );
    let described = json(&success(&broker, &["topic", "describe", TOPIC, "--json"]));
    let topic = &described[0];
    assert_eq!(topic["topic"], TOPIC);
    assert_eq!(topic["configs"]["retention.ms"], "86400000");
    assert_eq!(topic["partitions"][1]["log_end_offset"], PRODUCED as u64);
    assert_eq!(topic["partitions"][1]["leader"], 0);
    assert_eq!(topic["partitions"][1]["size_bytes"], size);

    success(
        &broker,
        &[
            "topic",
            "alter-config",
            TOPIC,
            "--set",
            "retention.bytes=1048576",
            "--set",
            "segment.ms=3600000",
            "--delete",
            "retention.ms",
        ],
    );
    assert_eq!(
        kafka::topic_overrides(&admin, TOPIC),
        [
            ("retention.bytes".to_string(), "1048576".to_string()),
            ("segment.ms".to_string(), "3600000".to_string()),
        ]
    );
    let refused = failure(
        &broker,
        &["topic", "alter-config", TOPIC, "--set", "no.such.config=1"],
    );
    assert!(refused.contains("no.such.config"), "{refused}");

    let grown = success(&broker, &["topic", "add-partitions", TOPIC, "--total", "4"]);
    assert!(grown.contains("now has 4 partition(s)"), "{grown}");
    kafka::wait_for_topics(&admin, &[(TOPIC, 4)]);

    let refused = failure(&broker, &["topic", "create", TOPIC]);
    assert!(
        refused.contains("TOPIC_ALREADY_EXISTS") || refused.contains("already exists"),
        "{refused}"
    );
    let kept = success(&broker, &["topic", "create", TOPIC, "--if-not-exists"]);
    assert_eq!(kept.trim(), "topic orders exists already");

    // Without names: every topic; the internal ones unless left out.
    let every = json(&success(&broker, &["topic", "describe", "--json"]));
    let names: Vec<&str> = every
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["topic"].as_str().expect("a name"))
        .collect();
    assert!(names.contains(&TOPIC), "{names:?}");
    let external = json(&success(
        &broker,
        &["topic", "describe", "--exclude-internal", "--json"],
    ));
    assert!(external
        .as_array()
        .expect("an array")
        .iter()
        .all(|t| t["internal"] == false));

    // A bootstrap list: the first broker that answers is used.
    let listed = pinlog_with_bootstrap(
        &format!("127.0.0.1:1,{}", broker.bootstrap()),
        &["topic", "list", "--json"],
    );
    assert!(listed.contains(TOPIC), "{listed}");

    let deleted = success(&broker, &["topic", "delete", TOPIC]);
    assert!(deleted.contains("deleted topic orders"), "{deleted}");
    kafka::wait_for_topics(&admin, &[]);
    let refused = failure(&broker, &["topic", "describe", TOPIC]);
    assert!(refused.contains("topic orders does not exist"), "{refused}");
    let refused = failure(&broker, &["topic", "delete", TOPIC]);
    assert!(refused.contains("topic orders does not exist"), "{refused}");
}

#[test]
fn bad_arguments_and_an_unreachable_broker_are_one_line_errors() {
    let mut broker = Broker::start("cli-topics-errors", 1);
    let refused = failure(
        &broker,
        &["topic", "create", "t", "--config", "retention.ms"],
    );
    assert!(
        refused.contains("--config \"retention.ms\" is not KEY=VALUE"),
        "{refused}"
    );
    let refused = failure(
        &broker,
        &["topic", "create", "t", "--replication-factor", "3"],
    );
    assert!(refused.contains("topic t"), "{refused}");

    broker.stop();
    let output = cli::run(&broker, &["topic", "list"], b"");
    let refused = cli::single_error_line(&["topic", "list"], output);
    assert!(refused.contains("connecting to"), "{refused}");
}

#[test]
fn cluster_info_names_the_broker_and_its_api_versions() {
    let broker = Broker::start("cli-cluster-info", 1);
    let text = success(&broker, &["cluster", "info"]);
    assert!(text.starts_with("Cluster: "), "{text}");
    assert!(text.contains("Controller: 0"), "{text}");
    assert_eq!(
        row(&text, "Produce"),
        Some(vec!["Produce", "0", "3", "11"]),
        "{text}"
    );

    let info = json(&success(&broker, &["cluster", "info", "--json"]));
    assert!(!info["cluster_id"]
        .as_str()
        .expect("a cluster id")
        .is_empty());
    let metadata = kafka::admin(&broker)
        .inner()
        .fetch_metadata(None, kafka::TIMEOUT)
        .expect("Metadata request");
    let brokers: Vec<Value> = metadata
        .brokers()
        .iter()
        .map(
            |b| serde_json::json!({"id": b.id(), "host": b.host(), "port": b.port(), "rack": null}),
        )
        .collect();
    assert_eq!(info["brokers"], Value::Array(brokers));
    let versions = info["api_versions"].as_array().expect("an array");
    assert!(
        versions
            .iter()
            .any(|v| v["api"] == "Fetch" && v["key"] == 1 && v["max_version"] == 17),
        "{versions:?}"
    );
}
