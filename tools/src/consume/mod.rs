//! `pinlog consume TOPIC`: records of one topic on stdout, text or JSON lines ([`output`]).
//!
//! Without `--group` every partition is read (or `--partition`'s). With `--group` the command
//! is a member of the group ([`group`]): it reads the partitions the group assigns it, from
//! their committed offsets, and unless `--no-commit` commits the positions reached (every
//! [`COMMIT_INTERVAL`], at each rebalance and at the end). `--group` with `--partition` reads
//! that partition by hand and commits from outside the group, as a consumer with manual
//! assignment does; the coordinator accepts that only while the group has no members.
//! Ctrl-C (SIGINT) or SIGTERM stops it cleanly: it commits and leaves the group.
//!
//! Without a stop condition the command follows the log until interrupted. `--max-messages`
//! stops after that many records, `--until-end` at the log end offsets of when it started,
//! `--timeout-ms` once nothing new arrived for that long.
//!
//! A fetched chunk may end with a partial batch and nothing else may be broken ([`fetched`]).
//! Batches are checked (length, CRC32C, offsets that fit an i64), decompressed under
//! [`DECOMPRESSED_BATCH_BYTES_MAX`], control batches skipped, and records before the position
//! (a batch that starts earlier than the requested offset) dropped.

mod fetched;
mod group;
pub(crate) mod output;
mod start;

use std::collections::BTreeMap;
use std::io::{BufWriter, ErrorKind, Write};
use std::time::{Duration, Instant};

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::BatchError;

use self::output::{Format, TextOptions};
use self::start::{Bounds, StartOffset};
use crate::client::records::{Fetched, FETCH_PARTITION_BYTES_MAX};
use crate::client::{Client, ClientError, KafkaError};
use crate::common::Bootstrap;

/// Longest wait of one Fetch for new records; bounds how late a stop condition is noticed.
const FETCH_WAIT_MS_MAX: i32 = 500;
/// How often positions are committed while consuming with `--group`.
const COMMIT_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub bootstrap: Bootstrap,
    pub topic: String,
    /// Only this partition (default: all of them).
    #[arg(long, value_name = "P")]
    pub partition: Option<i32>,
    /// Where to start: earliest (the default), latest or an offset, moved into the log where
    /// it lies outside. With --group, only for partitions without a committed offset.
    #[arg(
        long,
        value_name = "earliest|latest|N",
        conflicts_with = "from_timestamp"
    )]
    pub offset: Option<StartOffset>,
    /// Start at the first record at or after this time: milliseconds since the epoch or an
    /// RFC 3339 date-time (UTC unless it names its offset).
    #[arg(long, value_name = "MS|RFC3339", conflicts_with = "group")]
    pub from_timestamp: Option<String>,
    /// Consume as a member of this group: the partitions it assigns (all of them when alone),
    /// from their committed offsets; commit the positions reached. With --partition, read that
    /// partition by hand and commit from outside the group.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// With --group: read the committed offsets but commit nothing.
    #[arg(long, requires = "group")]
    pub no_commit: bool,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    pub max_messages: Option<u64>,
    /// Stop at the end of the log as it was when the command started.
    #[arg(long)]
    pub until_end: bool,
    /// Stop once no record arrived for this long.
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Text format: print the key and a tab before the value.
    #[arg(long)]
    pub print_key: bool,
    /// Text format: print PARTITION:OFFSET and a tab before the record.
    #[arg(long)]
    pub print_offset: bool,
    /// Text format: print the record's timestamp (ms since the epoch) and a tab.
    #[arg(long)]
    pub print_timestamp: bool,
    /// Text format: print the headers as key:value,key:value (NO_HEADERS when none) and a tab.
    #[arg(long)]
    pub print_headers: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("topic {0} does not exist")]
    NoSuchTopic(String),
    #[error("topic {topic} has no partition {partition} (it has {count})")]
    NoSuchPartition {
        topic: String,
        partition: i32,
        count: usize,
    },
    #[error("invalid --from-timestamp {value:?}: {reason} (expected milliseconds or YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM])")]
    Timestamp { value: String, reason: &'static str },
    #[error("fetching {topic}/{partition} at offset {offset}: {error}")]
    Fetch {
        topic: String,
        partition: i32,
        offset: i64,
        error: KafkaError,
    },
    #[error("{topic}/{partition}: the batch at offset {offset} is invalid: {source}")]
    Batch {
        topic: String,
        partition: i32,
        offset: i64,
        source: BatchError,
    },
    #[error(
        "{topic}/{partition}: the data fetched at offset {offset} cannot be split into batches: \
         {source}"
    )]
    Unsplittable {
        topic: String,
        partition: i32,
        offset: i64,
        source: BatchError,
    },
    #[error(
        "{topic}/{partition}: the batch at offset {offset} arrived cut short ({source}): it is \
         larger than the {FETCH_PARTITION_BYTES_MAX} bytes fetched per partition, or the \
         response is corrupt"
    )]
    CutShort {
        topic: String,
        partition: i32,
        offset: i64,
        source: BatchError,
    },
    #[error(
        "{topic}/{partition}: the batch at offset {base_offset} is corrupt: baseOffset + \
         lastOffsetDelta {last_offset_delta} + 1 overflows an offset"
    )]
    OffsetOverflow {
        topic: String,
        partition: i32,
        base_offset: i64,
        last_offset_delta: i32,
    },
    #[error("committing offsets of group {group}: partition {partition}: {error}")]
    Commit {
        group: String,
        partition: i32,
        error: KafkaError,
    },
    #[error("writing to stdout: {0}")]
    Output(std::io::Error),
    #[error("group {group}: {error}")]
    Group { group: String, error: String },
    #[error("group {group}: the assignment this member received cannot be read")]
    Assignment { group: String },
}

