//! `pinlog dump-log` on the data a real broker wrote (produced through librdkafka, the broker
//! then stopped): a clean directory passes; a flipped byte inside a batch, a corrupt index
//! entry and a lying batch length are each reported where they are, with a non-zero exit.

mod support;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use pinlog_protocol::records::{set_base_offset, BatchBuilder, NewRecord};
use serde_json::Value;

use support::cli::{run_offline, single_error_line, stdout_of_success};
use support::kafka;
use support::records::Record;
use support::Broker;

const TOPIC: &str = "logs";
const RECORDS: usize = 2_000;

/// A stopped broker's data directory holding `RECORDS` records of `TOPIC` in many batches,
/// some gzip-compressed, enough bytes for several index entries.
fn stopped_broker_with_data(name: &str) -> Broker {
    let mut broker = Broker::start(name, 1);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 1);
    for (codec, range) in [("none", 0..RECORDS / 2), ("gzip", RECORDS / 2..RECORDS)] {
        let producer = kafka::producer(
            &broker,
            &[
                ("compression.type", codec),
                ("batch.num.messages", "50"),
                ("linger.ms", "5"),
            ],
        );
        for index in range {
            let record = Record {
                key: Some(format!("k{index}").into_bytes()),
                value: Some(format!("value {index} {}", "x".repeat(index % 300)).into_bytes()),
                headers: Vec::new(),
            };
            kafka::send(&producer, TOPIC, 0, &record);
        }
        kafka::flush(&producer);
    }
    broker.stop();
    broker
}

fn dump(args: &[&str]) -> std::process::Output {
    let mut all = vec!["dump-log"];
    all.extend_from_slice(args);
    run_offline(&all)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

fn segment(broker: &Broker, suffix: &str) -> PathBuf {
    broker
        .data_dir()
        .join(format!("{TOPIC}-0"))
        .join(format!("{:020}.{suffix}", 0))
}

fn flip_byte(path: &Path, position: u64) {
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("opening");
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, position).expect("reading");
    byte[0] ^= 0x5a;
    file.write_all_at(&byte, position).expect("writing");
}

