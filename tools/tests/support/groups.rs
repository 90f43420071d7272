//! Consumer-group members for the group tests: librdkafka consumers that subscribe, count their
//! rebalances, and remember every record they saw so tests can check for gaps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::{self, TIMEOUT};
use super::Broker;

/// Broker settings that make group tests fast: no initial rebalance delay, and session timeouts
/// down to one second allowed.
pub const FAST_GROUPS_TOML: &str = "group_initial_rebalance_delay_ms = 0\n\
                                    group_min_session_timeout_ms = 1000\n";

/// The session timeout the members ask for: short, so a dead member is noticed quickly.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(3);

pub type GroupConsumer = BaseConsumer<RebalanceCounter>;

/// Counts the assignments and revocations librdkafka delivers.
#[derive(Default)]
pub struct RebalanceCounter {
    assigns: AtomicUsize,
    revokes: AtomicUsize,
}

impl RebalanceCounter {
    /// Rebalance callbacks seen so far, assignments and revocations together.
    pub fn rebalances(&self) -> usize {
        self.assigns.load(Ordering::Relaxed) + self.revokes.load(Ordering::Relaxed)
    }
}

impl ClientContext for RebalanceCounter {}

impl ConsumerContext for RebalanceCounter {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(_) => self.assigns.fetch_add(1, Ordering::Relaxed),
            Rebalance::Revoke(_) => self.revokes.fetch_add(1, Ordering::Relaxed),
            Rebalance::Error(_) => 0,
        };
    }
}

/// One member of a group: its consumer and every (partition, offset) it consumed.
pub struct Member {
    pub consumer: GroupConsumer,
    pub seen: Seen,
}

impl Member {
    /// Subscribes to `topic` in `group`; `settings` (e.g. the assignor) go over the defaults:
    /// manual commits, earliest reset, a short session timeout.
    pub fn join(bootstrap: &str, group: &str, topic: &str, settings: &[(&str, &str)]) -> Member {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("broker.address.family", "v4")
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .set(
                "session.timeout.ms",
                SESSION_TIMEOUT.as_millis().to_string(),
            )
            .set("heartbeat.interval.ms", "300");
        for (key, value) in settings {
            config.set(*key, *value);
        }
        let consumer: GroupConsumer = config
            .create_with_context(RebalanceCounter::default())
            .expect("creating a group consumer");
        consumer.subscribe(&[topic]).expect("subscribing");
        Member {
            consumer,
            seen: BTreeMap::new(),
        }
    }

    /// Polls once for up to `wait`, remembering a record if one came.
    pub fn poll(&mut self, wait: Duration) {
        match self.consumer.poll(wait) {
            Some(Ok(message)) => self
                .seen
                .entry(message.partition())
                .or_default()
                .push(message.offset()),
            Some(Err(error)) => eprintln!("consumer error (librdkafka retries): {error}"),
            None => {}
        }
    }

    /// The partitions assigned now, sorted.
    pub fn assigned(&self) -> Vec<i32> {
        let assignment = self.consumer.assignment().expect("reading the assignment");
        let mut partitions: Vec<i32> = assignment
            .elements()
            .iter()
            .map(|element| element.partition())
            .collect();
        partitions.sort_unstable();
        partitions
    }

    /// Rebalance callbacks (assignments and revocations) this member has had.
    pub fn rebalances(&self) -> usize {
        self.consumer.context().rebalances()
    }

    /// Records consumed so far.
    pub fn seen_count(&self) -> usize {
        self.seen.values().map(Vec::len).sum()
    }

    /// Commits, synchronously, the position after the last record seen on each partition.
    pub fn commit_seen(&self, topic: &str) {
        let mut offsets = TopicPartitionList::new();
        for (partition, seen) in &self.seen {
            if let Some(last) = seen.iter().max() {
                offsets
                    .add_partition_offset(topic, *partition, Offset::Offset(last + 1))
                    .expect("building the commit");
            }
        }
        if offsets.count() > 0 {
            self.consumer
                .commit(&offsets, CommitMode::Sync)
                .expect("committing offsets");
        }
    }

    /// The group's committed offsets for `partitions` of `topic` (None where none).
    pub fn committed(&self, topic: &str, partitions: i32) -> KafkaResult<Vec<Option<i64>>> {
        let mut wanted = TopicPartitionList::new();
        for partition in 0..partitions {
            wanted.add_partition(topic, partition);
        }
        let committed = self.consumer.committed_offsets(wanted, TIMEOUT)?;
        Ok(offsets_of(&committed, topic, partitions))
    }
}

/// `group`'s committed offsets for `partitions` of `topic`, asked by a client that does not
/// join the group (OffsetFetch only).
pub fn committed(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
) -> KafkaResult<Vec<Option<i64>>> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    let outsider: BaseConsumer = config.create()?;
    let mut wanted = TopicPartitionList::new();
    for partition in 0..partitions {
        wanted.add_partition(topic, partition);
    }
    let committed = outsider.committed_offsets(wanted, TIMEOUT)?;
    Ok(offsets_of(&committed, topic, partitions))
}

