//! Two members of one group split a 4-partition topic; one runs in a child process that is
//! SIGKILLed, so no LeaveGroup is ever sent. The coordinator must expire it after the session
//! timeout and hand all four partitions to the survivor, which resumes from the dead member's
//! commits: every record consumed at least once, none skipped.
//!
//! The child is this test binary run again with [`CHILD_ENV`] set, running only
//! [`child_member`]; it reports what it consumes on stdout.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::groups::{self, Member, Seen, FAST_GROUPS_TOML, SESSION_TIMEOUT};
use support::kafka::{self, TIMEOUT};
use support::Broker;

const TOPIC: &str = "split";
const GROUP: &str = "crashers";
const PARTITIONS: i32 = 4;
const RECORDS_PER_ROUND: usize = 2_000;
/// `bootstrap` for the child member; its presence makes [`child_member`] run.
const CHILD_ENV: &str = "PINLOG_TEST_CHILD_MEMBER_BOOTSTRAP";
/// A child whose parent died stops by itself.
const CHILD_LIFETIME_MAX: Duration = Duration::from_secs(120);

#[test]
fn the_survivor_takes_every_partition_after_a_member_is_killed() {
    let broker = Broker::start_with_config("group-member-killed", 1, Some(FAST_GROUPS_TOML));
    kafka::create_topic(&kafka::admin(&broker), TOPIC, PARTITIONS);
    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS_PER_ROUND);

    let mut survivor = Member::join(&broker.bootstrap(), GROUP, TOPIC, &[]);
    let mut child = ChildMember::spawn(&broker.bootstrap());
    groups::poll_until(
        &mut [&mut survivor],
        TIMEOUT,
        "the members split the partitions and both consume",
        |members| {
            child.drain();
            let mut all = members[0].assigned();
            all.extend(&child.assigned);
            all.sort_unstable();
            !child.assigned.is_empty()
                && all == [0, 1, 2, 3]
                && members[0].seen_count() >= 100
                && child.seen_count() >= 100
        },
    );
    survivor.commit_seen(TOPIC);

    let killed = Instant::now();
    let child_seen = child.kill();
    // The session expires, then the survivor learns of the rebalance at its next heartbeat.
    let takeover_max = SESSION_TIMEOUT + Duration::from_secs(3);
    groups::poll_until(
        &mut [&mut survivor],
        takeover_max,
        "the survivor owns every partition",
        |members| members[0].assigned() == [0, 1, 2, 3],
    );
    eprintln!("took over in {:?} after the kill", killed.elapsed());

    groups::produce_spread(&broker, TOPIC, PARTITIONS, RECORDS_PER_ROUND);
    let ends = groups::spread_ends(PARTITIONS, 2 * RECORDS_PER_ROUND);
    groups::consume_until_complete(&mut survivor, &[&child_seen], &ends);
}

/// The child's side: joins the group, commits after every record, and prints `assigned P...`
/// on each change of assignment and `seen P O` for each record once it is committed.
#[test]
fn child_member() {
    let Ok(bootstrap) = std::env::var(CHILD_ENV) else {
        return; // a plain test run: nothing to do
    };
    let mut member = Member::join(&bootstrap, GROUP, TOPIC, &[]);
    let mut assigned = Vec::new();
    let started = Instant::now();
    while started.elapsed() < CHILD_LIFETIME_MAX {
        let before = member.seen_count();
        member.poll(Duration::from_millis(50));
        if member.seen_count() > before {
            // Reported before the commit: a kill between the two leaves a record reported and
            // consumed again, never one committed and unreported.
            report_new_records(&mut member);
            member.commit_seen(TOPIC);
        }
        let now = member.assigned();
        if now != assigned {
            let list: Vec<String> = now.iter().map(i32::to_string).collect();
            println!("assigned {}", list.join(" "));
            assigned = now;
        }
    }
}

/// Prints the records seen since the last call and forgets all but the last of each
/// partition, which the commit needs.
fn report_new_records(member: &mut Member) {
    for (partition, offsets) in &mut member.seen {
        let Some(&last) = offsets.last() else {
            continue;
        };
        for offset in offsets.drain(..) {
            println!("seen {partition} {offset}");
        }
        offsets.push(last);
    }
}

/// The parent's handle on the child member: what it said it was assigned and consumed.
struct ChildMember {
    process: Child,
    lines: mpsc::Receiver<String>,
    assigned: Vec<i32>,
    seen: Seen,
}

impl ChildMember {
    fn spawn(bootstrap: &str) -> ChildMember {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut process = Command::new(exe)
            .args(["child_member", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, bootstrap)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawning the child member");
        let stdout = process.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ChildMember {
            process,
            lines,
            assigned: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Takes in the lines printed so far.
    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            // The first report shares its line with libtest's "test child_member ... ".
            let report = line.rsplit(" ... ").next().unwrap_or_default();
            let mut words = report.split_whitespace();
            match words.next() {
                Some("assigned") => self.assigned = words.filter_map(|w| w.parse().ok()).collect(),
                Some("seen") => {
                    let numbers: Vec<i64> = words.filter_map(|w| w.parse().ok()).collect();
                    if let [partition, offset] = numbers[..] {
                        self.seen.entry(partition as i32).or_default().push(offset);
                    }
                }
                _ => {} // the test harness's own lines
            }
        }
    }

    fn seen_count(&self) -> usize {
        self.seen.values().map(Vec::len).sum()
    }

    /// SIGKILL: no LeaveGroup, no last commit. Returns what the child reported consuming.
    fn kill(mut self) -> Seen {
        self.process.kill().expect("sending SIGKILL to the child");
        self.process.wait().expect("waiting for the child");
        // The reader thread ends at the pipe's end; collect its last lines.
        std::thread::sleep(Duration::from_millis(100));
        self.drain();
        std::mem::take(&mut self.seen)
    }
}

impl Drop for ChildMember {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