/// Runs `pinlog consume` until a stop condition holds.
pub fn run(args: &ConsumeArgs) -> Result<(), ConsumeError> {
    let mut client = Client::connect(&args.bootstrap.bootstrap)?;
    let mut leaders = client.leaders(&args.topic).map_err(|error| match error {
        ClientError::Kafka {
            error: KafkaError::Known(ErrorCode::UnknownTopicOrPartition),
            ..
        } => ConsumeError::NoSuchTopic(args.topic.clone()),
        other => other.into(),
    })?;
    if let Some(partition) = args.partition {
        let count = leaders.len();
        let leader = leaders
            .remove(&partition)
            .ok_or_else(|| ConsumeError::NoSuchPartition {
                topic: args.topic.clone(),
                partition,
                count,
            })?;
        leaders = BTreeMap::from([(partition, leader)]);
    }
    let mut member = None;
    let mut partitions: Vec<i32> = leaders.keys().copied().collect();
    if let (Some(name), None) = (&args.group, args.partition) {
        let (joined, assigned) = group::GroupMember::join(&mut client, name, &args.topic)?;
        member = Some(joined);
        partitions = assigned;
    }
    stop::install();
    let mut consumer = Consumer {
        client,
        args,
        all_leaders: leaders,
        leaders: BTreeMap::new(),
        ends: BTreeMap::new(),
        positions: BTreeMap::new(),
        consumed: 0,
        committed: BTreeMap::new(),
        member,
        membership_lost: false,
    };
    let outcome = consumer
        .assign(&partitions)
        .and_then(|()| consumer.consume());
    // Commit what was consumed even when consuming stopped on an error.
    let committed = consumer.commit();
    if let Some(member) = &consumer.member {
        member.leave(&mut consumer.client);
    }
    outcome.and(committed)
}

/// Ctrl-C and SIGTERM end the consume loop at its next turn (within a fetch's wait), so that
/// the positions are committed and the group left, instead of the process dying mid-way.
pub(crate) mod stop {
    use std::sync::atomic::{AtomicBool, Ordering};

    static REQUESTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(signal: libc::c_int) {
        REQUESTED.store(true, Ordering::Relaxed);
        // A second one ends the process at once (a call stuck in a slow rebalance).
        // SAFETY: signal(2) is async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
        }
    }

    pub fn install() {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
    }

    pub fn requested() -> bool {
        REQUESTED.load(Ordering::Relaxed)
    }
}

struct Consumer<'a> {
    client: Client,
    args: &'a ConsumeArgs,
    /// Every partition's leader; `leaders` holds those of the partitions being read.
    all_leaders: BTreeMap<i32, String>,
    leaders: BTreeMap<i32, String>,
    /// The log end offsets when consumption began, for `--until-end`.
    ends: BTreeMap<i32, i64>,
    /// The next offset to read, per partition.
    positions: BTreeMap<i32, i64>,
    consumed: u64,
    /// What was last committed, so that an unchanged position is not committed again.
    committed: BTreeMap<i32, i64>,
    /// Membership of `--group` (without `--partition`).
    member: Option<group::GroupMember>,
    /// A commit found the member out of the group's generation: join again.
    membership_lost: bool,
}

