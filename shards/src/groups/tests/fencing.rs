//! Who may do what: generations, member ids, protocols, bounds, and OffsetCommit's rules.

use super::*;

#[test]
fn stale_generations_are_fenced_everywhere() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let member = &outputs[1].member_id;
    assert_eq!(h.heartbeat(member, 0), ErrorCode::IllegalGeneration);
    let sync = h.sync(sync_input(member, 2));
    assert_eq!(h.sync_output(sync).error, ErrorCode::IllegalGeneration);
    let commit = |h: &Harness, generation: i32, member_id: &str| {
        h.coordinator
            .validate_offset_commit(GROUP, generation, member_id, None)
    };
    assert_eq!(commit(&h, 0, member), ErrorCode::IllegalGeneration);
    assert_eq!(commit(&h, 1, member), ErrorCode::None);
    assert_eq!(commit(&h, 1, "stranger"), ErrorCode::UnknownMemberId);
    assert_eq!(h.heartbeat("stranger", 1), ErrorCode::UnknownMemberId);
    let sync = h.sync(sync_input("stranger", 1));
    assert_eq!(h.sync_output(sync).error, ErrorCode::UnknownMemberId);
}

#[test]
fn offset_commit_rules_follow_kafka() {
    let mut h = Harness::new();
    let commit = |h: &Harness, generation: i32, member_id: &str| {
        h.coordinator
            .validate_offset_commit(GROUP, generation, member_id, None)
    };
    // A group nobody joined: simple consumers commit; a generation is stale.
    assert_eq!(commit(&h, -1, ""), ErrorCode::None);
    assert_eq!(commit(&h, 3, "m"), ErrorCode::IllegalGeneration);

    let first = h.join(join_input("", "c1"));
    let second = h.join(join_input("", "c2"));
    h.advance_until_answered(&[first, second]);
    let outputs = joined(&h, &[first, second]);
    let member = outputs[1].member_id.clone();
    // Between JoinGroup and the assignment nobody commits.
    assert_eq!(commit(&h, 1, &member), ErrorCode::RebalanceInProgress);
    assert_eq!(
        commit(&h, -1, ""),
        ErrorCode::UnknownMemberId,
        "group has members"
    );
    sync_all(&mut h, &outputs);
    assert_eq!(commit(&h, 1, &member), ErrorCode::None);
    // While a rebalance is prepared, the current generation may still commit.
    h.join(join_input("", "c3"));
    assert_eq!(h.state().state, "PreparingRebalance");
    assert_eq!(commit(&h, 1, &member), ErrorCode::None);
    assert_eq!(commit(&h, -1, &member), ErrorCode::IllegalGeneration);

    h.leave(outputs.iter().map(|o| leaving(&o.member_id)).collect());
    h.advance(i64::from(REBALANCE_MS));
    assert_eq!(h.state().state, "Empty");
    assert_eq!(commit(&h, -1, ""), ErrorCode::None);
    assert_eq!(commit(&h, -1, "anyone"), ErrorCode::None);
}

