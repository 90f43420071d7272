//! Random clients doing random things at random times: no panic, the invariants hold after
//! every call (the harness checks them), generations only grow, and once everyone goes quiet
//! every parked request has been answered or cancelled exactly once.

use proptest::prelude::*;

use super::*;

const CLIENTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    /// What a well-behaved client does next (join, sync, heartbeat, rejoin when told).
    Step {
        client: usize,
    },
    Join {
        client: usize,
        forget_id: bool,
        require_known_member_id: bool,
        other_protocol: bool,
    },
    Sync {
        client: usize,
    },
    Heartbeat {
        client: usize,
    },
    Leave {
        client: usize,
        by_instance: bool,
    },
    Cancel {
        pick: usize,
    },
    Advance {
        ms: i64,
    },
    Commit {
        client: usize,
    },
    Delete,
    Ensure,
}

fn op() -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    prop_oneof![
        20 => client.clone().prop_map(|client| Op::Step { client }),
        4 => (
            client.clone(),
            prop::bool::weighted(0.15),
            any::<bool>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(
            |(client, forget_id, require_known_member_id, other_protocol)| Op::Join {
                client,
                forget_id,
                require_known_member_id,
                other_protocol,
            }
        ),
        3 => client.clone().prop_map(|client| Op::Sync { client }),
        4 => client.clone().prop_map(|client| Op::Heartbeat { client }),
        1 => (client.clone(), any::<bool>())
            .prop_map(|(client, by_instance)| Op::Leave { client, by_instance }),
        1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        // Mostly less than a session, sometimes enough for sessions and rebalances to expire.
        4 => (0i64..4_000).prop_map(|ms| Op::Advance { ms }),
        1 => (4_000i64..40_000).prop_map(|ms| Op::Advance { ms }),
        1 => client.prop_map(|client| Op::Commit { client }),
        1 => Just(Op::Delete),
        1 => Just(Op::Ensure),
    ]
}

/// What a client knows: the last answers it got.
#[derive(Debug, Default, Clone)]
struct Client {
    instance_id: Option<String>,
    member_id: String,
    generation_id: i32,
    leader_of: Vec<String>,
    last_join: Option<Token>,
    last_sync: Option<Token>,
    needs_sync: bool,
    needs_rejoin: bool,
}

impl Client {
    fn learn(&mut self, h: &Harness) {
        if let Some(Completion::Sync(output)) = self.last_sync.and_then(|t| h.reply(t)) {
            self.last_sync = None;
            self.needs_rejoin |= output.error != ErrorCode::None;
        }
        let Some(token) = self.last_join else {
            return;
        };
        let Some(Completion::Join(output)) = h.reply(token) else {
            return;
        };
        self.last_join = None;
        match output.error {
            ErrorCode::None => {
                self.member_id = output.member_id.clone();
                self.generation_id = output.generation_id;
                self.leader_of = output.members.iter().map(|m| m.member_id.clone()).collect();
                self.needs_sync = true;
            }
            ErrorCode::MemberIdRequired => {
                self.member_id = output.member_id.clone();
                self.needs_rejoin = true;
            }
            ErrorCode::UnknownMemberId | ErrorCode::FencedInstanceId => self.member_id.clear(),
            _ => {}
        }
    }
}

