//! `pinlog produce` and `pinlog consume` against the real broker, each checked against
//! librdkafka: CLI to CLI and CLI to librdkafka (keys, headers, partitioning by murmur2), and
//! librdkafka's compressed batches to the CLI; starting from a time and from a group's
//! committed offsets; and the one-line errors.

mod support;

use std::collections::BTreeMap;

use rdkafka::producer::BaseRecord;
use rdkafka::Offset;
use serde_json::{json, Value};

use support::cli::{self, failure, failure_with_input, success, success_with_input};
use support::groups;
use support::kafka;
use support::records::Record;
use support::Broker;

const LINES: usize = 300;
const PARTITIONS: i32 = 3;

fn keyed_lines() -> String {
    (0..LINES).map(|i| format!("key-{i}:value {i}\n")).collect()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn keyed_lines_with_headers_round_trip_through_the_cli_and_librdkafka() {
    let broker = Broker::start("cli-produce-consume", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "lines", PARTITIONS);
    kafka::create_topic(&admin, "lines-by-librdkafka", PARTITIONS);

    let args = [
        "produce",
        "lines",
        "--key-separator",
        ":",
        "--header",
        "source=cli",
        "--header",
        "run=1",
    ];
    let summary = success_with_input(&broker, &args, keyed_lines().as_bytes());
    assert!(
        summary.starts_with("produced 300 record(s) to lines: partition 0: "),
        "{summary}"
    );

    // librdkafka's murmur2_random partitioner is the Java client's: it must agree on every key.
    let producer = kafka::producer(&broker, &[("partitioner", "murmur2_random")]);
    for i in 0..LINES {
        let key = format!("key-{i}");
        let record = BaseRecord::<str, str>::to("lines-by-librdkafka")
            .key(&key)
            .payload("");
        producer.send(record).map_err(|(e, _)| e).expect("queueing");
    }
    assert_eq!(kafka::flush(&producer), LINES);
    let partition_of_key = |topic: &str| -> BTreeMap<Vec<u8>, i32> {
        let consumer = kafka::consumer(&broker, &[]);
        kafka::assign(&consumer, topic, 0..PARTITIONS, Offset::Beginning);
        kafka::consume(&consumer, LINES)
            .into_iter()
            .map(|c| (c.record.key.expect("a key"), c.partition))
            .collect()
    };
    assert_eq!(
        partition_of_key("lines"),
        partition_of_key("lines-by-librdkafka")
    );

    let consumer = kafka::consumer(&broker, &[]);
    kafka::assign(&consumer, "lines", 0..PARTITIONS, Offset::Beginning);
    let mut consumed = kafka::consume(&consumer, LINES);
    consumed.sort_by_key(|c| (c.partition, c.offset));
    for c in &consumed {
        let key = String::from_utf8(c.record.key.clone().expect("a key")).expect("UTF-8");
        let index = key.strip_prefix("key-").expect("key-N");
        assert_eq!(c.record.value, Some(format!("value {index}").into_bytes()));
        assert_eq!(
            c.record.headers,
            [
                ("source".to_string(), Some(b"cli".to_vec())),
                ("run".to_string(), Some(b"1".to_vec()))
            ]
        );
    }

    let json = json_lines(&success(
        &broker,
        &["consume", "lines", "--until-end", "--format", "json"],
    ));
    assert_eq!(json.len(), LINES);

    // Text with every prefix: offset, timestamp, headers, key, then the value.
    let text = success(
        &broker,
        &[
            "consume",
            "lines",
            "--until-end",
            "--max-messages",
            "1",
            "--print-offset",
            "--print-timestamp",
            "--print-headers",
            "--print-key",
        ],
    );
    let fields: Vec<&str> = text.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 5, "{text}");
    assert!(
        fields[1]
            .parse::<i64>()
            .is_ok_and(|ms| ms > 1_600_000_000_000),
        "{text}"
    );
    assert_eq!(fields[2], "source:cli,run:1", "{text}");
    assert!(fields[3].starts_with("key-"), "{text}");
    assert!(fields[4].starts_with("value "), "{text}");
    for (line, c) in json.iter().zip(&consumed) {
        assert_eq!(line["topic"], "lines");
        assert_eq!(line["partition"], c.partition);
        assert_eq!(line["offset"], c.offset);
        assert_eq!(line["timestamp"], c.timestamp_ms.expect("a timestamp"));
        assert_eq!(
            line["key"].as_str().map(str::as_bytes),
            c.record.key.as_deref()
        );
        assert_eq!(
            line["headers"],
            json!([{"key": "source", "value": "cli"}, {"key": "run", "value": "1"}])
        );
    }

    let first = &consumed[0];
    let text = success(
        &broker,
        &[
            "consume",
            "lines",
            "--partition",
            "0",
            "--until-end",
            "--print-key",
            "--print-offset",
        ],
    );
    let first_key =
        String::from_utf8_lossy(first.record.key.as_deref().unwrap_or_default()).into_owned();
    let first_value =
        String::from_utf8_lossy(first.record.value.as_deref().unwrap_or_default()).into_owned();
    assert_eq!(
        text.lines().next(),
        Some(format!("0:0\t{first_key}\t{first_value}").as_str()),
    );
    let in_partition_0 = consumed.iter().filter(|c| c.partition == 0).count();
    assert_eq!(text.lines().count(), in_partition_0);

    // Offset 2 lies inside the CLI's first batch: the records before it are dropped.
    let text = success(
        &broker,
        &[
            "consume",
            "lines",
            "--partition",
            "0",
            "--offset",
            "2",
            "--max-messages",
            "1",
            "--print-offset",
        ],
    );
    assert!(text.starts_with("0:2\t"), "{text}");
    let text = success(&broker, &["consume", "lines", "--max-messages", "5"]);
    assert_eq!(text.lines().count(), 5);
}

