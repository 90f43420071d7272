//! Two groups whose coordinators are on different shards of one broker (`--shards 2`) run side
//! by side on one topic: each consumes everything, and each keeps its own committed offsets.

mod support;

use std::time::{Duration, Instant};

use pinlog_shards::group_manager::offsets_partition;
use pinlog_shards::router::owner;
use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "shared";
const PARTITIONS: i32 = 4;
const RECORDS: usize = 1_000;
const SHARDS: usize = 2;
/// The broker's default `offsets_topic_partitions`.
const OFFSETS_PARTITIONS: i32 = 16;

/// The first group id `group-N` whose coordinator is `shard`.
fn group_on_shard(shard: usize) -> String {
    (0..)
        .map(|n| format!("group-{n}"))
        .find(|group| {
            let partition = offsets_partition(group, OFFSETS_PARTITIONS);
            owner("__consumer_offsets", partition, SHARDS) == shard
        })
        .expect("some group id lands on every shard")
}

#[test]
fn groups_coordinated_by_different_shards_work_side_by_side() {
    let broker = Broker::start_with_config("group-two-shards", SHARDS, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);
    let (group_a, group_b) = (group_on_shard(0), group_on_shard(1));

    let mut a = Member::join(&broker.bootstrap(), &group_a, TOPIC, &[]);
    let mut b = Member::join(&broker.bootstrap(), &group_b, TOPIC, &[]);
    let ends = groups::spread_ends(PARTITIONS, RECORDS);
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline
        && !(groups::missing(&[&a.seen], &ends).is_empty()
            && groups::missing(&[&b.seen], &ends).is_empty())
    {
        a.poll(Duration::from_millis(20));
        b.poll(Duration::from_millis(20));
    }
    groups::assert_no_gaps(&[&a.seen], &ends);
    groups::assert_no_gaps(&[&b.seen], &ends);

    // Group A commits everything, group B only the first ten records of each partition.
    a.commit_seen(TOPIC);
    for offsets in b.seen.values_mut() {
        offsets.retain(|offset| *offset < 10);
    }
    b.commit_seen(TOPIC);
    drop((a, b));

    let everything: Vec<Option<i64>> = ends.values().map(|end| Some(*end)).collect();
    let ten_each = vec![Some(10); PARTITIONS as usize];
    let bootstrap = broker.bootstrap();
    assert_eq!(
        groups::committed(&bootstrap, &group_a, TOPIC, PARTITIONS).expect("OffsetFetch"),
        everything,
        "{group_a}, coordinated by shard 0"
    );
    assert_eq!(
        groups::committed(&bootstrap, &group_b, TOPIC, PARTITIONS).expect("OffsetFetch"),
        ten_each,
        "{group_b}, coordinated by shard 1"
    );
}
