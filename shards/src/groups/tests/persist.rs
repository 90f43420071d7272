//! A group restored from its record after a coordinator restart keeps its generation, members
//! and assignments; members that come back in time carry on with no rebalance, silent ones are
//! removed.

use pinlog_protocol::error_code::ErrorCode;

use super::*;

#[test]
fn a_restored_stable_group_carries_on_without_a_rebalance() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["a", "b"]);
    let record = h
        .coordinator
        .group_record(GROUP)
        .expect("a Stable group has a record");
    assert_eq!(record.members.len(), 2);

    let mut restarted = Harness::new();
    restarted
        .coordinator
        .restore_group(restarted.now_ms, GROUP, record.clone());
    assert_eq!(restarted.coordinator.group_record(GROUP), Some(record));
    assert_eq!(restarted.state().state, "Stable");
    for output in &outputs {
        assert_eq!(
            restarted.heartbeat(&output.member_id, output.generation_id),
            ErrorCode::None
        );
        let token = restarted.sync(sync_input(&output.member_id, output.generation_id));
        let synced = restarted.sync_output(token);
        assert_eq!(synced.assignment, assignment_for(&output.member_id));
    }
}

#[test]
fn a_member_silent_after_the_restart_is_removed_and_the_group_rebalances() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["a", "b"]);
    let record = h.coordinator.group_record(GROUP).unwrap();
    let mut restarted = Harness::new();
    restarted
        .coordinator
        .restore_group(restarted.now_ms, GROUP, record);
    let (alive, silent) = (&outputs[0], &outputs[1]);
    for _ in 0..3 {
        restarted.now_ms += i64::from(SESSION_MS) / 2;
        restarted.coordinator.tick(restarted.now_ms);
        let _ = restarted.heartbeat(&alive.member_id, alive.generation_id);
    }
    assert_eq!(
        restarted.heartbeat(&alive.member_id, alive.generation_id),
        ErrorCode::RebalanceInProgress
    );
    let described = restarted.coordinator.describe_group(GROUP);
    assert!(described
        .members
        .iter()
        .all(|m| m.member_id != silent.member_id));
}

#[test]
fn an_empty_group_keeps_its_protocol_type_and_generation() {
    let mut h = Harness::new();
    let outputs = stable_group(&mut h, &["a"]);
    h.coordinator
        .leave_group(h.now_ms, GROUP, vec![leaving(&outputs[0].member_id)]);
    let record = h.coordinator.group_record(GROUP).unwrap();
    assert!(record.members.is_empty());
    let mut restarted = Harness::new();
    restarted
        .coordinator
        .restore_group(restarted.now_ms, GROUP, record.clone());
    assert_eq!(restarted.state().state, "Empty");
    assert_eq!(restarted.coordinator.group_record(GROUP), Some(record));
}
