//! Committed offsets: a member commits and closes, and a new member of the group starts exactly
//! at the committed offsets; after a SIGKILL of the broker and a restart the offsets are still
//! there and a member resumes at them again.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::TIMEOUT;
use support::{kafka, Broker};

const TOPIC: &str = "resumable";
const GROUP: &str = "resumers";
const PARTITIONS: i32 = 4;
const RECORDS: usize = 2_000;

#[test]
fn a_new_member_resumes_at_the_committed_offsets_even_after_a_broker_kill() {
    let mut broker = Broker::start_with_config("group-resume", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);

    let mut first = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    groups::poll_until(&mut [&mut first], TIMEOUT, "consume part", |m| {
        m[0].seen_count() >= RECORDS / 3
    });
    first.commit_seen(TOPIC);
    let committed: BTreeMap<i32, i64> = first
        .seen
        .iter()
        .filter_map(|(p, offsets)| Some((*p, offsets.iter().max()? + 1)))
        .collect();
    assert_eq!(
        first.committed(TOPIC, PARTITIONS).expect("OffsetFetch"),
        expected_committed(&committed),
        "what OffsetFetch answers right after the commit"
    );
    drop(first);

    assert_resumes_at(&broker, &committed);

    broker.kill9();
    broker.restart();
    let mut attempts = 0;
    let after_restart = loop {
        // The coordinator may still be loading the offsets topic right after the start.
        match groups::committed(&broker.bootstrap(), GROUP, TOPIC, PARTITIONS) {
            Ok(offsets) => break offsets,
            Err(error) if attempts < 50 => {
                attempts += 1;
                eprintln!("OffsetFetch after the restart: {error}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(error) => panic!("OffsetFetch after the restart: {error}"),
        }
    };
    assert_eq!(
        after_restart,
        expected_committed(&committed),
        "committed offsets after kill -9 and restart"
    );
    assert_resumes_at(&broker, &committed);
}

/// Per partition, the committed offset or None where the first member saw nothing.
fn expected_committed(committed: &BTreeMap<i32, i64>) -> Vec<Option<i64>> {
    (0..PARTITIONS)
        .map(|p| committed.get(&p).copied())
        .collect()
}

/// A new member of GROUP starts each partition at its committed offset (0 where none).
fn assert_resumes_at(broker: &Broker, committed: &BTreeMap<i32, i64>) {
    let mut member = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    let ends = groups::spread_ends(PARTITIONS, RECORDS);
    groups::poll_until(
        &mut [&mut member],
        TIMEOUT,
        "a record of each partition",
        |m| {
            (0..PARTITIONS).all(|p| {
                let start = committed.get(&p).copied().unwrap_or(0);
                start == ends[&p] || m[0].seen.contains_key(&p)
            })
        },
    );
    for (partition, offsets) in &member.seen {
        let start = committed.get(partition).copied().unwrap_or(0);
        assert_eq!(
            offsets.first().copied(),
            Some(start),
            "partition {partition}: the first offset the new member consumed"
        );
    }
    // Closed without committing: the next member must find the same offsets.
}