#[test]
fn a_clean_data_directory_passes_and_each_kind_of_damage_is_reported() {
    let broker = stopped_broker_with_data("cli-dump-log");
    let data = broker.data_dir();
    let data_arg = data.to_str().expect("UTF-8 path");
    // A deleted log halfway through its erasure (cut mid-batch) is no partition to check.
    let deleted = data.join(format!("{TOPIC}-0.1700000000000.0-delete"));
    fs::create_dir(&deleted).expect("planting a deleted log");
    let log = fs::read(segment(&broker, "log")).expect("reading the segment");
    fs::write(deleted.join(format!("{:020}.log", 0)), &log[..1000]).expect("a cut copy");

    let clean = json_lines(&stdout_of_success(
        &["dump-log"],
        dump(&[data_arg, "--json"]),
    ));
    let batches = of_type(&clean, "batch");
    assert!(batches.len() >= 40, "{} batches", batches.len());
    assert!(batches
        .iter()
        .all(|b| b["crc_valid"] == true && b["valid"] == true));
    let counted: i64 = batches
        .iter()
        .map(|b| b["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(counted, RECORDS as i64);
    assert!(batches.iter().any(|b| b["compression"] == "gzip"));
    let entries = of_type(&clean, "index_entry");
    assert!(entries.len() >= 4, "{} index entries", entries.len());
    assert!(
        entries.iter().all(|e| e["consistent"] == true),
        "{entries:?}"
    );
    assert!(
        entries.iter().any(|e| e["timestamp"].is_i64()),
        "no time index entries"
    );
    // The partition's log ends after its last batch, in the pre-allocated zeros (the other
    // partitions of the directory, __consumer_offsets', are all zeros).
    let last = batches.last().expect("a batch");
    let log_end =
        last["position"].as_u64().expect("position") + last["size"].as_u64().expect("size");
    let ends = of_type(&clean, "end");
    assert!(
        ends.iter()
            .any(|e| e["position"] == log_end && e["zero_bytes"].as_u64() > Some(0)),
        "{ends:?}"
    );
    assert_eq!(of_type(&clean, "summary")[0]["corrupt"], 0);

    let records = json_lines(&stdout_of_success(
        &["dump-log"],
        dump(&[
            segment(&broker, "log").to_str().expect("path"),
            "--json",
            "--print-records",
        ]),
    ));
    let records = of_type(&records, "record");
    assert_eq!(records.len(), RECORDS);
    assert_eq!(records[1234]["key"], "k1234");
    assert_eq!(records[1234]["offset"], 1234);

    let text = stdout_of_success(&["dump-log"], dump(&[data_arg]));
    assert!(
        text.contains(&format!("Dumping {}", segment(&broker, "log").display())),
        "{text}"
    );
    assert!(text.contains("position: 0 base_offset: 0 "), "{text}");
    assert!(
        text.lines()
            .last()
            .expect("a summary")
            .starts_with("summary: "),
        "{text}"
    );

    // One flipped byte in the records of the third batch: that batch's CRC fails, the scan
    // goes on to the batches after it.
    let third = batches[2]["position"].as_u64().expect("position");
    let log = segment(&broker, "log");
    flip_byte(&log, third + 70);
    let output = dump(&[data_arg]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let error = single_error_line(&["dump-log"], output);
    assert!(error.contains("corruption found: 1 corrupt"), "{error}");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("position: {third} ")))
        .expect("the corrupt batch's line");
    assert!(
        line.contains("crc_valid: false CORRUPT: crc at byte 17"),
        "{line}"
    );
    let listed = text
        .lines()
        .filter(|l| l.contains(" base_offset: "))
        .count();
    assert_eq!(
        listed,
        batches.len(),
        "the scan continues after the bad batch"
    );
    flip_byte(&log, third + 70);

    // An offset index entry pointing one byte past a batch start.
    let index = segment(&broker, "index");
    flip_byte(&index, 8 + 7); // the low byte of entry 1's position
    let output = dump(&[index.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let error = single_error_line(&["dump-log"], output);
    assert!(error.contains("1 index inconsistenc"), "{error}");
    let line = text
        .lines()
        .find(|l| l.starts_with("entry: 1 "))
        .expect("entry 1");
    assert!(line.contains("INCONSISTENT: position"), "{line}");
    assert!(line.contains("is not the start of a valid batch"), "{line}");
    flip_byte(&index, 8 + 7);

    // Header fields outside the CRC: the first batch's baseOffset against the file name, a
    // middle batch's baseOffset against the batch before it, a leader epoch that goes back.
    let first = batches[0]["position"].as_u64().expect("position");
    for (byte, expected) in [
        (first + 7, "above the segment's base offset 0"),
        (third + 6, "skips offsets"),
        (third + 12, "partitionLeaderEpoch"),
    ] {
        flip_byte(&log, byte);
        let output = dump(&[log.to_str().expect("path")]);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let error = single_error_line(&["dump-log"], output);
        assert!(error.contains("1 corrupt"), "byte {byte}: {error}");
        let corrupt: Vec<_> = text.lines().filter(|l| l.contains("CORRUPT")).collect();
        assert_eq!(corrupt.len(), 1, "byte {byte}: {text}");
        assert!(corrupt[0].contains(expected), "byte {byte}: {}", corrupt[0]);
        assert!(corrupt[0].contains("crc_valid: true"), "{}", corrupt[0]);
        flip_byte(&log, byte);
    }

    // Indexes whose segment file is gone: an inconsistency, not a note.
    let moved = log.with_extension("moved");
    fs::rename(&log, &moved).expect("moving the segment away");
    let output = dump(&[data_arg]);
    let error = single_error_line(&["dump-log"], output);
    assert!(error.contains("index inconsistenc"), "{error}");
    fs::rename(&moved, &log).expect("moving the segment back");

    // A batchLength that runs past the end of the file: reported, the scan stops, no panic.
    let last = batches.last().expect("a batch")["position"]
        .as_u64()
        .expect("position");
    fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .expect("opening")
        .write_all_at(&0x3fff_0000i32.to_be_bytes(), last + 8)
        .expect("writing");
    let output = dump(&[log.to_str().expect("path")]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    single_error_line(&["dump-log"], output);
    assert!(
        text.contains(&format!(
            "position: {last} CORRUPT: batchLength 1073676288 is impossible"
        )),
        "{text}"
    );
}

#[test]
fn paths_without_segments_are_one_line_errors() {
    let dir = std::env::var_os("PINLOG_TEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")))
        .join(format!("cli-dump-log-empty-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("creating a directory");
    let not_a_segment = dir.join("notes.txt");
    fs::write(&not_a_segment, "hello").expect("writing");
    let empty = dir.to_str().expect("path");
    let error = single_error_line(&["dump-log"], dump(&[empty]));
    assert!(error.contains("holds no segment files"), "{error}");
    let error = single_error_line(
        &["dump-log"],
        dump(&[not_a_segment.to_str().expect("path")]),
    );
    assert!(error.contains("is not a segment file"), "{error}");
    let error = single_error_line(&["dump-log"], dump(&["/nonexistent/pinlog"]));
    assert!(error.contains("/nonexistent/pinlog"), "{error}");
    let _ = fs::remove_dir_all(&dir);
}

/// A batch at baseOffset i64::MAX (its CRC still valid: baseOffset lies outside it) and an
/// index entry one past the base of a segment named `09223372036854775807`: the offsets after
/// them do not fit an i64. Both are reported as damage, without overflowing.
#[test]
fn offsets_past_the_end_of_the_i64_range_are_reported_as_corrupt() {
    let dir = std::env::var_os("PINLOG_TEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")))
        .join(format!("cli-dump-log-overflow-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating a directory");
    let mut batch = BatchBuilder::new()
        .record(NewRecord {
            key: None,
            value: Some(Bytes::from_static(b"the last offset there is")),
            headers: Vec::new(),
            timestamp: 1,
        })
        .build()
        .expect("building")
        .to_vec();
    set_base_offset(&mut batch, i64::MAX).expect("rewriting baseOffset");
    let base = format!("{:020}", i64::MAX);
    assert_eq!(base, "09223372036854775807");
    fs::write(dir.join(format!("{base}.log")), &batch).expect("writing the log");
    // One offset index entry: relative offset 1, position 0.
    let entry = [1u32.to_be_bytes(), 0u32.to_be_bytes()].concat();
    fs::write(dir.join(format!("{base}.index")), entry).expect("writing the index");

    let output = dump(&[dir.to_str().expect("path"), "--json"]);
    let lines = json_lines(&String::from_utf8_lossy(&output.stdout));
    let error = single_error_line(&["dump-log"], output);
    assert!(
        error.contains("1 corrupt") && error.contains("1 index inconsistenc"),
        "{error}"
    );
    let batches = of_type(&lines, "batch");
    assert_eq!(batches.len(), 1, "{lines:?}");
    assert_eq!(batches[0]["crc_valid"], true);
    assert_eq!(batches[0]["valid"], false);
    let problem = batches[0]["problem"].as_str().expect("a problem");
    assert!(problem.contains("overflows"), "{problem}");
    let entries = of_type(&lines, "index_entry");
    assert_eq!(entries.len(), 1, "{lines:?}");
    assert_eq!(entries[0]["consistent"], false);
    assert_eq!(entries[0]["relative_offset"], 1);
    let problem = entries[0]["problem"].as_str().expect("a problem");
    assert!(problem.contains("overflows"), "{problem}");
    let _ = fs::remove_dir_all(&dir);
}
