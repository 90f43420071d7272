//! The workloads through librdkafka (`--client rdkafka`), a neutral reference for pinlog's own
//! client and a way to load brokers with the client most Kafka users run.
//!
//! Each producer and consumer connection is a librdkafka client driven by its own thread,
//! pinned round-robin to the `--cores` CPUs with `sched_setaffinity`: [`producer`] uses a
//! `BaseProducer` with a delivery callback that times each record, [`consumer`] a
//! `BaseConsumer` with `assign()` (no group, no commits). librdkafka's own I/O threads are not
//! pinned and run beside ours, so this client uses more CPU than `--cores` names; keep that in
//! mind when comparing it with `--client pinlog`.
//!
//! Option mapping: `--batch-size` → `batch.size`, `--linger-ms` → `linger.ms`, `--acks` →
//! `acks`, `--compression` → `compression.type`, `--max-in-flight` →
//! `max.in.flight.requests.per.connection`; no idempotence and no retries, so that a broker
//! error shows as an error instead of a silent resend.

mod consumer;
mod producer;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use super::args::LoadArgs;
use super::plan::{merge_recorders, Outcome, Plan, Tally, TopicPartition};
use super::{LogEnd, WorkloadError};

/// Bound on metadata, offset and topic-creation calls.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a record may wait in librdkafka for delivery (`message.timeout.ms`).
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// librdkafka's producer queue (`queue.buffering.max.messages`): sends beyond it wait.
pub const PRODUCER_QUEUE_MESSAGES_MAX: u32 = 100_000;
/// librdkafka's producer queue in KiB (`queue.buffering.max.kbytes`): 32 MiB, the Java
/// producer's `buffer.memory`.
pub const PRODUCER_QUEUE_KIB_MAX: u32 = 32 * 1024;

const CLIENT: &str = "rdkafka";
/// Environment variable whose value is passed as librdkafka's `debug` setting.
pub const RDKAFKA_DEBUG_ENV: &str = "PINLOG_BENCH_RDKAFKA_DEBUG";

/// `librdkafka <version>`.
pub fn version() -> String {
    format!("librdkafka {}", rdkafka::util::get_rdkafka_version().1)
}

fn client_error(detail: impl std::fmt::Display) -> WorkloadError {
    WorkloadError::Client {
        client: CLIENT,
        detail: detail.to_string(),
    }
}

/// Settings every client of a run shares.
fn base_config(args: &LoadArgs) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.bootstrap)
        .set("client.id", "pinlog-bench");
    // librdkafka's own debug contexts (e.g. `fetch,msg`), for looking into a run.
    if let Ok(contexts) = std::env::var(RDKAFKA_DEBUG_ENV) {
        config.set("debug", contexts);
    }
    config
}

/// Creates the topics that are missing and checks that the others have enough partitions.
pub fn prepare_topics(args: &LoadArgs) -> Result<Vec<TopicPartition>, WorkloadError> {
    let names = args.topic_names();
    let admin: AdminClient<DefaultClientContext> =
        base_config(args).create().map_err(client_error)?;
    let new_topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            NewTopic::new(
                name,
                args.partitions as i32,
                TopicReplication::Fixed(i32::from(args.replication_factor)),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    let created = futures::executor::block_on(admin.create_topics(&new_topics, &options))
        .map_err(client_error)?;
    for outcome in created {
        match outcome {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(client_error(format!("creating topic {topic}: {code}")))
            }
        }
    }
    let consumer = metadata_consumer(args)?;
    let mut partitions = Vec::new();
    for name in &names {
        let existing = partition_count(&consumer, name)?;
        if existing < args.partitions as usize {
            return Err(WorkloadError::TooFewPartitions {
                topic: name.clone(),
                existing,
                wanted: args.partitions,
            });
        }
        partitions.extend((0..args.partitions as i32).map(|partition| TopicPartition {
            topic: name.clone(),
            partition,
        }));
    }
    Ok(partitions)
}

/// Partitions of `topic`; a freshly created topic may take a moment to appear everywhere.
fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<usize, WorkloadError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), ADMIN_TIMEOUT)
        .map_err(client_error)?;
    let topic_metadata = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| client_error(format!("no metadata for topic {topic}")))?;
    if let Some(error) = topic_metadata.error() {
        let code = RDKafkaErrorCode::from(error);
        return Err(client_error(format!("metadata for topic {topic}: {code}")));
    }
    Ok(topic_metadata.partitions().len())
}

fn metadata_consumer(args: &LoadArgs) -> Result<BaseConsumer, WorkloadError> {
    base_config(args)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(client_error)
}

/// The low or high watermark of each partition.
pub fn log_offsets(
    args: &LoadArgs,
    partitions: &[TopicPartition],
    end: LogEnd,
) -> Result<Vec<i64>, WorkloadError> {
    let consumer = metadata_consumer(args)?;
    partitions
        .iter()
        .map(|tp| {
            let (low, high) = consumer
                .fetch_watermarks(&tp.topic, tp.partition, ADMIN_TIMEOUT)
                .map_err(client_error)?;
            Ok(match end {
                LogEnd::Earliest => low,
                LogEnd::Latest => high,
            })
        })
        .collect()
}

/// Runs the plan's producers and consumers, one pinned thread per connection. Consumers are
/// started (and assigned) before the producers.
pub fn execute(args: &LoadArgs, plan: &Plan) -> Result<Outcome, WorkloadError> {
    let cores = args.core_list();
    let producers = if plan.produce.is_some() {
        args.producers
    } else {
        0
    };
    let tally = Tally::new(producers);
    let (consumer_outcomes, producer_outcomes) = thread::scope(|scope| {
        let mut core_of = (0..).map(|i: usize| cores[i % cores.len()]);
        let consumers: Vec<_> = match &plan.consume {
            Some(_) => (0..args.consumers)
                .map(|index| {
                    let (core, tally) = (core_of.next(), Arc::clone(&tally));
                    let positions = plan.consumer_share(index, args.consumers);
                    scope.spawn(move || consumer::run(args, plan, positions, core, &tally))
                })
                .collect(),
            None => Vec::new(),
        };
        let producers: Vec<_> = (0..producers)
            .map(|index| {
                let (core, tally) = (core_of.next(), Arc::clone(&tally));
                scope.spawn(move || producer::run(args, plan, index, core, &tally))
            })
            .collect();
        let join = |handles: Vec<thread::ScopedJoinHandle<'_, _>>, what| {
            handles
                .into_iter()
                .map(|handle| handle.join().map_err(|_| WorkloadError::Panicked(what))?)
                .collect::<Result<Vec<_>, WorkloadError>>()
        };
        let producer_outcomes = join(producers, "producer");
        (join(consumers, "consumer"), producer_outcomes)
    });
    Ok(Outcome {
        produce: merge_recorders(producer_outcomes?),
        consume: merge_recorders(consumer_outcomes?),
        tally,
    })
}

/// Pins the calling thread to `core`.
fn pin_current_thread(core: Option<usize>) -> Result<(), WorkloadError> {
    let Some(core) = core else { return Ok(()) };
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes inside it (core is at most
    // CORE_ID_MAX, below CPU_SETSIZE), and sched_setaffinity(0, ..) only reads it.
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if result != 0 {
        return Err(WorkloadError::Pin {
            core,
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}
