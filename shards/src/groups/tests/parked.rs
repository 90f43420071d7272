//! Parked requests: cancelled connections and members that hold a rebalance up.

use super::*;

#[test]
fn cancelled_join_of_a_new_member_drops_it() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1"]);
    let newcomer = h.join(join_input("", "c2"));
    h.cancel(newcomer);
    h.advance(1);
    assert_eq!(h.state().members.len(), 1);
    let rejoin = h.join(join_input(&outputs[0].member_id, "c1"));
    let output = h.join_output(rejoin);
    assert_eq!(output.members.len(), 1);
    assert_eq!(output.generation_id, 2);
    assert!(
        !h.done.contains_key(&newcomer),
        "a cancelled token is never answered"
    );
}

#[test]
fn cancelled_sync_is_forgotten_and_the_member_keeps_its_seat() {
    let mut h = Harness::new();
    let first = h.join(join_input("", "c1"));
    let second = h.join(join_input("", "c2"));
    h.advance_until_answered(&[first, second]);
    let outputs = joined(&h, &[first, second]);
    let parked = h.sync(sync_input(&outputs[1].member_id, 1));
    h.cancel(parked);
    let leader_sync = h.sync(leader_sync(&outputs[0]));
    assert_eq!(h.sync_output(leader_sync).error, ErrorCode::None);
    assert!(h.is_parked(parked) && h.outstanding().is_empty());
    let again = h.sync(sync_input(&outputs[1].member_id, 1));
    assert_eq!(
        h.sync_output(again).assignment,
        assignment_for(&outputs[1].member_id)
    );
}

#[test]
fn cancelled_join_of_a_known_member_keeps_its_seat() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let newcomer = h.join(join_input("", "c3"));
    let lost = h.join(join_input(&outputs[0].member_id, "c1"));
    h.cancel(lost);
    let rejoin = h.join(join_input(&outputs[1].member_id, "c2"));
    // Everyone rejoined (the cancelled one too): the generation forms without waiting.
    let next = joined(&h, &[newcomer, rejoin]);
    assert_eq!(next[0].generation_id, 2);
    assert_eq!(
        next[0].leader, outputs[0].member_id,
        "the old leader still leads"
    );
    assert!(h.is_parked(lost));
    // The leader lost its answer; rejoining with the same metadata gets it again.
    let again = h.join(join_input(&outputs[0].member_id, "c1"));
    let output = h.join_output(again);
    assert_eq!(output.generation_id, 2);
    assert_eq!(output.members.len(), 3);
}

#[test]
fn a_pending_member_holds_the_rebalance_until_it_rejoins_or_leaves() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1"]);
    let pending = h.join(JoinInput {
        require_known_member_id: true,
        ..join_input("", "c2")
    });
    let pending_id = h.join_output(pending).member_id;
    let rejoin = h.join(join_input(&outputs[0].member_id, "c1"));
    assert!(
        h.is_parked(rejoin),
        "waits for the member it handed an id to"
    );
    let left = h.leave(vec![leaving(&pending_id)]);
    assert_eq!(left.members[0].error, ErrorCode::None);
    let output = h.join_output(rejoin);
    assert_eq!(output.generation_id, 2);
    assert_eq!(output.members.len(), 1);
}

#[test]
fn next_deadline_tracks_the_earliest_timer() {
    let mut h = Harness::new();
    assert_eq!(h.coordinator.next_deadline_ms(), None);
    h.join(join_input("", "c1"));
    assert_eq!(h.coordinator.next_deadline_ms(), Some(h.now_ms + 3_000));
    h.coordinator.ensure_group("offsets-only");
    assert_eq!(h.coordinator.next_deadline_ms(), Some(h.now_ms + 3_000));
}