fn run(initial_rebalance_delay_ms: i32, ops: Vec<Op>) {
    let mut h = Harness::with_config(CoordinatorConfig {
        initial_rebalance_delay_ms,
        ..CoordinatorConfig::default()
    });
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|i| Client {
            instance_id: (i % 2 == 1).then(|| format!("instance-{i}")),
            ..Client::default()
        })
        .collect();
    let mut parked: Vec<Token> = Vec::new();
    let mut generation = 0;
    for op in ops {
        for client in &mut clients {
            client.learn(&h);
        }
        match op {
            Op::Step { client } => {
                let c = &mut clients[client];
                if c.last_join.is_some() || c.last_sync.is_some() {
                    // Waiting for an answer.
                } else if c.member_id.is_empty() || c.needs_rejoin {
                    c.needs_rejoin = false;
                    let input = JoinInput {
                        group_instance_id: c.instance_id.clone(),
                        require_known_member_id: true,
                        ..join_input(&c.member_id, &format!("c{client}"))
                    };
                    let token = h.join(input);
                    c.last_join = Some(token);
                    parked.push(token);
                } else if c.needs_sync {
                    c.needs_sync = false;
                    let assignments = c
                        .leader_of
                        .iter()
                        .map(|id| (id.clone(), assignment_for(id)))
                        .collect();
                    let token = h.sync(SyncInput {
                        group_instance_id: c.instance_id.clone(),
                        assignments,
                        ..sync_input(&c.member_id, c.generation_id)
                    });
                    c.last_sync = Some(token);
                    parked.push(token);
                } else {
                    let (member_id, instance_id) = (c.member_id.clone(), c.instance_id.clone());
                    match h.heartbeat_static(&member_id, instance_id.as_deref(), c.generation_id) {
                        ErrorCode::None => {}
                        ErrorCode::UnknownMemberId | ErrorCode::FencedInstanceId => {
                            c.member_id.clear()
                        }
                        _ => c.needs_rejoin = true,
                    }
                }
            }
            Op::Join {
                client,
                forget_id,
                require_known_member_id,
                other_protocol,
            } => {
                let c = &mut clients[client];
                let member_id = if forget_id { "" } else { c.member_id.as_str() };
                let mut input = JoinInput {
                    group_instance_id: c.instance_id.clone(),
                    require_known_member_id,
                    ..join_input(member_id, &format!("c{client}"))
                };
                if other_protocol {
                    input.protocols = vec![("roundrobin".into(), Bytes::from("x"))];
                }
                let token = h.join(input);
                c.last_join = Some(token);
                parked.push(token);
            }
            Op::Sync { client } => {
                let c = &clients[client];
                let assignments = c
                    .leader_of
                    .iter()
                    .map(|id| (id.clone(), assignment_for(id)))
                    .collect();
                parked.push(h.sync(SyncInput {
                    group_instance_id: c.instance_id.clone(),
                    assignments,
                    ..sync_input(&c.member_id, c.generation_id)
                }));
            }
            Op::Heartbeat { client } => {
                let c = &clients[client];
                let (member_id, instance_id) = (c.member_id.clone(), c.instance_id.clone());
                h.heartbeat_static(&member_id, instance_id.as_deref(), c.generation_id);
            }
            Op::Leave {
                client,
                by_instance,
            } => {
                let c = &clients[client];
                let member_id = if by_instance && c.instance_id.is_some() {
                    String::new()
                } else {
                    c.member_id.clone()
                };
                h.leave(vec![LeavingMember {
                    member_id,
                    group_instance_id: c.instance_id.clone(),
                    reason: None,
                }]);
            }
            Op::Cancel { pick } => {
                let waiting: Vec<Token> =
                    parked.iter().copied().filter(|t| h.is_parked(*t)).collect();
                if !waiting.is_empty() {
                    h.cancel(waiting[pick % waiting.len()]);
                }
            }
            Op::Advance { ms } => h.advance(ms),
            Op::Commit { client } => {
                let c = &clients[client];
                h.coordinator.validate_offset_commit(
                    GROUP,
                    c.generation_id,
                    &c.member_id,
                    c.instance_id.as_deref(),
                );
            }
            Op::Delete => {
                if h.coordinator.delete_group(GROUP) == ErrorCode::None {
                    generation = 0;
                }
            }
            Op::Ensure => {
                h.coordinator.ensure_group(GROUP);
            }
        }
        let now = h
            .coordinator
            .groups
            .get(GROUP)
            .map_or(0, |g| g.generation_id);
        assert!(
            now >= generation,
            "generation went from {generation} to {now}"
        );
        generation = now;
        h.coordinator.describe_group(GROUP);
        h.coordinator.list_groups(&[]);
    }
    // Everyone goes quiet: sessions, rebalance and sync timeouts answer whatever waits.
    for _ in 0..10 {
        h.advance(i64::from(REBALANCE_MS));
    }
    assert!(
        h.outstanding().is_empty(),
        "never answered: {:?}",
        h.outstanding()
    );
    assert!(h.coordinator.next_deadline_ms().is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_clients_keep_the_invariants(
        initial_rebalance_delay_ms in prop_oneof![Just(0), Just(3_000)],
        ops in prop::collection::vec(op(), 1..150),
    ) {
        run(initial_rebalance_delay_ms, ops);
    }
}