#[test]
fn compressed_batches_from_librdkafka_are_consumed_by_the_cli() {
    let broker = Broker::start("cli-consume-compressed", 1);
    kafka::create_topic(&kafka::admin(&broker), "compressed", 1);
    let mut expected = Vec::new();
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let producer =
            kafka::producer(&broker, &[("compression.type", codec), ("linger.ms", "50")]);
        for i in 0..50 {
            let record = Record {
                key: Some(format!("{codec}-{i}").into_bytes()),
                value: (i != 7).then(|| {
                    if i % 2 == 0 {
                        vec![0xff, 0x00, i as u8]
                    } else {
                        format!("{codec} text {i}").into_bytes()
                    }
                }),
                headers: vec![("h".to_string(), None)],
            };
            kafka::send(&producer, "compressed", 0, &record);
            expected.push(record);
        }
        assert_eq!(kafka::flush(&producer), 50);
    }
    let json = json_lines(&success(
        &broker,
        &["consume", "compressed", "--until-end", "--format", "json"],
    ));
    assert_eq!(json.len(), expected.len());
    for (offset, (line, record)) in json.iter().zip(&expected).enumerate() {
        assert_eq!(line["offset"], offset as u64);
        let bytes_json = |bytes: &Option<Vec<u8>>| match bytes {
            None => Value::Null,
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => json!(text),
                Err(_) => json!({ "base64": base64(bytes) }),
            },
        };
        assert_eq!(line["key"], bytes_json(&record.key), "offset {offset}");
        assert_eq!(line["value"], bytes_json(&record.value), "offset {offset}");
        assert_eq!(line["headers"], json!([{"key": "h", "value": null}]));
    }
}

