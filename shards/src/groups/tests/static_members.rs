//! Static membership (KIP-345): a restarted instance takes its seat back without a rebalance.

use super::*;

/// A Stable group of static members; returns their join answers, the leader's first.
fn static_group(h: &mut Harness, instances: &[&str]) -> Vec<JoinOutput> {
    let tokens: Vec<Token> = instances.iter().map(|i| h.join(static_input(i))).collect();
    h.advance_until_answered(&tokens);
    let outputs = joined(h, &tokens);
    for output in &outputs {
        let mut input = if output.leader == output.member_id {
            leader_sync(output)
        } else {
            sync_input(&output.member_id, output.generation_id)
        };
        input.group_instance_id = instance_of(h, &output.member_id);
        let token = h.sync(input);
        assert_eq!(h.sync_output(token).error, ErrorCode::None);
    }
    assert_eq!(h.state().state, "Stable");
    outputs
}

fn instance_of(h: &Harness, member_id: &str) -> Option<String> {
    h.state()
        .members
        .into_iter()
        .find(|m| m.member_id == member_id)
        .and_then(|m| m.group_instance_id)
}

#[test]
fn restarted_static_member_returns_without_rebalance_and_fences_its_old_id() {
    let mut h = Harness::new();
    let outputs = static_group(&mut h, &["s1", "s2"]);
    let (leader, old) = (&outputs[0], &outputs[1]);
    assert!(
        old.member_id.starts_with("s2-"),
        "static ids start with the instance id"
    );

    let restart = h.join(static_input("s2"));
    let output = h.join_output(restart);
    assert_eq!(output.error, ErrorCode::None);
    assert_ne!(output.member_id, old.member_id);
    assert_eq!(output.generation_id, 1, "no new generation");
    assert_eq!(output.leader, leader.member_id);
    assert!(output.members.is_empty());
    assert_eq!(h.state().state, "Stable");

    let sync = h.sync(SyncInput {
        group_instance_id: Some("s2".into()),
        ..sync_input(&output.member_id, 1)
    });
    let synced = h.sync_output(sync);
    assert_eq!(synced.error, ErrorCode::None);
    assert_eq!(
        synced.assignment,
        assignment_for(&old.member_id),
        "the old assignment carries over"
    );

    let fenced = h.heartbeat_static(&old.member_id, Some("s2"), 1);
    assert_eq!(fenced, ErrorCode::FencedInstanceId);
    assert_eq!(h.heartbeat(&old.member_id, 1), ErrorCode::UnknownMemberId);
    let old_sync = h.sync(SyncInput {
        group_instance_id: Some("s2".into()),
        ..sync_input(&old.member_id, 1)
    });
    assert_eq!(h.sync_output(old_sync).error, ErrorCode::FencedInstanceId);
    assert_eq!(
        h.coordinator
            .validate_offset_commit(GROUP, 1, &old.member_id, Some("s2")),
        ErrorCode::FencedInstanceId
    );
    assert_eq!(
        h.heartbeat_static(&leader.member_id, Some("s1"), 1),
        ErrorCode::None
    );
    assert_eq!(
        h.heartbeat_static(&output.member_id, Some("s2"), 1),
        ErrorCode::None
    );
}

#[test]
fn restarted_static_leader_is_not_told_to_assign() {
    let mut h = Harness::new();
    let outputs = static_group(&mut h, &["s1", "s2"]);
    let restart = h.join(static_input("s1"));
    let output = h.join_output(restart);
    assert_eq!(output.error, ErrorCode::None);
    // The old id, so the new instance does not think it leads (pre-v9 JoinGroup).
    assert_eq!(output.leader, outputs[0].member_id);
    assert_ne!(output.member_id, outputs[0].member_id);
    // The next rebalance is led by the new instance.
    let rejoin = h.join(JoinInput {
        member_id: output.member_id.clone(),
        ..static_input("s1")
    });
    let follower = h.join(JoinInput {
        member_id: outputs[1].member_id.clone(),
        ..static_input("s2")
    });
    let next = joined(&h, &[rejoin, follower]);
    assert_eq!(next[0].member_id, output.member_id);
    assert_eq!(next[0].leader, output.member_id);
    assert_eq!(next[0].generation_id, 2);
}

#[test]
fn static_member_removed_by_instance_id() {
    let mut h = Harness::new();
    static_group(&mut h, &["s1", "s2"]);
    let left = h.leave(vec![
        LeavingMember {
            member_id: String::new(),
            group_instance_id: Some("s2".into()),
            reason: Some("scaling down".into()),
        },
        LeavingMember {
            member_id: String::new(),
            group_instance_id: Some("unknown".into()),
            reason: None,
        },
    ]);
    let errors: Vec<ErrorCode> = left.members.iter().map(|m| m.error).collect();
    assert_eq!(errors, [ErrorCode::None, ErrorCode::UnknownMemberId]);
    assert_eq!(h.state().state, "PreparingRebalance");
    assert_eq!(h.state().members.len(), 1);
}

#[test]
fn static_member_session_expiry_still_removes_it() {
    let mut h = Harness::new();
    let outputs = static_group(&mut h, &["s1", "s2"]);
    for _ in 0..4 {
        h.advance(i64::from(SESSION_MS) / 3);
        h.heartbeat_static(&outputs[0].member_id, Some("s1"), 1);
    }
    let description = h.state();
    assert_eq!(description.members.len(), 1);
    assert_eq!(description.members[0].member_id, outputs[0].member_id);
    assert_eq!(description.state, "PreparingRebalance");
}

#[test]
fn static_member_restarting_while_assignments_are_computed_forces_a_rebalance() {
    let mut h = Harness::new();
    let first = h.join(static_input("s1"));
    let second = h.join(static_input("s2"));
    h.advance_until_answered(&[first, second]);
    let outputs = joined(&h, &[first, second]);
    let old_sync = h.sync(SyncInput {
        group_instance_id: Some("s2".into()),
        ..sync_input(&outputs[1].member_id, 1)
    });
    assert!(h.is_parked(old_sync));
    let restart = h.join(static_input("s2"));
    assert_eq!(h.sync_output(old_sync).error, ErrorCode::FencedInstanceId);
    assert!(h.is_parked(restart));
    assert_eq!(h.state().state, "PreparingRebalance");
}

#[test]
fn static_member_that_misses_a_rebalance_keeps_its_seat() {
    let mut h = Harness::new();
    let slow_session = |instance: &str| JoinInput {
        session_timeout_ms: 60_000,
        rebalance_timeout_ms: 5_000,
        ..static_input(instance)
    };
    let tokens = [h.join(slow_session("s1")), h.join(slow_session("s2"))];
    h.advance_until_answered(&tokens);
    let outputs = joined(&h, &tokens);
    let newcomer = h.join(JoinInput {
        rebalance_timeout_ms: 5_000,
        ..join_input("", "c3")
    });
    let rejoin = h.join(JoinInput {
        member_id: outputs[0].member_id.clone(),
        ..slow_session("s1")
    });
    h.advance(5_000);
    let next = joined(&h, &[rejoin, newcomer]);
    assert_eq!(next[0].generation_id, 2);
    let members: Vec<&str> = next[0]
        .members
        .iter()
        .map(|m| m.member_id.as_str())
        .collect();
    assert!(
        members.contains(&outputs[1].member_id.as_str()),
        "{members:?}"
    );
    assert_eq!(members.len(), 3);
}
