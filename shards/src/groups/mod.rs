//! The classic consumer-group coordinator (Kafka's GroupCoordinator / ClassicGroup): JoinGroup,
//! SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups and the group
//! checks of OffsetCommit, as a sans-IO state machine.
//!
//! How it is driven (the raft-rs `Ready` pattern): the shard that owns the group's
//! `__consumer_offsets` partition owns one [`Coordinator`] and calls it with each request and
//! the current time. A request either gets its answer at once or is parked under the wiring's
//! [`Token`] (a JoinGroup waiting for the other members, a SyncGroup waiting for the leader);
//! parked answers come out of [`Coordinator::take_completions`] after any call. Time only
//! passes through `now_ms` arguments: the wiring arms one timer for
//! [`Coordinator::next_deadline_ms`] and calls [`Coordinator::tick`] when it fires. Nothing
//! here does I/O, reads a clock or panics on client input, so every rule is unit-tested.
//!
//! Group membership is not persisted: after a restart members get UNKNOWN_MEMBER_ID and
//! rejoin. Committed offsets are the wiring's (the `__consumer_offsets` log); a group known
//! only through them is registered with [`Coordinator::ensure_group`]. An Empty group stays
//! until [`Coordinator::delete_group`] (admin DeleteGroups, or the wiring when the group's
//! offsets expire, as Kafka's offset cleanup does).
//!
//! Only one call runs at a time (`&mut self`); the coordinator belongs to one shard.

mod api;
mod describe;
mod group;
mod join;
mod member;
mod membership;
mod outbox;
mod persist;
mod rebalance;
mod sync;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub use api::{
    Completion, CoordinatorConfig, DescribedMember, GroupDescription, HeartbeatInput, JoinInput,
    JoinOutput, JoinedMember, LeaveOutput, LeavingMember, LeftMember, SyncInput, SyncOutput, Token,
    NO_GENERATION,
};
pub use group::GroupState;
pub use persist::{GroupRecord, MemberRecord};

use group::Group;
use outbox::Outbox;
use rebalance::Ctx;

pub struct Coordinator {
    config: CoordinatorConfig,
    groups: HashMap<String, Group>,
    outbox: Outbox,
    /// (deadline, group id) for every group with something due, so `tick` and
    /// `next_deadline_ms` do not scan every group.
    deadlines: BTreeSet<(i64, String)>,
    group_deadlines: HashMap<String, i64>,
    /// Member ids must not repeat across broker restarts (a client from before a restart
    /// could otherwise pass for a new member), so they are random, from a seeded generator
    /// to keep tests reproducible.
    rng: SmallRng,
}

impl Coordinator {
    pub fn new(config: CoordinatorConfig) -> Self {
        Coordinator::with_seed(config, rand::random())
    }

    /// A coordinator whose member ids follow from `seed` (tests).
    pub fn with_seed(config: CoordinatorConfig, seed: u64) -> Self {
        Coordinator {
            config,
            groups: HashMap::new(),
            outbox: Outbox::default(),
            deadlines: BTreeSet::new(),
            group_deadlines: HashMap::new(),
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// Expires sessions and pending members, ends join phases whose delay or timeout passed
    /// and removes members that never sent SyncGroup.
    pub fn tick(&mut self, now_ms: i64) {
        let due: Vec<String> = self
            .deadlines
            .iter()
            .take_while(|(deadline, _)| *deadline <= now_ms)
            .map(|(_, group_id)| group_id.clone())
            .collect();
        for group_id in due {
            if let Some(group) = self.groups.get_mut(&group_id) {
                let mut ctx = Ctx {
                    now_ms,
                    config: &self.config,
                    outbox: &mut self.outbox,
                };
                group.process_timers(&mut ctx);
            }
            self.refresh_deadline(&group_id);
        }
    }

    /// When `tick` next has something to do (possibly already past).
    pub fn next_deadline_ms(&self) -> Option<i64> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// Answers to parked requests, in the order they were completed.
    pub fn take_completions(&mut self) -> Vec<(Token, Completion)> {
        self.outbox.take_completions()
    }

    /// The client connection of a parked request went away: forget it. A member that joined
    /// without an id never learned it and cannot come back, so it expires at the next `tick`
    /// (Kafka, unable to see the disconnect, waits 5 minutes); a known member keeps its seat
    /// and can rejoin with its id.
    pub fn cancel(&mut self, token: Token) {
        let Some(parked) = self.outbox.forget(token) else {
            return;
        };
        let member = self
            .groups
            .get_mut(&parked.group_id)
            .and_then(|group| group.members.get_mut(&parked.member_id));
        if let Some(member) = member {
            if member.join_token == Some(token) {
                member.join_token = None;
                if member.is_new {
                    member.session_deadline_ms = i64::MIN;
                }
            }
            if member.sync_token == Some(token) {
                member.sync_token = None;
            }
        }
        self.refresh_deadline(&parked.group_id);
    }

    fn new_member_id(&mut self, prefix: &str) -> String {
        let mut bytes: [u8; 16] = self.rng.gen();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{prefix}-{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// Runs what is due in `group_id` at `now_ms` (a zero delay fires within the call that
    /// armed it) and re-indexes the group's next deadline.
    fn settle(&mut self, group_id: &str, now_ms: i64) {
        if let Some(group) = self.groups.get_mut(group_id) {
            if group.next_deadline_ms().is_some_and(|d| d <= now_ms) {
                let mut ctx = Ctx {
                    now_ms,
                    config: &self.config,
                    outbox: &mut self.outbox,
                };
                group.process_timers(&mut ctx);
            }
        }
        self.refresh_deadline(group_id);
    }

    fn refresh_deadline(&mut self, group_id: &str) {
        if let Some(old) = self.group_deadlines.remove(group_id) {
            self.deadlines.remove(&(old, group_id.to_string()));
        }
        let next = self.groups.get(group_id).and_then(Group::next_deadline_ms);
        if let Some(deadline) = next {
            self.group_deadlines.insert(group_id.to_string(), deadline);
            self.deadlines.insert((deadline, group_id.to_string()));
        }
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        for (group_id, group) in &self.groups {
            assert_eq!(&group.group_id, group_id);
            group.check_invariants();
            assert_eq!(
                self.group_deadlines.get(group_id).copied(),
                group.next_deadline_ms()
            );
        }
        assert_eq!(self.deadlines.len(), self.group_deadlines.len());
        for (token, parked) in self.outbox.parked() {
            let member = &self.groups[&parked.group_id].members[&parked.member_id];
            assert!(member.join_token == Some(*token) || member.sync_token == Some(*token));
        }
        let tokens = self
            .groups
            .values()
            .flat_map(|g| g.members.values())
            .flat_map(|m| m.join_token.into_iter().chain(m.sync_token));
        assert_eq!(tokens.count(), self.outbox.parked().len());
    }
}
