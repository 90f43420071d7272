//! Every workload kind, through both clients, against the real pinlog broker: short runs
//! that must exit 0, write a report that parses, move every acknowledged record end to end,
//! and keep a fixed rate.

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::LocalExecutorBuilder;
use pinlog_bench::client::{Connection, FetchPosition, FetchSpec, LATEST_TIMESTAMP};
use pinlog_bench::report::{read_json, Report, WorkloadResult};
use pinlog_protocol::records::batches::Batches;
use support::Broker;

/// A run that takes longer than this is stuck (the runs ask for about two seconds).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// The fixed-rate run's rate and how far off it may land on a busy two-core machine.
const RATE: u64 = 1000;
const RATE_TOLERANCE: f64 = 0.3;
/// A median end-to-end latency at `RATE` above this means records wait out a Fetch's
/// `max_wait` (100 ms) instead of being answered as they arrive.
const LONG_POLL_MEDIAN_MS_MAX: f64 = 15.0;

/// Runs `pinlog-bench <kind> <args>` against `broker` and returns its report.
fn bench(broker: &Broker, kind: &str, client: &str, args: &[&str]) -> Report {
    let json = broker.dir().join(format!("{kind}-{client}.json"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinlog-bench"))
        .arg(kind)
        .args(["--bootstrap", broker.bootstrap(), "--client", client])
        .args([
            "--topic",
            "bench",
            "--partitions",
            "4",
            "--message-size",
            "200",
        ])
        .args(["--warmup", "0s", "--quiet", "--json"])
        .arg(&json)
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawning pinlog-bench");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling pinlog-bench") {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            panic!("pinlog-bench {kind} --client {client} still runs after {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "pinlog-bench {kind} --client {client}: {status}"
    );
    read_report(&json)
}

/// The report the run wrote, checked against the committed schema first: the files CI keeps
/// are the ones that must validate, not only reports built in a test.
fn read_report(path: &Path) -> Report {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let document: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    if let Err(error) = common::Validator::new().check(&document) {
        panic!(
            "{} does not validate against the schema: {error}",
            path.display()
        );
    }
    read_json(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn workload<'a>(report: &'a Report, name: &str) -> &'a WorkloadResult {
    let run = report.runs.last().expect("one run");
    run.workloads
        .iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no {name} result in {:?}", run.workloads))
}

/// produce, then consume what it wrote, then end-to-end at a fixed rate, through `client`.
fn every_kind_completes(client: &str) {
    let broker = Broker::start(&format!("kinds-{client}"));

    let produced = bench(
        &broker,
        "produce",
        client,
        &["--duration", "1s", "--repeat", "2"],
    );
    assert_eq!(produced.kind, "produce");
    assert_eq!(produced.runs.len(), 2);
    assert_eq!(produced.summary.len(), 1);
    let written: u64 = produced
        .runs
        .iter()
        .map(|run| run.workloads[0].records)
        .sum();
    let first = workload(&produced, "produce");
    assert!(first.records > 0 && first.errors == 0, "{first:?}");
    assert!(first.latency.is_some());

    let consumed = bench(&broker, "consume", client, &["--duration", "20s"]);
    let read = workload(&consumed, "consume");
    // The own client times its Fetches; librdkafka's fetches are out of sight.
    assert_eq!(
        read.latency.is_some_and(|l| l.count > 0),
        client == "pinlog",
        "{:?}",
        read.latency
    );
    assert_eq!(
        read.records, written,
        "consume reads everything produce wrote"
    );
    assert_eq!(read.errors, 0);

    let rate = RATE.to_string();
    let records = (2 * RATE).to_string();
    let args = ["--rate", &rate, "--records", &records];
    let end_to_end = bench(&broker, "end-to-end", client, &args);
    let sent = workload(&end_to_end, "produce");
    let received = workload(&end_to_end, "end-to-end");
    assert_eq!(sent.records, 2 * RATE);
    assert_eq!(
        received.records, sent.records,
        "records produced == records consumed"
    );
    assert!(received.latency.is_some_and(|l| l.count == 2 * RATE));
    // Not a performance check: a record waits for the consumer's long poll only if something
    // holds its Fetch answer back (two lanes sharing a connection did: the broker answers a
    // connection's requests in order, so one lane's 100 ms wait held the other's data and
    // the median came out at half the wait).
    let median_ms = received.latency.map_or(f64::MAX, |l| l.p50_us / 1000.0);
    assert!(
        median_ms < LONG_POLL_MEDIAN_MS_MAX,
        "median end-to-end latency {median_ms:.1} ms at {RATE}/s"
    );
    let achieved = sent.records_per_sec / RATE as f64;
    assert!(
        (1.0 - RATE_TOLERANCE..1.0 + RATE_TOLERANCE).contains(&achieved),
        "asked for {RATE}/s, sent {:.0}/s",
        sent.records_per_sec
    );
}

/// A batch closes before the record that would take it past `--batch-size`, as Kafka's
/// producer does: 1 MiB batches stay under the broker's default `max.message.bytes`
/// (1 MiB + 12), where batches one record over it were all refused as MESSAGE_TOO_LARGE.
#[test]
fn batches_of_the_largest_default_size_are_accepted() {
    let broker = Broker::start("batch-size");
    let report = bench(
        &broker,
        "produce",
        "pinlog",
        &["--batch-size", "1MiB", "--records", "30000"],
    );
    let produced = workload(&report, "produce");
    assert_eq!(
        (produced.records, produced.errors),
        (30000, 0),
        "{produced:?}"
    );
}

/// With `--linger-ms 0` and one request slot, the records that come while the slot is taken
/// fill batches, as in Kafka's producer: requests grow with the load. (The producer once built
/// each batch before waiting for a slot: one record per batch, and at a fixed rate it kept
/// 22k of 329k records/s.)
#[test]
fn batches_fill_while_every_request_slot_is_taken() {
    const RECORDS: u64 = 20_000;
    let broker = Broker::start("linger-zero");
    let records = RECORDS.to_string();
    let report = bench(
        &broker,
        "produce",
        "pinlog",
        &[
            "--linger-ms",
            "0",
            "--max-in-flight",
            "1",
            "--records",
            &records,
        ],
    );
    let produced = workload(&report, "produce");
    assert_eq!((produced.records, produced.errors), (RECORDS, 0));
    let (records_read, batches) = count_batches(broker.bootstrap(), "bench", 4);
    assert_eq!(records_read, RECORDS);
    assert!(
        batches <= RECORDS / 4,
        "{batches} batches for {RECORDS} records: batches did not fill while the slot was taken"
    );
}

/// Reads `topic`'s partitions from the start to their ends: (records, batches).
fn count_batches(bootstrap: &str, topic: &str, partitions: i32) -> (u64, u64) {
    let (address, topic) = (bootstrap.to_string(), topic.to_string());
    let task = move || async move {
        let topic = Rc::<str>::from(topic);
        let connection = Connection::connect(&address, "batch-count")
            .await
            .expect("connect");
        let keys: Vec<(Rc<str>, i32)> = (0..partitions).map(|p| (topic.clone(), p)).collect();
        let ends = connection
            .list_offsets(&keys, LATEST_TIMESTAMP)
            .await
            .expect("ends");
        let mut next = vec![0i64; partitions as usize];
        let (mut records, mut batches) = (0u64, 0u64);
        while ends.iter().any(|(_, p, end)| next[*p as usize] < *end) {
            let positions = (0..partitions).map(|partition| FetchPosition {
                topic: topic.clone(),
                partition,
                offset: next[partition as usize],
                partition_max_bytes: 1 << 20,
            });
            let spec = FetchSpec {
                max_wait_ms: 100,
                min_bytes: 1,
                max_bytes: 4 << 20,
                partitions: positions.collect(),
            };
            for fetched in connection.fetch(spec).await.expect("fetch") {
                assert_eq!(fetched.error_code, 0);
                for batch in Batches::new(fetched.records.clone()) {
                    let Ok(batch) = batch else { break };
                    let slot = &mut next[fetched.partition as usize];
                    if batch.base_offset() >= *slot {
                        records += u64::try_from(batch.records_count()).expect("a count");
                        batches += 1;
                        *slot = batch.last_offset() + 1;
                    }
                }
            }
        }
        (records, batches)
    };
    LocalExecutorBuilder::default()
        .spawn(task)
        .expect("an executor")
        .join()
        .expect("the executor's result")
}

#[test]
fn every_kind_completes_with_rdkafka() {
    every_kind_completes("rdkafka");
}

#[test]
fn every_kind_completes_with_pinlog() {
    every_kind_completes("pinlog");
}

#[test]
fn a_record_bound_run_that_ends_inside_its_warm_up_fails_instead_of_reporting_zeros() {
    let broker = Broker::start("inside-warmup");
    let output = Command::new(env!("CARGO_BIN_EXE_pinlog-bench"))
        .args(["produce", "--bootstrap", broker.bootstrap(), "--quiet"])
        .args(["--topic", "warm", "--records", "50", "--warmup", "60s"])
        .stdin(Stdio::null())
        .output()
        .expect("running pinlog-bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing measured"), "{stderr}");
    assert!(stderr.contains("--warmup 0"), "{stderr}");
}

#[test]
fn a_prefill_is_written_once_however_many_repetitions_read_it() {
    let broker = Broker::start("prefill-once");
    let report = bench(
        &broker,
        "consume",
        "pinlog",
        &["--prefill", "500", "--repeat", "3", "--duration", "20s"],
    );
    let read: Vec<u64> = report
        .runs
        .iter()
        .map(|run| run.workloads[0].records)
        .collect();
    assert_eq!(
        read,
        [500, 500, 500],
        "each repetition reads the one prefill"
    );
}

#[test]
fn a_bootstrap_list_uses_the_first_broker_that_answers() {
    let broker = Broker::start("bootstrap-list");
    let bootstrap = format!("127.0.0.1:1,{}", broker.bootstrap());
    let output = Command::new(env!("CARGO_BIN_EXE_pinlog-bench"))
        .args(["produce", "--bootstrap", &bootstrap, "--quiet"])
        .args(["--topic", "listed", "--records", "100", "--warmup", "0s"])
        .stdin(Stdio::null())
        .output()
        .expect("running pinlog-bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
}
