//! Each client-side assignor librdkafka offers works through the coordinator with two members:
//! range, roundrobin and cooperative-sticky each split a 4-partition topic, and together the
//! members consume every record.

mod support;

use std::time::{Duration, Instant};

use support::groups::{self, Member, Seen, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "assigned";
const PARTITIONS: i32 = 4;
const RECORDS: usize = 400;

/// Two members with `strategy` split the topic and consume it; returns their assignments.
fn two_members_with(strategy: &str) -> [Vec<i32>; 2] {
    let broker = Broker::start_with_config(
        &format!("group-assignor-{strategy}"),
        1,
        Some(FAST_GROUPS_TOML),
    );
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);
    let settings = [("partition.assignment.strategy", strategy)];
    let mut first = Member::join(&broker.bootstrap(), strategy, TOPIC, &settings);
    let mut second = Member::join(&broker.bootstrap(), strategy, TOPIC, &settings);
    groups::wait_for_split(&mut [&mut first, &mut second], PARTITIONS, TIMEOUT);

    let ends = groups::spread_ends(PARTITIONS, RECORDS);
    let deadline = Instant::now() + TIMEOUT;
    while !groups::missing(&[&first.seen, &second.seen], &ends).is_empty()
        && Instant::now() < deadline
    {
        first.poll(Duration::from_millis(20));
        second.poll(Duration::from_millis(20));
    }
    let seen: [&Seen; 2] = [&first.seen, &second.seen];
    groups::assert_no_gaps(&seen, &ends);
    assert!(
        groups::is_split(&[&mut first, &mut second], PARTITIONS),
        "still split after consuming"
    );
    [first.assigned(), second.assigned()]
}

/// The two assignments in a fixed order, whichever member got which.
fn sorted(mut assignments: [Vec<i32>; 2]) -> [Vec<i32>; 2] {
    assignments.sort();
    assignments
}

#[test]
fn range_gives_each_member_a_contiguous_half() {
    assert_eq!(sorted(two_members_with("range")), [vec![0, 1], vec![2, 3]]);
}

#[test]
fn roundrobin_deals_the_partitions_alternately() {
    assert_eq!(
        sorted(two_members_with("roundrobin")),
        [vec![0, 2], vec![1, 3]]
    );
}

#[test]
fn cooperative_sticky_splits_the_partitions_evenly() {
    let [first, second] = two_members_with("cooperative-sticky");
    assert_eq!((first.len(), second.len()), (2, 2), "{first:?} {second:?}");
}