impl Consumer<'_> {
    /// Reads `partitions` from now on, each from where it starts ([`start::positions`]).
    fn assign(&mut self, partitions: &[i32]) -> Result<(), ConsumeError> {
        self.committed.clear();
        // A partition added since the start (the group's leader saw it): learn its leader.
        if partitions.iter().any(|p| !self.all_leaders.contains_key(p)) {
            self.all_leaders = self.client.leaders(&self.args.topic)?;
        }
        if partitions.is_empty() {
            self.positions.clear();
            self.ends.clear();
            self.leaders.clear();
            return Ok(());
        }
        let bounds = Bounds::read(&mut self.client, &self.args.topic, partitions)?;
        self.positions = start::positions(&mut self.client, self.args, partitions, &bounds)?;
        self.ends = bounds.ends;
        self.leaders = partitions
            .iter()
            .filter_map(|p| Some((*p, self.all_leaders.get(p)?.clone())))
            .collect();
        Ok(())
    }

    /// Between fetches: a heartbeat when due, and on a rebalance a commit and a new
    /// assignment.
    fn keep_membership(&mut self) -> Result<(), ConsumeError> {
        let Some(member) = self.member.as_mut() else {
            return Ok(());
        };
        if !std::mem::take(&mut self.membership_lost) {
            match member.heartbeat_if_due(&mut self.client)? {
                group::Heartbeat::Stable => return Ok(()),
                // Still of its generation: what it read is committed for the next owner.
                group::Heartbeat::Rebalance => self.commit()?,
                group::Heartbeat::Lost => {}
            }
        }
        let Some(member) = self.member.as_mut() else {
            return Ok(());
        };
        let partitions = member.rejoin(&mut self.client)?;
        // A commit refused during the rebalance asked for this very rejoin.
        self.membership_lost = false;
        self.assign(&partitions)
    }

    fn consume(&mut self) -> Result<(), ConsumeError> {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let timeout = self.args.timeout_ms.map(Duration::from_millis);
        let mut last_record_at = Instant::now();
        let mut last_commit_at = Instant::now();
        loop {
            if stop::requested() {
                break;
            }
            self.keep_membership()?;
            let wanted = self.partitions_to_fetch();
            if self.reached_max() {
                break;
            }
            if wanted.is_empty() {
                // A member with nothing (left) to read stays in the group while it follows:
                // a rebalance may give it partitions.
                let following = self.member.is_some() && !self.args.until_end;
                let timed_out = timeout.is_some_and(|t| last_record_at.elapsed() >= t);
                if !following || timed_out {
                    break;
                }
                std::thread::sleep(Duration::from_millis(FETCH_WAIT_MS_MAX as u64));
                continue;
            }
            let wait_ms = match timeout {
                Some(timeout) => {
                    let left = timeout.saturating_sub(last_record_at.elapsed());
                    if left.is_zero() {
                        break;
                    }
                    i32::try_from(left.as_millis()).unwrap_or(i32::MAX)
                }
                None => FETCH_WAIT_MS_MAX,
            }
            .clamp(1, FETCH_WAIT_MS_MAX);
            let before = self.consumed;
            match self.fetch_round(&wanted, wait_ms, &mut out) {
                Err(ConsumeError::Output(error)) if error.kind() == ErrorKind::BrokenPipe => {
                    return Ok(()); // the reader went away (`| head`): a normal way to stop
                }
                other => other?,
            }
            match out.flush() {
                Err(error) if error.kind() == ErrorKind::BrokenPipe => return Ok(()),
                other => other.map_err(ConsumeError::Output)?,
            }
            if self.consumed > before {
                last_record_at = Instant::now();
            }
            if last_commit_at.elapsed() >= COMMIT_INTERVAL {
                self.commit()?;
                last_commit_at = Instant::now();
            }
        }
        Ok(())
    }

    /// The partitions to fetch, by leader, with their positions.
    fn partitions_to_fetch(&self) -> BTreeMap<String, Vec<(i32, i64)>> {
        let mut wanted: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
        for (&partition, &position) in &self.positions {
            let at_end = self
                .ends
                .get(&partition)
                .is_some_and(|&end| position >= end);
            if self.args.until_end && at_end {
                continue;
            }
            let leader = self.leaders.get(&partition).cloned().unwrap_or_default();
            wanted
                .entry(leader)
                .or_default()
                .push((partition, position));
        }
        wanted
    }

    fn reached_max(&self) -> bool {
        self.args
            .max_messages
            .is_some_and(|max| self.consumed >= max)
    }

    fn fetch_round(
        &mut self,
        wanted: &BTreeMap<String, Vec<(i32, i64)>>,
        wait_ms: i32,
        out: &mut impl Write,
    ) -> Result<(), ConsumeError> {
        for (leader, positions) in wanted {
            let fetched = self
                .client
                .fetch(leader, &self.args.topic, positions, wait_ms)?;
            for partition in fetched {
                self.deliver(partition, out)?;
                if self.reached_max() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Prints the records of one partition's fetched batches from its position on.
    fn deliver(&mut self, fetched: Fetched, out: &mut impl Write) -> Result<(), ConsumeError> {
        let partition = fetched.partition;
        let Some(&start) = self.positions.get(&partition) else {
            return Ok(()); // a partition we did not ask for
        };
        let topic = &self.args.topic;
        if let Some(error) = fetched.error {
            return Err(ConsumeError::Fetch {
                topic: topic.clone(),
                partition,
                offset: start,
                error,
            });
        }
        let text = TextOptions {
            print_key: self.args.print_key,
            print_offset: self.args.print_offset,
            print_timestamp: self.args.print_timestamp,
            print_headers: self.args.print_headers,
        };
        let mut position = start;
        let invalid = |offset, source| ConsumeError::Batch {
            topic: topic.clone(),
            partition,
            offset,
            source,
        };
        let split =
            fetched::split(fetched.records).map_err(|source| ConsumeError::Unsplittable {
                topic: topic.clone(),
                partition,
                offset: start,
                source,
            })?;
        for batch in split.batches {
            let Some(next) = fetched::next_offset(&batch) else {
                return Err(ConsumeError::OffsetOverflow {
                    topic: topic.clone(),
                    partition,
                    base_offset: batch.base_offset(),
                    last_offset_delta: batch.last_offset_delta(),
                });
            };
            if next <= position {
                continue;
            }
            batch
                .validate_header()
                .map_err(|error| invalid(batch.base_offset(), error))?;
            if !batch.is_control() {
                let records = batch
                    .records(DECOMPRESSED_BATCH_BYTES_MAX)
                    .map_err(|error| invalid(batch.base_offset(), error))?;
                for record in records {
                    let record = record
                        .map_err(|error| invalid(batch.base_offset(), BatchError::Record(error)))?;
                    if record.offset < position {
                        continue;
                    }
                    output::write_record(out, self.args.format, text, topic, partition, &record)
                        .map_err(ConsumeError::Output)?;
                    position = record.offset + 1;
                    self.positions.insert(partition, position);
                    self.consumed += 1;
                    if self.reached_max() {
                        return Ok(());
                    }
                }
            }
            // Past the whole batch: a control batch, or offsets the log cleaner removed.
            position = position.max(next);
            self.positions.insert(partition, position);
        }
        // A partial last batch is where the response's size bound cut: it comes whole in the
        // next fetch, which starts at it. Without progress that fetch would be this one again.
        match split.partial_tail {
            Some(source) if position == start => Err(ConsumeError::CutShort {
                topic: topic.clone(),
                partition,
                offset: start,
                source,
            }),
            _ => Ok(()),
        }
    }

    /// Commits the positions that moved since the last commit, with `--group` and without
    /// `--no-commit`.
    fn commit(&mut self) -> Result<(), ConsumeError> {
        let Some(group) = self.args.group.as_ref().filter(|_| !self.args.no_commit) else {
            return Ok(());
        };
        let moved: Vec<(i32, i64)> = self
            .positions
            .iter()
            .filter(|(partition, position)| self.committed.get(partition) != Some(position))
            .map(|(&partition, &position)| (partition, position))
            .collect();
        if moved.is_empty() {
            return Ok(());
        }
        let answers = match &self.member {
            Some(member) => member.commit(&mut self.client, &moved)?,
            None => self
                .client
                .commit_offsets_as_admin(group, &self.args.topic, &moved)?,
        };
        for (partition, error) in answers {
            if let Some(error) = error {
                if self.member.is_some() && group::membership_ended(&error) {
                    // The group moved on without this member (a paused reader outlived its
                    // session, a rebalance came first): the next owner starts from the last
                    // commit, as with any Kafka consumer. Join again rather than fail.
                    tracing::warn!(%group, partition, %error, "positions not committed: the member is no longer in the group's generation");
                    self.membership_lost = true;
                    return Ok(());
                }
                return Err(ConsumeError::Commit {
                    group: group.clone(),
                    partition,
                    error,
                });
            }
        }
        self.committed.extend(moved);
        Ok(())
    }
}
