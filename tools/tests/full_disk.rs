//! A full disk, for real: a small ext4 or XFS filesystem mounted from a file. Produce with
//! acks=all until the broker answers KAFKA_STORAGE_ERROR (never a hang or a crash); then, after
//! a kill -9 and a restart on the still-full disk, every acknowledged record reads back. And
//! once space is freed, the same running broker takes writes into the partition again.
//!
//! Needs root (mount) and, for XFS, xfsprogs (`.ci/run` installs it); skipped with a line on
//! stderr where the machine cannot make and loop-mount the filesystem.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::producer::Producer;
use rdkafka::Offset;
use support::kafka;
use support::Broker;

const TOPIC: &str = "fills";
const LATE_TOPIC: &str = "created-on-a-full-disk";
/// How long the topic created on the full disk is given to take a record before space is
/// freed (it must not).
const LATE_TOPIC_WAIT: Duration = Duration::from_secs(3);
const MIB: u64 = 1024 * 1024;
const VALUE_BYTES: usize = 1024;
const ROUND_RECORDS: usize = 2000;
const FILL_TIMEOUT: Duration = Duration::from_secs(120);
/// How soon after space is freed the partition must take writes again (the broker looks
/// every second).
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The filesystems filled: ext4 (this machine's own) and XFS (the one Redpanda recommends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ext4,
    Xfs,
}

impl Kind {
    /// Small enough to fill in seconds, with room for the broker's own topics; mkfs.xfs makes
    /// nothing under 300 MB.
    fn bytes(self) -> u64 {
        match self {
            Kind::Ext4 => 96 * MIB,
            Kind::Xfs => 320 * MIB,
        }
    }

    /// The filesystem holds fewer records than this: filling must end in errors before it.
    fn records_max(self) -> usize {
        self.bytes() as usize / VALUE_BYTES * 2
    }

    /// A file on the small filesystem that an operator removes to make room.
    fn ballast_bytes(self) -> usize {
        self.bytes() as usize / 4
    }

    fn mkfs(self, image: &Path) -> bool {
        match self {
            Kind::Ext4 => run("mkfs.ext4", &["-q", "-F", path_str(image)]),
            Kind::Xfs => run("mkfs.xfs", &["-q", "-f", path_str(image)]),
        }
    }
}

#[test]
fn a_full_ext4_disk_answers_storage_errors_and_keeps_what_was_acknowledged() {
    full_disk_answers_storage_errors_and_keeps_what_was_acknowledged(Kind::Ext4);
}

#[test]
fn a_full_xfs_disk_answers_storage_errors_and_keeps_what_was_acknowledged() {
    full_disk_answers_storage_errors_and_keeps_what_was_acknowledged(Kind::Xfs);
}

#[test]
fn a_log_that_filled_an_ext4_disk_takes_writes_again_once_space_is_freed() {
    log_that_filled_the_disk_takes_writes_again_once_space_is_freed(Kind::Ext4);
}

#[test]
fn a_log_that_filled_an_xfs_disk_takes_writes_again_once_space_is_freed() {
    log_that_filled_the_disk_takes_writes_again_once_space_is_freed(Kind::Xfs);
}

fn full_disk_answers_storage_errors_and_keeps_what_was_acknowledged(kind: Kind) {
    let Some(filesystem) = SmallFilesystem::mount("full-disk", kind) else {
        return;
    };
    let mut broker = Broker::start_under(filesystem.mount_point(), "full-disk", 1, None);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 1);
    let producer = kafka::producer(&broker, &[("acks", "all"), ("linger.ms", "5")]);
    let (acknowledged, _) = fill_until_storage_errors(&producer, &broker, kind);

    broker.kill9();
    broker.restart();
    let consumer = kafka::consumer(&broker, &[]);
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Beginning);
    let consumed = kafka::consume(&consumer, acknowledged);
    for (index, consumed) in consumed.iter().enumerate() {
        assert_eq!(consumed.offset, index as i64);
        assert_eq!(consumed.record.value, record(index).value, "record {index}");
    }
    drop(consumer);
    drop(producer);
    drop(broker);
}

