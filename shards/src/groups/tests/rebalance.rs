//! Joining, rebalancing and leaving: the paths every consumer group takes.

use super::*;

#[test]
fn two_members_rebalance_and_heartbeat() {
    let mut h = Harness::new();
    let first = h.join(join_input("", "c1"));
    let second = h.join(join_input("", "c2"));
    assert!(h.is_parked(first) && h.is_parked(second));
    h.advance_until_answered(&[first, second]);

    let outputs = joined(&h, &[first, second]);
    let (leader, follower) = (&outputs[0], &outputs[1]);
    assert_eq!(leader.generation_id, 1);
    assert_eq!(leader.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(leader.protocol_name.as_deref(), Some("range"));
    assert!(leader.member_id.starts_with("c1-"), "first joiner leads");
    assert_eq!(follower.leader, leader.member_id);
    assert!(follower.members.is_empty(), "followers see no metadata");
    let metadata: Vec<(String, Bytes)> = leader
        .members
        .iter()
        .map(|m| (m.member_id.clone(), m.metadata.clone()))
        .collect();
    assert_eq!(
        metadata,
        [
            (leader.member_id.clone(), Bytes::from("sub-c1")),
            (follower.member_id.clone(), Bytes::from("sub-c2")),
        ]
    );
    assert_eq!(h.state().state, "CompletingRebalance");

    sync_all(&mut h, &outputs);
    assert_eq!(h.state().state, "Stable");
    for output in &outputs {
        assert_eq!(h.heartbeat(&output.member_id, 1), ErrorCode::None);
    }
}

#[test]
fn member_id_required_round_trip() {
    let mut h = Harness::new();
    let first = h.join(JoinInput {
        require_known_member_id: true,
        ..join_input("", "c1")
    });
    let answer = h.join_output(first);
    assert_eq!(answer.error, ErrorCode::MemberIdRequired);
    assert!(answer.member_id.starts_with("c1-"));
    assert_eq!(
        answer.member_id.len(),
        "c1-".len() + 36,
        "client id and a uuid"
    );

    let again = h.join(JoinInput {
        require_known_member_id: true,
        ..join_input(&answer.member_id, "c1")
    });
    h.advance(3_000);
    let output = h.join_output(again);
    assert_eq!(output.error, ErrorCode::None);
    assert_eq!(output.member_id, answer.member_id);
    assert_eq!(output.leader, answer.member_id);
}

#[test]
fn pending_member_that_never_rejoins_expires() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1"]);
    let pending = h.join(JoinInput {
        require_known_member_id: true,
        ..join_input("", "c2")
    });
    let pending_id = h.join_output(pending).member_id;
    h.advance(i64::from(SESSION_MS) - 1);
    assert_eq!(h.heartbeat(&outputs[0].member_id, 1), ErrorCode::None);
    h.advance(1);
    let late = h.join(join_input(&pending_id, "c2"));
    assert_eq!(h.join_output(late).error, ErrorCode::UnknownMemberId);
    assert_eq!(
        h.state().state,
        "Stable",
        "a pending member never rebalances"
    );
}

#[test]
fn new_member_makes_heartbeats_ask_for_rejoin() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let third = h.join(join_input("", "c3"));
    assert!(h.is_parked(third));
    assert_eq!(h.state().state, "PreparingRebalance");
    for output in &outputs {
        assert_eq!(
            h.heartbeat(&output.member_id, 1),
            ErrorCode::RebalanceInProgress
        );
    }
    let rejoins: Vec<Token> = outputs
        .iter()
        .zip(["c1", "c2"])
        .map(|(o, client)| h.join(join_input(&o.member_id, client)))
        .collect();
    let tokens = [rejoins[0], rejoins[1], third];
    let outputs = joined(&h, &tokens);
    assert!(outputs.iter().all(|o| o.generation_id == 2));
    assert_eq!(outputs[0].members.len(), 3);
    assert_eq!(outputs[0].member_id, h.join_output(rejoins[0]).member_id);
    sync_all(&mut h, &outputs);
}

#[test]
fn leaving_member_triggers_rebalance() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let left = h.leave(vec![leaving(&outputs[1].member_id), leaving("nobody")]);
    assert_eq!(left.error, ErrorCode::None);
    let errors: Vec<ErrorCode> = left.members.iter().map(|m| m.error).collect();
    assert_eq!(errors, [ErrorCode::None, ErrorCode::UnknownMemberId]);
    assert_eq!(h.state().state, "PreparingRebalance");
    let leader = &outputs[0];
    assert_eq!(
        h.heartbeat(&leader.member_id, 1),
        ErrorCode::RebalanceInProgress
    );
    let rejoin = h.join(join_input(&leader.member_id, "c1"));
    let output = h.join_output(rejoin);
    assert_eq!(output.generation_id, 2);
    assert_eq!(output.members.len(), 1);
}

#[test]
fn last_member_leaving_empties_the_group() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1"]);
    h.leave(vec![leaving(&outputs[0].member_id)]);
    let description = h.state();
    assert_eq!(description.state, "Empty");
    assert_eq!(description.protocol_type, "consumer");
    assert!(description.members.is_empty());
}

