//! Group metadata survives the coordinator: after a SIGKILL and restart of the broker, the
//! members of a Stable group carry on with their generation and partitions, with no rebalance,
//! because the group (members and assignments) was a record in `__consumer_offsets`.

mod support;

use std::time::{Duration, Instant};

use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "enduring";
const GROUP: &str = "survivors";
const PARTITIONS: i32 = 4;
const RECORDS: usize = 400;
/// Long enough for the broker's restart to fit well inside it.
const SESSION_TIMEOUT_MS: &str = "15000";
/// How long the members are watched after the restart: many heartbeats.
const QUIET_PERIOD: Duration = Duration::from_secs(4);

fn member(broker: &Broker) -> Member {
    Member::join(
        &broker.bootstrap(),
        GROUP,
        TOPIC,
        &[("session.timeout.ms", SESSION_TIMEOUT_MS)],
    )
}

fn poll_for(members: &mut [&mut Member], period: Duration) {
    let until = Instant::now() + period;
    while Instant::now() < until {
        for member in members.iter_mut() {
            member.poll(Duration::from_millis(50));
        }
    }
}

#[test]
fn members_of_a_stable_group_carry_on_after_the_broker_is_killed() {
    let mut broker = Broker::start_with_config("group-broker-restart", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);

    let mut first = member(&broker);
    let mut second = member(&broker);
    groups::wait_for_split(&mut [&mut first, &mut second], PARTITIONS, TIMEOUT);
    poll_for(&mut [&mut first, &mut second], Duration::from_secs(2));
    assert!(groups::is_split(&[&mut first, &mut second], PARTITIONS));
    let partitions = (first.assigned(), second.assigned());
    let rebalances = (first.rebalances(), second.rebalances());

    broker.kill9();
    broker.restart();
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS);
    groups::poll_until(
        &mut [&mut first, &mut second],
        TIMEOUT,
        "consume after the restart",
        |m| m[0].seen_count() + m[1].seen_count() >= 2 * RECORDS,
    );
    poll_for(&mut [&mut first, &mut second], QUIET_PERIOD);

    assert_eq!(
        (first.rebalances(), second.rebalances()),
        rebalances,
        "no rebalance after the restart; broker log:\n{}",
        broker.stderr()
    );
    assert_eq!((first.assigned(), second.assigned()), partitions);
    let ends = groups::spread_ends(PARTITIONS, 2 * RECORDS);
    groups::assert_no_gaps(&[&first.seen, &second.seen], &ends);
}
