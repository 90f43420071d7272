//! Expired offsets are cleaned up (Kafka's offsets.retention.minutes): once a group has no
//! members, offsets older than the retention are deleted at the next check, and the group with
//! them. Offsets of a group that still has members are kept however old.

mod support;

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::groups::GroupList;
use support::groups::{self, Member};
use support::kafka::TIMEOUT;
use support::{kafka, Broker};

const TOPIC: &str = "fleeting";
const PARTITIONS: i32 = 2;
const RECORDS: usize = 200;

/// Retention 0: offsets expire at the first check after their group empties; checks every
/// 200 ms.
const EXPIRING_TOML: &str = "group_initial_rebalance_delay_ms = 0\n\
                             group_min_session_timeout_ms = 1000\n\
                             offsets_retention_minutes = 0\n\
                             offsets_retention_check_interval_ms = 200\n";

#[test]
fn offsets_of_an_empty_group_expire_and_the_group_goes_with_them() {
    let broker = Broker::start_with_config("offsets-expiry", 1, Some(EXPIRING_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);

    let mut staying = Member::join(&broker.bootstrap(), "staying", TOPIC, &[]);
    let mut leaving = Member::join(&broker.bootstrap(), "leaving", TOPIC, &[]);
    groups::poll_until(&mut [&mut staying, &mut leaving], TIMEOUT, "consume", |m| {
        m.iter().all(|member| member.seen_count() == RECORDS)
    });
    staying.commit_seen(TOPIC);
    leaving.commit_seen(TOPIC);
    let all_committed = vec![Some((RECORDS / 2) as i64); PARTITIONS as usize];
    assert_eq!(leaving.committed(TOPIC, PARTITIONS).unwrap(), all_committed);
    drop(leaving);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        staying.poll(Duration::from_millis(100)); // keeps its membership alive
        let left = groups::committed(&broker.bootstrap(), "leaving", TOPIC, PARTITIONS).unwrap();
        if left.iter().all(Option::is_none) && !listed(&broker, "leaving") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "offsets of the empty group were not expired: {left:?}"
        );
    }
    assert_eq!(
        staying.committed(TOPIC, PARTITIONS).unwrap(),
        all_committed,
        "a group with a member keeps its offsets"
    );
    assert!(listed(&broker, "staying"));
}

fn listed(broker: &Broker, group: &str) -> bool {
    let consumer = kafka::consumer(broker, &[]);
    let groups: GroupList = consumer
        .fetch_group_list(None, TIMEOUT)
        .expect("ListGroups");
    groups.groups().iter().any(|g| g.name() == group)
}