#[test]
fn silent_member_expires_and_the_other_takes_everything() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let (alive, silent) = (&outputs[0], &outputs[1]);
    h.advance(i64::from(SESSION_MS) / 2);
    assert_eq!(h.heartbeat(&alive.member_id, 1), ErrorCode::None);
    h.advance(i64::from(SESSION_MS) / 2 - 1);
    assert_eq!(h.state().state, "Stable");
    h.advance(1);
    assert_eq!(h.state().members.len(), 1, "silent member expired");
    assert_eq!(
        h.heartbeat(&alive.member_id, 1),
        ErrorCode::RebalanceInProgress
    );
    assert_eq!(
        h.heartbeat(&silent.member_id, 1),
        ErrorCode::UnknownMemberId
    );
    let rejoin = h.join(join_input(&alive.member_id, "c1"));
    let output = h.join_output(rejoin);
    assert_eq!(output.generation_id, 2);
    assert_eq!(output.members.len(), 1);
    sync_all(&mut h, &[output]);
}

#[test]
fn rebalance_timeout_removes_members_that_did_not_rejoin() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let third = h.join(join_input("", "c3"));
    let rejoin = h.join(join_input(&outputs[0].member_id, "c1"));
    // The member that never rejoins still heartbeats, but that does not save it.
    for _ in 0..5 {
        h.advance(i64::from(REBALANCE_MS) / 5 - 1);
        h.heartbeat(&outputs[1].member_id, 1);
    }
    assert!(h.is_parked(third));
    h.advance(5);
    let outputs_now = joined(&h, &[rejoin, third]);
    assert_eq!(outputs_now[0].generation_id, 2);
    assert_eq!(outputs_now[0].members.len(), 2);
    assert_eq!(
        h.heartbeat(&outputs[1].member_id, 2),
        ErrorCode::UnknownMemberId
    );
}

#[test]
fn leader_that_does_not_rejoin_is_replaced() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let rejoin = h.join(JoinInput {
        protocols: vec![("range".into(), Bytes::from("new topics"))],
        ..join_input(&outputs[1].member_id, "c2")
    });
    h.advance(i64::from(REBALANCE_MS));
    let output = h.join_output(rejoin);
    assert_eq!(output.leader, outputs[1].member_id);
    assert_eq!(output.members.len(), 1);
    assert_eq!(output.members[0].metadata, Bytes::from("new topics"));
}

#[test]
fn follower_sync_waits_for_the_leader() {
    let mut h = Harness::new();
    let first = h.join(join_input("", "c1"));
    let second = h.join(join_input("", "c2"));
    h.advance_until_answered(&[first, second]);
    let outputs = joined(&h, &[first, second]);
    let (leader, follower) = (&outputs[0], &outputs[1]);
    let follower_sync = h.sync(sync_input(&follower.member_id, 1));
    assert!(h.is_parked(follower_sync));
    // Waiting in SyncGroup counts as alive, however long the leader takes (it heartbeats).
    for _ in 0..4 {
        h.advance(i64::from(SESSION_MS) / 2);
        assert_eq!(h.heartbeat(&leader.member_id, 1), ErrorCode::None);
    }
    assert!(h.is_parked(follower_sync));
    let leader_sync = h.sync(leader_sync(leader));
    assert_eq!(h.sync_output(leader_sync).error, ErrorCode::None);
    let synced = h.sync_output(follower_sync);
    assert_eq!(synced.error, ErrorCode::None);
    assert_eq!(synced.assignment, assignment_for(&follower.member_id));
    assert_eq!(synced.protocol_name.as_deref(), Some("range"));
}

#[test]
fn members_that_never_sync_are_removed() {
    let mut h = Harness::new();
    let first = h.join(join_input("", "c1"));
    let second = h.join(join_input("", "c2"));
    h.advance_until_answered(&[first, second]);
    let outputs = joined(&h, &[first, second]);
    let follower_sync = h.sync(sync_input(&outputs[1].member_id, 1));
    // The leader heartbeats but never sends the assignment.
    for _ in 0..6 {
        assert!(h.is_parked(follower_sync));
        h.advance(i64::from(REBALANCE_MS) / 6);
        h.heartbeat(&outputs[0].member_id, 1);
    }
    assert_eq!(
        h.sync_output(follower_sync).error,
        ErrorCode::RebalanceInProgress
    );
    let description = h.state();
    assert_eq!(description.members.len(), 1, "the leader never synced");
    assert_eq!(description.members[0].member_id, outputs[1].member_id);
}

#[test]
fn initial_delay_waits_for_more_members_up_to_the_rebalance_timeout() {
    let mut h = Harness::with_config(CoordinatorConfig {
        initial_rebalance_delay_ms: 3_000,
        ..CoordinatorConfig::default()
    });
    let mut tokens = vec![h.join(JoinInput {
        rebalance_timeout_ms: 10_000,
        ..join_input("", "c0")
    })];
    // A new member every 2.5 s keeps extending the delay, but not past 10 s in total.
    for i in 1..10 {
        h.advance(2_500);
        if h.state().state != "PreparingRebalance" {
            break;
        }
        tokens.push(h.join(join_input("", &format!("c{i}"))));
    }
    let formed: Vec<&Token> = tokens.iter().filter(|t| !h.is_parked(**t)).collect();
    assert!(!formed.is_empty(), "the first generation formed");
    assert!(h.now_ms - 1_000_000 <= 12_500);
    let output = h.join_output(tokens[0]);
    assert_eq!(output.generation_id, 1);
    assert!(
        output.members.len() >= 4,
        "{} members",
        output.members.len()
    );
}

#[test]
fn initial_delay_holds_a_lone_member() {
    let mut h = Harness::new();
    let token = h.join(join_input("", "c1"));
    h.advance(2_999);
    assert!(h.is_parked(token));
    h.advance(1);
    assert_eq!(h.join_output(token).generation_id, 1);
}