fn log_that_filled_the_disk_takes_writes_again_once_space_is_freed(kind: Kind) {
    let Some(filesystem) = SmallFilesystem::mount("disk-freed", kind) else {
        return;
    };
    let ballast = filesystem.mount_point().join("ballast");
    std::fs::write(&ballast, vec![0xa5; kind.ballast_bytes()]).expect("writing the ballast");
    let broker = Broker::start_under(filesystem.mount_point(), "disk-freed", 1, None);
    kafka::create_topic(&kafka::admin(&broker), TOPIC, 1);
    let producer = kafka::producer(&broker, &[("acks", "all"), ("linger.ms", "5")]);
    let (acknowledged_before, mut sent) = fill_until_storage_errors(&producer, &broker, kind);
    // A topic created on the full disk: its log cannot open yet, so it takes no record.
    kafka::create_topic(&kafka::admin(&broker), LATE_TOPIC, 1);
    let late = kafka::producer(&broker, &[("acks", "all")]);
    kafka::send(&late, LATE_TOPIC, 0, &record(0));
    // librdkafka holds the record while the partition answers NOT_LEADER_OR_FOLLOWER.
    let _ = late.flush(LATE_TOPIC_WAIT);
    // On ext4 the failed fill leaves less than a new log's first 1 MiB; XFS may leave more
    // (its failed fallocate keeps nothing), and the topic opens at once there.
    if kind == Kind::Ext4 {
        assert_eq!(
            late.context().delivered(),
            0,
            "{LATE_TOPIC} took a record on the full disk: the retry below would prove nothing"
        );
    }

    std::fs::remove_file(&ballast).expect("removing the ballast");
    let freed = Instant::now();
    let delivered = || producer.context().delivered();
    while delivered() == acknowledged_before {
        assert!(
            freed.elapsed() < RECOVERY_TIMEOUT,
            "no write went in {RECOVERY_TIMEOUT:?} after space was freed (the last failure: {:?}); the broker said: {}",
            producer.context().failures().last(),
            broker.stderr()
        );
        kafka::send(&producer, TOPIC, 0, &record(sent));
        sent += 1;
        producer.flush(kafka::TIMEOUT).expect("a delivery report");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "writes went in again {:?} after space was freed",
        freed.elapsed()
    );
    // The topic created on the full disk takes records too.
    while late.context().delivered() == 0 {
        assert!(
            freed.elapsed() < RECOVERY_TIMEOUT,
            "{LATE_TOPIC} took no record in {RECOVERY_TIMEOUT:?} after space was freed (the last failure: {:?}); the broker said: {}",
            late.context().failures().last(),
            broker.stderr()
        );
        kafka::send(&late, LATE_TOPIC, 0, &record(0));
        late.flush(kafka::TIMEOUT).expect("a delivery report");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(late);
    // From now on every record goes in.
    let failures_before = producer.context().failures().len();
    let round = sent..sent + ROUND_RECORDS;
    for index in round.clone() {
        kafka::send(&producer, TOPIC, 0, &record(index));
    }
    producer.flush(kafka::TIMEOUT).expect("delivery reports");
    assert_eq!(
        producer.context().failures().len(),
        failures_before,
        "failures after recovery: {:?}",
        &producer.context().failures()[failures_before..]
    );

    // The log holds every acknowledged record, once each, in the order sent: the records
    // from before the disk filled first, the last round last.
    let consumer = kafka::consumer(&broker, &[]);
    let (_, end) = consumer
        .fetch_watermarks(TOPIC, 0, kafka::TIMEOUT)
        .expect("the high watermark");
    assert!(
        end as usize >= delivered(),
        "{end} records, {} acknowledged",
        delivered()
    );
    kafka::assign(&consumer, TOPIC, 0..1, Offset::Beginning);
    let indexes: Vec<usize> = kafka::consume(&consumer, end as usize)
        .iter()
        .map(|consumed| record_index(consumed.record.value.as_deref().expect("a value")))
        .collect();
    assert_eq!(
        indexes[..acknowledged_before],
        (0..acknowledged_before).collect::<Vec<_>>()
    );
    assert!(
        indexes.windows(2).all(|pair| pair[0] < pair[1]),
        "out of order or twice"
    );
    assert_eq!(
        indexes[indexes.len() - ROUND_RECORDS..],
        round.collect::<Vec<_>>()
    );
    drop(consumer);
    drop(producer);
    drop(broker);
}

/// Produces rounds of records until the broker answers storage errors (and nothing else);
/// returns the records acknowledged, all before the first failure, and the records sent.
fn fill_until_storage_errors(
    producer: &kafka::TestProducer,
    broker: &Broker,
    kind: Kind,
) -> (usize, usize) {
    let started = Instant::now();
    let mut sent = 0;
    while producer.context().failures().is_empty() {
        assert!(
            sent < kind.records_max(),
            "{sent} records fit on a {}-byte disk",
            kind.bytes()
        );
        assert!(started.elapsed() < FILL_TIMEOUT, "the disk never filled");
        for _ in 0..ROUND_RECORDS {
            kafka::send(producer, TOPIC, 0, &record(sent));
            sent += 1;
        }
        producer
            .flush(Duration::from_secs(60))
            .expect("delivery reports in time");
    }
    let acknowledged = producer.context().delivered();
    let failures = producer.context().failures();
    eprintln!(
        "{acknowledged} of {sent} records acknowledged; first failure: {}",
        failures[0]
    );
    assert!(acknowledged > 0, "nothing fit");
    let unexpected: Vec<&String> = failures
        .iter()
        .filter(|failure| !failure.contains("Disk error"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} failures other than storage errors, the first: {}; the broker said: {}",
        unexpected.len(),
        unexpected[0],
        broker.stderr()
    );
    (acknowledged, sent)
}

/// The index `record` wrote into a value.
fn record_index(value: &[u8]) -> usize {
    let text = std::str::from_utf8(&value[..17]).expect("an ASCII value");
    text["record-".len()..].parse().expect("a record index")
}

fn record(index: usize) -> support::records::Record {
    let mut value = format!("record-{index:010}-").into_bytes();
    value.resize(VALUE_BYTES, b'.');
    support::records::Record {
        key: None,
        value: Some(value),
        headers: Vec::new(),
    }
}

/// An ext4 filesystem in a file, loop-mounted; unmounted (and the file removed) on drop.
struct SmallFilesystem {
    image: PathBuf,
    mount_point: PathBuf,
}

impl SmallFilesystem {
    /// None (with a line on stderr) where making or mounting it is not possible.
    fn mount(name: &str, kind: Kind) -> Option<SmallFilesystem> {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{name}-{kind:?}-{}", std::process::id()));
        std::fs::create_dir_all(&base).expect("creating the test directory");
        let image = base.join("disk.img");
        let mount_point = base.join("mnt");
        std::fs::create_dir_all(&mount_point).expect("creating the mount point");
        std::fs::File::create(&image)
            .and_then(|file| file.set_len(kind.bytes()))
            .expect("creating the image");
        if !kind.mkfs(&image)
            || !run(
                "mount",
                &["-o", "loop", path_str(&image), path_str(&mount_point)],
            )
        {
            eprintln!(
                "SKIPPED: cannot make and loop-mount {kind:?} here (needs root, and xfsprogs for XFS)"
            );
            let _ = std::fs::remove_dir_all(&base);
            return None;
        }
        Some(SmallFilesystem { image, mount_point })
    }

    fn mount_point(&self) -> &Path {
        &self.mount_point
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        if run("umount", &[path_str(&self.mount_point)]) {
            if let Some(base) = self.image.parent() {
                let _ = std::fs::remove_dir_all(base);
            }
        } else {
            eprintln!("could not unmount {}", self.mount_point.display());
        }
    }
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|output| output.status.success())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 test path")
}
