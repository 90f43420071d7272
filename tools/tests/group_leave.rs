//! Two members of one group split a 4-partition topic; when one closes (a clean LeaveGroup),
//! the other owns all four well within the session timeout and, resuming from the leaver's
//! commits, consumes every record at least once with no offset skipped.

mod support;

use std::time::Instant;

use support::groups::{self, Member, FAST_GROUPS_TOML, SESSION_TIMEOUT};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "split";
const GROUP: &str = "leavers";
const PARTITIONS: i32 = 4;
const RECORDS_PER_ROUND: usize = 2_000;

#[test]
fn the_remaining_member_takes_every_partition_after_a_clean_leave() {
    let broker = Broker::start_with_config("group-leave", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS_PER_ROUND);

    let mut stayer = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    let mut leaver = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    groups::wait_for_split(&mut [&mut stayer, &mut leaver], PARTITIONS, TIMEOUT);
    groups::poll_until(
        &mut [&mut stayer, &mut leaver],
        TIMEOUT,
        "both members consume",
        |members| members.iter().all(|m| m.seen_count() >= 100),
    );
    stayer.commit_seen(TOPIC);
    leaver.commit_seen(TOPIC);

    let Member {
        consumer,
        seen: leaver_seen,
    } = leaver;
    let left = Instant::now();
    drop(consumer); // close: LeaveGroup
    groups::poll_until(
        &mut [&mut stayer],
        SESSION_TIMEOUT,
        "the stayer owns every partition",
        |members| members[0].assigned() == [0, 1, 2, 3],
    );
    eprintln!("took over in {:?} after the leave", left.elapsed());

    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS_PER_ROUND);
    let ends = groups::spread_ends(PARTITIONS, 2 * RECORDS_PER_ROUND);
    groups::consume_until_complete(&mut stayer, &[&leaver_seen], &ends);
}