#[test]
fn protocol_is_chosen_by_vote_among_common_protocols() {
    let mut h = Harness::new();
    let protocols = |names: &[&str]| -> Vec<(String, Bytes)> {
        names
            .iter()
            .map(|n| (n.to_string(), Bytes::from(format!("meta-{n}"))))
            .collect()
    };
    let with = |client: &str, names: &[&str]| JoinInput {
        protocols: protocols(names),
        ..join_input("", client)
    };
    let tokens = [
        h.join(with("c1", &["cooperative-sticky", "range"])),
        h.join(with("c2", &["range", "roundrobin", "cooperative-sticky"])),
        h.join(with("c3", &["range", "cooperative-sticky"])),
    ];
    // Nothing in common with the group: refused.
    let misfit = h.join(with("c4", &["roundrobin"]));
    assert_eq!(
        h.join_output(misfit).error,
        ErrorCode::InconsistentGroupProtocol
    );
    let wrong_type = h.join(JoinInput {
        protocol_type: "connect".into(),
        ..join_input("", "c5")
    });
    assert_eq!(
        h.join_output(wrong_type).error,
        ErrorCode::InconsistentGroupProtocol
    );
    h.advance_until_answered(&tokens);
    let outputs = joined(&h, &tokens);
    // range has two first-choice votes, cooperative-sticky one; roundrobin is not common.
    assert_eq!(outputs[0].protocol_name.as_deref(), Some("range"));
    assert!(outputs[0]
        .members
        .iter()
        .all(|m| m.metadata == "meta-range"));
    let sync = h.sync(SyncInput {
        protocol_name: Some("cooperative-sticky".into()),
        ..sync_input(&outputs[0].member_id, 1)
    });
    assert_eq!(
        h.sync_output(sync).error,
        ErrorCode::InconsistentGroupProtocol
    );
    let sync = h.sync(SyncInput {
        protocol_type: Some("connect".into()),
        ..sync_input(&outputs[0].member_id, 1)
    });
    assert_eq!(
        h.sync_output(sync).error,
        ErrorCode::InconsistentGroupProtocol
    );
}

#[test]
fn empty_protocols_are_inconsistent() {
    let mut h = Harness::new();
    let token = h.join(JoinInput {
        protocols: Vec::new(),
        ..join_input("", "c1")
    });
    assert_eq!(
        h.join_output(token).error,
        ErrorCode::InconsistentGroupProtocol
    );
}

#[test]
fn session_timeout_must_be_within_bounds() {
    let mut h = Harness::new();
    for (session_timeout_ms, expected) in [
        (5_999, ErrorCode::InvalidSessionTimeout),
        (1_800_001, ErrorCode::InvalidSessionTimeout),
        (-1, ErrorCode::InvalidSessionTimeout),
        (6_000, ErrorCode::MemberIdRequired),
        (1_800_000, ErrorCode::MemberIdRequired),
    ] {
        let token = h.join(JoinInput {
            session_timeout_ms,
            require_known_member_id: true,
            ..join_input("", "c1")
        });
        assert_eq!(h.join_output(token).error, expected, "{session_timeout_ms}");
    }
}

#[test]
fn group_size_is_bounded() {
    let mut h = Harness::with_config(CoordinatorConfig {
        max_group_size: 2,
        ..CoordinatorConfig::default()
    });
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    let third = h.join(join_input("", "c3"));
    assert_eq!(h.join_output(third).error, ErrorCode::GroupMaxSizeReached);
    assert_eq!(
        h.state().state,
        "Stable",
        "a refused member changes nothing"
    );
    let rejoin = h.join(join_input(&outputs[1].member_id, "c2"));
    assert_eq!(h.join_output(rejoin).error, ErrorCode::None);
}

#[test]
fn requests_for_unknown_groups_and_ids() {
    let mut h = Harness::new();
    let join = h.join(join_input("someone", "c1"));
    assert_eq!(h.join_output(join).error, ErrorCode::UnknownMemberId);
    assert!(
        h.coordinator.list_groups(&[]).is_empty(),
        "no group created"
    );
    let sync = h.sync(sync_input("someone", 1));
    assert_eq!(h.sync_output(sync).error, ErrorCode::UnknownMemberId);
    assert_eq!(h.heartbeat("someone", 1), ErrorCode::UnknownMemberId);
    let left = h.leave(vec![leaving("someone")]);
    assert_eq!(left.members[0].error, ErrorCode::UnknownMemberId);
    let no_group = h.join(JoinInput {
        group_id: String::new(),
        ..join_input("", "c1")
    });
    assert_eq!(h.join_output(no_group).error, ErrorCode::InvalidGroupId);
}

#[test]
fn sync_during_preparing_rebalance_asks_to_rejoin() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1", "c2"]);
    h.join(join_input("", "c3"));
    let sync = h.sync(sync_input(&outputs[1].member_id, 1));
    assert_eq!(h.sync_output(sync).error, ErrorCode::RebalanceInProgress);
}
