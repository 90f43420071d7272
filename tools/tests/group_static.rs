//! Static membership (KIP-345): a member restarted with the same `group.instance.id` within the
//! session timeout takes its old seat: the other member sees no rebalance and keeps its
//! partitions, and the restarted member gets its old partitions back.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pinlog_tools::client::Client;

use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "seats";
const GROUP: &str = "statics";
const PARTITIONS: i32 = 4;
/// Long enough for a restart to fit well inside it.
const STATIC_SESSION_TIMEOUT_MS: &str = "10000";
/// How long the other member is watched for a rebalance after the restart: several heartbeats.
const QUIET_PERIOD: Duration = Duration::from_secs(3);

fn static_member(broker: &Broker, instance: &str) -> Member {
    Member::join(
        &broker.bootstrap(),
        GROUP,
        TOPIC,
        &[
            ("group.instance.id", instance),
            ("session.timeout.ms", STATIC_SESSION_TIMEOUT_MS),
        ],
    )
}

#[test]
fn a_static_member_restarted_within_the_session_timeout_causes_no_rebalance() {
    let broker = Broker::start_with_config("group-static", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);

    let mut steady = static_member(&broker, "steady");
    let mut restarted = static_member(&broker, "restarted");
    groups::wait_for_split(&mut [&mut steady, &mut restarted], PARTITIONS, TIMEOUT);
    // Let a late second rebalance (both joined at nearly the same time) settle first.
    poll_for(&mut [&mut steady, &mut restarted], QUIET_PERIOD);
    assert!(groups::is_split(&[&mut steady, &mut restarted], PARTITIONS));
    let steady_partitions = steady.assigned();
    let restarted_partitions = restarted.assigned();
    let steady_rebalances = steady.rebalances();
    let before = members_by_instance(&broker);

    // A static member's close sends no LeaveGroup (librdkafka, as KIP-345 says).
    drop(restarted);
    let mut restarted = static_member(&broker, "restarted");
    let rejoined = Instant::now();
    groups::poll_until(
        &mut [&mut steady, &mut restarted],
        TIMEOUT,
        "the restarted member gets its partitions back",
        |members| !members[1].assigned().is_empty(),
    );
    eprintln!("seat taken back in {:?}", rejoined.elapsed());
    poll_for(&mut [&mut steady, &mut restarted], QUIET_PERIOD);

    assert_eq!(
        restarted.assigned(),
        restarted_partitions,
        "restarted member"
    );
    assert_eq!(steady.assigned(), steady_partitions, "steady member");
    let after = members_by_instance(&broker);
    assert_eq!(
        after["steady"], before["steady"],
        "the steady member's id (DescribeGroups)"
    );
    assert_ne!(
        after["restarted"], before["restarted"],
        "the restarted member has a new member id"
    );
    assert_eq!(
        steady.rebalances(),
        steady_rebalances,
        "rebalance callbacks of the steady member"
    );
}

/// Instance id to member id of the group's members, from DescribeGroups; the group must be
/// Stable with two members.
fn members_by_instance(broker: &Broker) -> BTreeMap<String, String> {
    let mut client = Client::connect(&broker.bootstrap()).expect("connecting");
    let described = client.describe_group(GROUP).expect("DescribeGroups");
    assert_eq!(described.group_state, "Stable");
    assert_eq!(described.members.len(), 2, "{:?}", described.members);
    described
        .members
        .into_iter()
        .map(|m| (m.group_instance_id.unwrap_or_default(), m.member_id))
        .collect()
}

fn poll_for(members: &mut [&mut Member], period: Duration) {
    let end = Instant::now() + period;
    while Instant::now() < end {
        for member in members.iter_mut() {
            member.poll(Duration::from_millis(20));
        }
    }
}
