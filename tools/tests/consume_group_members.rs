//! `pinlog consume --group` as a real member of the group: two of them split the partitions
//! and read every record once between them, and Ctrl-C commits and leaves.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::cli::success_with_input;
use support::{groups, kafka, Broker};

const TOPIC: &str = "shared";
const PARTITIONS: i32 = 4;
const PER_PARTITION: usize = 50;
/// Bound on waiting for a consumer; they stop by themselves within seconds.
const WAIT_MAX: Duration = Duration::from_secs(60);

fn fill(broker: &Broker) {
    kafka::create_topic(&kafka::admin(broker), TOPIC, PARTITIONS);
    for partition in 0..PARTITIONS {
        let lines: String = (0..PER_PARTITION)
            .map(|i| format!("p{partition}-{i}\n"))
            .collect();
        let partition = partition.to_string();
        success_with_input(
            broker,
            &["produce", TOPIC, "--partition", &partition],
            lines.as_bytes(),
        );
    }
}

fn consumer(broker: &Broker, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pinlog"))
        .args(["consume", TOPIC, "--print-offset"])
        .args(args)
        .args(["--bootstrap", &broker.bootstrap()])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning pinlog consume")
}

/// The child's stdout lines as they come, on a channel.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("polling the consumer") {
            return status;
        }
        if started.elapsed() > WAIT_MAX {
            let _ = child.kill();
            panic!("a consumer still runs after {WAIT_MAX:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (partition, offset) of a `--print-offset` line `P:O<tab>value`.
fn position(line: &str) -> (i32, i64) {
    let (at, _) = line.split_once('\t').expect("a tab after the offset");
    let (partition, offset) = at.split_once(':').expect("PARTITION:OFFSET");
    (partition.parse().unwrap(), offset.parse().unwrap())
}

#[test]
fn two_members_split_the_partitions_and_read_every_record_once() {
    let broker = Broker::start("consume-members", 1);
    fill(&broker);
    let args = ["--group", "pair", "--timeout-ms", "4000"];
    let mut first = consumer(&broker, &args);
    let mut second = consumer(&broker, &args);
    let (first_lines, second_lines) = (lines_of(&mut first), lines_of(&mut second));
    assert!(wait(&mut first).success());
    assert!(wait(&mut second).success());
    let read = |lines: mpsc::Receiver<String>| -> Vec<(i32, i64)> {
        lines.iter().map(|line| position(&line)).collect()
    };
    let (first_read, second_read) = (read(first_lines), read(second_lines));
    let partitions = |read: &[(i32, i64)]| -> BTreeSet<i32> { read.iter().map(|p| p.0).collect() };
    assert!(
        !first_read.is_empty() && !second_read.is_empty(),
        "both members got partitions: {:?} / {:?}",
        partitions(&first_read),
        partitions(&second_read)
    );
    let mut all: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for position in first_read.iter().chain(&second_read) {
        *all.entry(*position).or_default() += 1;
    }
    assert_eq!(
        all.len(),
        PARTITIONS as usize * PER_PARTITION,
        "every record"
    );
    assert!(all.values().all(|&times| times == 1), "each record once");
    assert_eq!(
        groups::committed(&broker.bootstrap(), "pair", TOPIC, PARTITIONS).expect("OffsetFetch"),
        vec![Some(PER_PARTITION as i64); PARTITIONS as usize],
        "both committed what they read"
    );
}

#[test]
fn ctrl_c_commits_what_was_read_and_leaves_the_group() {
    let broker = Broker::start("consume-interrupt", 1);
    fill(&broker);
    let mut following = consumer(&broker, &["--group", "followers"]);
    let lines = lines_of(&mut following);
    let deadline = Instant::now() + WAIT_MAX;
    let mut read = 0;
    while read < PARTITIONS as usize * PER_PARTITION {
        let left = deadline.saturating_duration_since(Instant::now());
        lines.recv_timeout(left).expect("records keep coming");
        read += 1;
    }
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(following.id() as libc::pid_t, libc::SIGINT) };
    let status = wait(&mut following);
    let mut stderr = String::new();
    use std::io::Read;
    following
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("reading stderr");
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(
        groups::committed(&broker.bootstrap(), "followers", TOPIC, PARTITIONS)
            .expect("OffsetFetch"),
        vec![Some(PER_PARTITION as i64); PARTITIONS as usize]
    );
    // Left, not waiting out its session: the group is empty at once.
    let described = support::cli::success(&broker, &["group", "describe", "--group", "followers"]);
    assert!(described.contains("Empty"), "{described}");
}

/// A reader that stops reading (`| less`, paused) blocks the consumer past its session: the
/// group drops it. When the reader goes on, the consumer joins again and carries on from the
/// group's last commit instead of failing.
#[test]
fn a_member_paused_past_its_session_joins_again_and_carries_on() {
    let broker = Broker::start("consume-paused", 1);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    // Lines long enough to fill the pipe, so that printing blocks.
    let padding = "x".repeat(2000);
    for partition in 0..PARTITIONS {
        let lines: String = (0..PER_PARTITION)
            .map(|i| format!("p{partition}-{i}-{padding}\n"))
            .collect();
        let partition = partition.to_string();
        success_with_input(
            &broker,
            &["produce", TOPIC, "--partition", &partition],
            lines.as_bytes(),
        );
    }
    let mut paused = consumer(&broker, &["--group", "paused"]);
    // Reading nothing until the group dropped the member: 3 s of initial rebalance delay,
    // then its 10 s session (and the 5 s between commits).
    let dropped_by = Instant::now() + Duration::from_secs(40);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let described = support::cli::success(&broker, &["group", "describe", "--group", "paused"]);
        if described.contains("Empty") {
            break;
        }
        assert!(
            Instant::now() < dropped_by,
            "the member was never dropped: {described}"
        );
    }
    let lines = lines_of(&mut paused);
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + WAIT_MAX;
    while seen.len() < PARTITIONS as usize * PER_PARTITION {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("records keep coming");
        seen.insert(position(&line));
    }
    // Still a member, reading what comes next.
    success_with_input(&broker, &["produce", TOPIC, "--partition", "0"], b"after\n");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("the record produced after");
        if line.ends_with("\tafter") {
            break;
        }
    }
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(paused.id() as libc::pid_t, libc::SIGINT) };
    assert!(wait(&mut paused).success());
    let mut expected = vec![Some(PER_PARTITION as i64); PARTITIONS as usize];
    expected[0] = Some(PER_PARTITION as i64 + 1);
    assert_eq!(
        groups::committed(&broker.bootstrap(), "paused", TOPIC, PARTITIONS).expect("OffsetFetch"),
        expected
    );
}