/// The test's own base64, to check the CLI's independently.
fn base64(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    let mut out: String = bits
        .as_bytes()
        .chunks(6)
        .map(|six| {
            let six = format!("{:0<6}", String::from_utf8_lossy(six));
            char::from(alphabet[usize::from_str_radix(&six, 2).expect("binary")])
        })
        .collect();
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

#[test]
fn consumption_starts_at_a_time_or_at_a_groups_committed_offsets() {
    let broker = Broker::start("cli-consume-start", 1);
    kafka::create_topic(&kafka::admin(&broker), "timed", 1);
    let producer = kafka::producer(&broker, &[]);
    for i in 0..10 {
        let record = Record {
            key: None,
            value: Some(format!("v{i}").into_bytes()),
            headers: vec![],
        };
        kafka::send_at(&producer, "timed", 0, &record, Some(1_000_000 + i * 1_000));
    }
    assert_eq!(kafka::flush(&producer), 10);

    let values = |args: &[&str]| -> Vec<String> {
        success(&broker, args).lines().map(str::to_string).collect()
    };
    assert_eq!(
        values(&[
            "consume",
            "timed",
            "--from-timestamp",
            "1005000",
            "--until-end"
        ]),
        ["v5", "v6", "v7", "v8", "v9"]
    );
    // 1970-01-01T00:16:47.500Z is 1_007_500 ms: the first record at or after it is v8.
    assert_eq!(
        values(&[
            "consume",
            "timed",
            "--from-timestamp",
            "1970-01-01T00:16:47.500Z",
            "--until-end"
        ]),
        ["v8", "v9"]
    );
    assert!(values(&[
        "consume",
        "timed",
        "--from-timestamp",
        "2000000",
        "--timeout-ms",
        "300"
    ])
    .is_empty());

    let committed =
        || groups::committed(&broker.bootstrap(), "readers", "timed", 1).expect("OffsetFetch");
    assert_eq!(
        values(&[
            "consume",
            "timed",
            "--group",
            "readers",
            "--max-messages",
            "4"
        ]),
        ["v0", "v1", "v2", "v3"]
    );
    assert_eq!(committed(), [Some(4)]);
    assert_eq!(
        values(&["consume", "timed", "--group", "readers", "--until-end"]),
        ["v4", "v5", "v6", "v7", "v8", "v9"]
    );
    assert_eq!(committed(), [Some(10)]);
    assert!(values(&[
        "consume",
        "timed",
        "--group",
        "readers",
        "--timeout-ms",
        "300"
    ])
    .is_empty());
    assert_eq!(
        values(&[
            "consume",
            "timed",
            "--group",
            "others",
            "--no-commit",
            "--max-messages",
            "2"
        ]),
        ["v0", "v1"]
    );
    assert_eq!(
        groups::committed(&broker.bootstrap(), "others", "timed", 1).expect("OffsetFetch"),
        [None]
    );
}

#[test]
fn acks_settings_and_errors() {
    let mut broker = Broker::start("cli-produce-errors", 1);
    kafka::create_topic(&kafka::admin(&broker), "t", 2);
    let sent = success_with_input(
        &broker,
        &["produce", "t", "--acks", "1", "--partition", "1"],
        b"a\nb\n",
    );
    assert_eq!(sent.trim(), "produced 2 record(s) to t: partition 1: 2");
    let sent = success_with_input(
        &broker,
        &[
            "produce",
            "t",
            "--acks",
            "0",
            "--partition",
            "1",
            "--compression",
            "zstd",
        ],
        b"c\n",
    );
    assert_eq!(
        sent.trim(),
        "sent (acks=0, unconfirmed) 1 record(s) to t: partition 1: 1"
    );
    let quiet = success_with_input(&broker, &["produce", "t", "--quiet"], b"d\n");
    assert_eq!(quiet, "");
    let consumer = kafka::consumer(&broker, &[]);
    kafka::assign(&consumer, "t", 1..2, Offset::Beginning);
    let values: Vec<_> = kafka::consume(&consumer, 3)
        .into_iter()
        .map(|c| c.record.value)
        .collect();
    assert_eq!(
        values,
        [
            Some(b"a".to_vec()),
            Some(b"b".to_vec()),
            Some(b"c".to_vec())
        ]
    );

    let error = failure_with_input(&broker, &["produce", "nope"], b"x\n");
    assert!(error.contains("topic nope does not exist"), "{error}");
    let error = failure(&broker, &["consume", "nope", "--until-end"]);
    assert!(error.contains("topic nope does not exist"), "{error}");
    let error = failure(&broker, &["consume", "t", "--partition", "5"]);
    assert!(
        error.contains("topic t has no partition 5 (it has 2)"),
        "{error}"
    );
    let error = failure_with_input(
        &broker,
        &["produce", "t", "--key-separator", ":"],
        b"k:v\nno separator\n",
    );
    assert!(error.contains("line 2 has no key separator"), "{error}");
    // A line over the 1 MiB cap (Kafka's default max.message.bytes) is refused by its number
    // before it is buffered or sent.
    let mut input = b"short\n".to_vec();
    input.extend(vec![b'x'; 1024 * 1024 + 1]);
    input.push(b'\n');
    let error = failure_with_input(&broker, &["produce", "t", "--partition", "0"], &input);
    assert!(
        error.contains("line 2 is longer than 1048576 bytes"),
        "{error}"
    );
    let error = failure(&broker, &["consume", "t", "--from-timestamp", "yesterday"]);
    assert!(error.contains("invalid --from-timestamp"), "{error}");

    broker.stop();
    let error = failure_with_input(&broker, &["produce", "t"], b"x\n");
    assert!(error.contains("connecting to"), "{error}");
    let output = cli::run(&broker, &["consume", "t"], b"");
    let error = cli::single_error_line(&["consume"], output);
    assert!(error.contains("connecting to"), "{error}");
}
