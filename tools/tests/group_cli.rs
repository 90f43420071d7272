//! `pinlog group list | describe | delete | reset-offsets` against the real broker, with a
//! librdkafka member in the group.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "orders";
const GROUP: &str = "billing";
const PARTITIONS: i32 = 2;
const RECORDS: usize = 100;
const PER_PARTITION: i64 = (RECORDS / PARTITIONS as usize) as i64;

fn pinlog(broker: &Broker, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pinlog"))
        .arg("group")
        .args(args)
        .args(["--bootstrap", &broker.bootstrap()])
        .env_remove("RUST_LOG")
        .output()
        .expect("running pinlog group")
}

/// Stdout of a run that must succeed.
fn success(broker: &Broker, args: &[&str]) -> String {
    let output = pinlog(broker, args);
    assert!(
        output.status.success(),
        "pinlog group {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The one stderr line of a run that must fail with exit code 1.
fn failure(broker: &Broker, args: &[&str]) -> String {
    let output = pinlog(broker, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("pinlog: error: "), "{stderr}");
    stderr
}

/// The words of the line of `table` whose first column is `key`.
fn row<'a>(table: &'a str, key: &str) -> Option<Vec<&'a str>> {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&key))
}

#[test]
fn list_describe_delete_and_reset_offsets_of_a_group() {
    let broker = Broker::start_with_config("group-cli", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);
    let mut member = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    groups::consume_until_complete(&mut member, &[], &groups::spread_ends(PARTITIONS, RECORDS));
    member.commit_seen(TOPIC);

    let listed = success(&broker, &["list"]);
    assert_eq!(
        row(&listed, GROUP),
        Some(vec![GROUP, "Stable", "consumer"]),
        "{listed}"
    );
    let described = success(&broker, &["describe", "--group", GROUP]);
    assert!(described.contains("Stable"), "{described}");
    assert!(described.contains("orders:0,1"), "{described}");
    let offsets = row(&described, TOPIC).expect("an offsets row");
    assert_eq!(offsets[1..5], ["0", "50", "50", "0"], "{described}");

    let refused = failure(&broker, &["delete", "--group", GROUP]);
    assert!(refused.contains("1 active member(s)"), "{refused}");
    let refused = failure(
        &broker,
        &[
            "reset-offsets",
            "--group",
            GROUP,
            "--topic",
            TOPIC,
            "--to-earliest",
            "--execute",
        ],
    );
    assert!(refused.contains("1 active member(s)"), "{refused}");

    drop(member); // LeaveGroup: the group is now Empty
    wait_for_state(&broker, "Empty");

    let planned = success(
        &broker,
        &[
            "reset-offsets",
            "--group",
            GROUP,
            "--topic",
            TOPIC,
            "--to-offset",
            "10",
        ],
    );
    assert!(planned.contains("dry run"), "{planned}");
    assert_eq!(
        row(&planned, TOPIC).expect("a plan row")[2..4],
        ["50", "10"]
    );
    assert_eq!(
        committed(&broker),
        [Some(PER_PARTITION); 2],
        "after a dry run"
    );

    success(
        &broker,
        &[
            "reset-offsets",
            "--group",
            GROUP,
            "--topic",
            TOPIC,
            "--to-offset",
            "10",
            "--execute",
        ],
    );
    assert_eq!(committed(&broker), [Some(10); 2]);
    assert_resumes_at(&broker, 10);

    success(
        &broker,
        &[
            "reset-offsets",
            "--group",
            GROUP,
            "--topic",
            TOPIC,
            "--to-datetime",
            "2100-01-01T00:00:00Z",
            "--execute",
        ],
    );
    assert_eq!(
        committed(&broker),
        [Some(PER_PARTITION); 2],
        "no record after 2100"
    );
    success(
        &broker,
        &[
            "reset-offsets",
            "--group",
            GROUP,
            "--topic",
            TOPIC,
            "--to-earliest",
            "--execute",
        ],
    );
    assert_eq!(committed(&broker), [Some(0); 2]);

    assert_eq!(
        success(&broker, &["delete", "--group", GROUP]).trim(),
        format!("deleted group {GROUP}")
    );
    let listed = success(&broker, &["list"]);
    assert_eq!(row(&listed, GROUP), None, "{listed}");
    let missing = failure(&broker, &["describe", "--group", GROUP]);
    assert!(missing.contains("does not exist"), "{missing}");
}

fn committed(broker: &Broker) -> Vec<Option<i64>> {
    groups::committed(&broker.bootstrap(), GROUP, TOPIC, PARTITIONS).expect("OffsetFetch")
}

fn wait_for_state(broker: &Broker, state: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let listed = success(broker, &["list", "--state", state]);
        if row(&listed, GROUP).is_some() {
            return;
        }
        assert!(Instant::now() < deadline, "{GROUP} never {state}: {listed}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A new member starts every partition at `offset`; it closes without committing.
fn assert_resumes_at(broker: &Broker, offset: i64) {
    let mut member = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    groups::poll_until(
        &mut [&mut member],
        TIMEOUT,
        "a record of each partition",
        |m| m[0].seen.len() == PARTITIONS as usize,
    );
    for (partition, offsets) in &member.seen {
        assert_eq!(offsets.first(), Some(&offset), "partition {partition}");
    }
}
