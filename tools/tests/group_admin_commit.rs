//! An OffsetCommit from outside a group (generation -1, empty member id, as `reset-offsets
//! --execute` sends it) is refused while the group has members, and accepted once it is empty.

mod support;

use pinlog_tools::client::Client;
use support::groups::{self, Member, FAST_GROUPS_TOML};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "guarded";
const GROUP: &str = "occupied";
const PARTITIONS: i32 = 2;

#[test]
fn an_admin_commit_is_refused_while_the_group_has_members() {
    let broker = Broker::start_with_config("group-admin-commit", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    let mut member = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    groups::poll_until(&mut [&mut member], TIMEOUT, "an assignment", |m| {
        m[0].assigned().len() == PARTITIONS as usize
    });

    let mut client = Client::connect(&broker.bootstrap()).expect("connecting");
    let answers = client
        .commit_offsets_as_admin(GROUP, TOPIC, &[(0, 7), (1, 7)])
        .expect("OffsetCommit");
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert!(
        answers.iter().all(|(_, error)| error.is_some()),
        "a commit from outside a group with a member was accepted: {answers:?}"
    );
    assert_eq!(
        groups::committed(&broker.bootstrap(), GROUP, TOPIC, PARTITIONS).expect("OffsetFetch"),
        [None, None]
    );

    drop(member); // LeaveGroup: the group is now empty
    let answers = client
        .commit_offsets_as_admin(GROUP, TOPIC, &[(0, 7), (1, 7)])
        .expect("OffsetCommit");
    assert_eq!(answers, [(0, None), (1, None)]);
    assert_eq!(
        groups::committed(&broker.bootstrap(), GROUP, TOPIC, PARTITIONS).expect("OffsetFetch"),
        [Some(7), Some(7)]
    );
}
