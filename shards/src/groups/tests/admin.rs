//! DescribeGroups, ListGroups, DeleteGroups and offset-only groups.

use super::*;

#[test]
fn describe_shows_members_and_their_assignment_once_stable() {
    let mut h = Harness::new();
    let first = h.join(join_input("", "c1"));
    let description = h.state();
    assert_eq!(description.state, "PreparingRebalance");
    assert_eq!(
        description.protocol, "",
        "no protocol before the group settles"
    );
    h.advance_until_answered(&[first]);
    let output = h.join_output(first);
    sync_all(&mut h, std::slice::from_ref(&output));

    let description = h.state();
    assert_eq!(description.error, ErrorCode::None);
    assert_eq!(description.state, "Stable");
    assert_eq!(description.protocol_type, "consumer");
    assert_eq!(description.protocol, "range");
    assert_eq!(
        description.members,
        [DescribedMember {
            member_id: output.member_id.clone(),
            group_instance_id: None,
            client_id: "c1".into(),
            client_host: "/127.0.0.1".into(),
            metadata: Bytes::from("sub-c1"),
            assignment: assignment_for(&output.member_id),
        }]
    );
}

#[test]
fn unknown_groups_are_described_as_dead() {
    let h = Harness::new();
    let description = h.coordinator.describe_group("nope");
    assert_eq!(description.error, ErrorCode::None);
    assert_eq!(description.state, "Dead");
    assert!(description.members.is_empty());
}

#[test]
fn list_filters_by_state_ignoring_case() {
    let mut h = Harness::new();
    stable_group(&mut h, &["c1"]);
    h.coordinator.ensure_group("offsets-only");
    let all = h.coordinator.list_groups(&[]);
    assert_eq!(
        all,
        [
            ("g".into(), "consumer".into(), "Stable".into()),
            ("offsets-only".into(), String::new(), "Empty".into()),
        ]
    );
    let empty = h.coordinator.list_groups(&["empty".into()]);
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].0, "offsets-only");
    let both = h
        .coordinator
        .list_groups(&["Stable".into(), "EMPTY".into()]);
    assert_eq!(both.len(), 2);
    assert!(h.coordinator.list_groups(&["Dead".into()]).is_empty());
}

#[test]
fn delete_refuses_groups_with_members() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["c1"]);
    assert_eq!(h.coordinator.delete_group(GROUP), ErrorCode::NonEmptyGroup);
    assert_eq!(
        h.coordinator.delete_group("never"),
        ErrorCode::GroupIdNotFound
    );
    h.leave(vec![leaving(&outputs[0].member_id)]);
    assert_eq!(h.coordinator.delete_group(GROUP), ErrorCode::None);
    assert_eq!(h.state().state, "Dead");
    assert_eq!(
        h.coordinator.delete_group(GROUP),
        ErrorCode::GroupIdNotFound
    );
}

#[test]
fn offset_only_groups_are_empty_and_joinable() {
    let mut h = Harness::new();
    assert!(h.coordinator.ensure_group(GROUP));
    assert!(h.coordinator.ensure_group(GROUP));
    let description = h.state();
    assert_eq!(description.state, "Empty");
    assert_eq!(description.protocol_type, "");
    assert_eq!(
        h.coordinator.validate_offset_commit(GROUP, -1, "", None),
        ErrorCode::None
    );
    let token = h.join(join_input("", "c1"));
    h.advance_until_answered(&[token]);
    assert_eq!(h.join_output(token).generation_id, 1);
    assert_eq!(h.coordinator.delete_group(GROUP), ErrorCode::NonEmptyGroup);
}