fn offsets_of(committed: &TopicPartitionList, topic: &str, partitions: i32) -> Vec<Option<i64>> {
    (0..partitions)
        .map(
            |partition| match committed.find_partition(topic, partition) {
                Some(element) => match element.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                },
                None => None,
            },
        )
        .collect()
}

/// Polls every member in turn until `done` holds, failing after `timeout` with `what` and the
/// members' assignments.
pub fn poll_until(
    members: &mut [&mut Member],
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&[&mut Member]) -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !done(members) {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {timeout:?}; assignments {:?}",
            members.iter().map(|m| m.assigned()).collect::<Vec<_>>()
        );
        for member in members.iter_mut() {
            member.poll(Duration::from_millis(20));
        }
    }
}

/// Waits until the members' assignments are disjoint, none empty, and cover `0..partitions`.
pub fn wait_for_split(members: &mut [&mut Member], partitions: i32, timeout: Duration) {
    poll_until(members, timeout, "a split of every partition", |members| {
        is_split(members, partitions)
    });
}

pub fn is_split(members: &[&mut Member], partitions: i32) -> bool {
    let assignments: Vec<Vec<i32>> = members.iter().map(|m| m.assigned()).collect();
    let all: BTreeSet<i32> = assignments.iter().flatten().copied().collect();
    let total: usize = assignments.iter().map(Vec::len).sum();
    assignments.iter().all(|a| !a.is_empty())
        && total == partitions as usize
        && all == (0..partitions).collect()
}

/// Offsets seen per partition, by one member or by several together.
pub type Seen = BTreeMap<i32, Vec<i64>>;

/// The offsets `0..end` of each partition (`ends` maps partition to its end offset) that none
/// of `seen` holds: a skipped record. Duplicates are fine (at least once).
pub fn missing(seen: &[&Seen], ends: &BTreeMap<i32, i64>) -> Vec<(i32, i64)> {
    let mut missing = Vec::new();
    for (partition, end) in ends {
        let offsets: BTreeSet<i64> = seen
            .iter()
            .filter_map(|seen| seen.get(partition))
            .flatten()
            .copied()
            .collect();
        missing.extend(
            (0..*end)
                .filter(|o| !offsets.contains(o))
                .map(|o| (*partition, o)),
        );
    }
    missing
}

/// Asserts that together `seen` holds every offset below each partition's end, and none beyond.
pub fn assert_no_gaps(seen: &[&Seen], ends: &BTreeMap<i32, i64>) {
    let missing = missing(seen, ends);
    assert!(
        missing.is_empty(),
        "{} records never consumed, the first (partition, offset): {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    for (partition, end) in ends {
        let beyond: Vec<&i64> = seen
            .iter()
            .filter_map(|seen| seen.get(partition))
            .flatten()
            .filter(|offset| **offset >= *end)
            .collect();
        assert!(
            beyond.is_empty(),
            "partition {partition}: offsets {beyond:?}"
        );
    }
}

/// Polls `member` until it and `others` together saw every record below `ends`, then asserts
/// that nothing was skipped and nothing beyond the ends appeared.
pub fn consume_until_complete(member: &mut Member, others: &[&Seen], ends: &BTreeMap<i32, i64>) {
    let mut last_progress = Instant::now();
    let mut missing_before = usize::MAX;
    loop {
        let mut all: Vec<&Seen> = others.to_vec();
        all.push(&member.seen);
        let missing_now = missing(&all, ends).len();
        if missing_now == 0 || last_progress.elapsed() > TIMEOUT {
            break;
        }
        if missing_now < missing_before {
            missing_before = missing_now;
            last_progress = Instant::now();
        }
        member.poll(Duration::from_millis(20));
    }
    // A moment more, so that records past the ends would show.
    let settle = Instant::now() + Duration::from_millis(300);
    while Instant::now() < settle {
        member.poll(Duration::from_millis(20));
    }
    let mut all: Vec<&Seen> = others.to_vec();
    all.push(&member.seen);
    assert_no_gaps(&all, ends);
}

/// End offsets of `partitions` partitions after `count` records were spread round-robin over
/// them, starting with partition 0, by [`produce_spread`] calls.
pub fn spread_ends(partitions: i32, count: usize) -> BTreeMap<i32, i64> {
    (0..partitions)
        .map(|p| {
            let whole = count / partitions as usize;
            let extra = usize::from((p as usize) < count % partitions as usize);
            (p, (whole + extra) as i64)
        })
        .collect()
}

/// Produces `count` records round-robin over `partitions` of `topic` (a multiple of
/// `partitions`, so that calls add up in [`spread_ends`]) and waits for every ack.
pub fn produce_spread(broker: &Broker, topic: &str, partitions: i32, count: usize) {
    assert_eq!(count % partitions as usize, 0, "a whole number of rounds");
    let producer = kafka::producer(broker, &[("acks", "all"), ("linger.ms", "5")]);
    for index in 0..count {
        let partition = (index % partitions as usize) as i32;
        kafka::send(
            &producer,
            topic,
            partition,
            &super::records::keyed_record(index),
        );
    }
    assert_eq!(kafka::flush(&producer), count, "{topic}: delivered");
}
