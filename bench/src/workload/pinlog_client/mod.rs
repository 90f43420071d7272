//! The workloads through pinlog's own client (`--client pinlog`, the default): the
//! pipelined glommio [`Connection`](crate::client::Connection) on the protocol crate.
//!
//! One glommio `LocalExecutor` per `--cores` entry, pinned with `Placement::Fixed`; producer
//! and consumer connections are spread round-robin over them and run as tasks, so several
//! connections share an executor without threads or locks. A producer ([`producer`])
//! accumulates a batch per partition until `--batch-size` or `--linger-ms`, then sends the
//! ready batches of one leader in one Produce request, with up to `--max-in-flight`
//! requests outstanding per connection. A consumer ([`consumer`]) fetches its share of the
//! partitions in a loop, one Fetch per leader at a time.
//!
//! Every connection asks the bootstrap broker for metadata and connects to each partition
//! leader it needs, so the bench also loads multi-broker Kafka clusters.

mod consumer;
mod producer;

pub use self::consumer::FETCH_MAX_WAIT_MS;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use glommio::{LocalExecutorBuilder, Placement};

use super::args::LoadArgs;
use super::plan::{merge_recorders, Outcome, Plan, Tally, TopicPartition};
use super::{LogEnd, WorkloadError};
use crate::client::{ClientError, Connection};
use crate::report::Recorder;

/// `client.id` in request headers.
pub const CLIENT_ID: &str = "pinlog-bench";
/// Timeout the broker is given for CreateTopics.
pub const CREATE_TOPICS_TIMEOUT_MS: i32 = 30_000;
/// ListOffsets' timestamps for the log start and end.
const EARLIEST_TIMESTAMP: i64 = -2;
const LATEST_TIMESTAMP: i64 = -1;

fn client_error(detail: impl std::fmt::Display) -> WorkloadError {
    WorkloadError::Client {
        client: "pinlog",
        detail: detail.to_string(),
    }
}

impl From<ClientError> for WorkloadError {
    fn from(error: ClientError) -> WorkloadError {
        client_error(error)
    }
}

/// Runs `task` on a fresh executor on this side of the run (setup calls).
fn block_on<T, F>(task: impl FnOnce() -> F + Send + 'static) -> Result<T, WorkloadError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, WorkloadError>> + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .name("pinlog-bench-setup")
        .spawn(task)
        .and_then(|handle| handle.join())
        .map_err(client_error)?
}

/// Creates the topics that are missing and checks that the others have enough partitions.
pub fn prepare_topics(args: &LoadArgs) -> Result<Vec<TopicPartition>, WorkloadError> {
    let (bootstrap, names, wanted) = (args.bootstrap.clone(), args.topic_names(), args.partitions);
    let replication_factor = args.replication_factor;
    block_on(move || async move {
        let connection = Connection::connect_bootstrap(&bootstrap, CLIENT_ID).await?;
        let requested: Vec<(String, i32)> = names
            .iter()
            .map(|name| (name.clone(), wanted as i32))
            .collect();
        connection
            .create_topics(&requested, replication_factor, CREATE_TOPICS_TIMEOUT_MS)
            .await?;
        let metadata = connection.metadata(Some(&names)).await?;
        let mut partitions = Vec::new();
        for name in &names {
            let existing = metadata
                .topics
                .get(name)
                .filter(|topic| topic.error_code == 0)
                .map_or(0, |topic| topic.partitions.len());
            if existing < wanted as usize {
                return Err(WorkloadError::TooFewPartitions {
                    topic: name.clone(),
                    existing,
                    wanted,
                });
            }
            partitions.extend((0..wanted as i32).map(|partition| TopicPartition {
                topic: name.clone(),
                partition,
            }));
        }
        Ok(partitions)
    })
}

/// The log start or end offset of each partition, asked of its leader.
pub fn log_offsets(
    args: &LoadArgs,
    partitions: &[TopicPartition],
    end: LogEnd,
) -> Result<Vec<i64>, WorkloadError> {
    let (bootstrap, partitions) = (args.bootstrap.clone(), partitions.to_vec());
    let timestamp = match end {
        LogEnd::Earliest => EARLIEST_TIMESTAMP,
        LogEnd::Latest => LATEST_TIMESTAMP,
    };
    block_on(move || async move {
        let leaders = Leaders::connect(&bootstrap, &partitions).await?;
        let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for (connection, owned) in leaders.by_connection() {
            let asked: Vec<(Rc<str>, i32)> = owned
                .iter()
                .map(|&i| {
                    (
                        Rc::from(partitions[i].topic.as_str()),
                        partitions[i].partition,
                    )
                })
                .collect();
            for (topic, partition, offset) in connection.list_offsets(&asked, timestamp).await? {
                offsets.insert((topic.to_string(), partition), offset);
            }
        }
        partitions
            .iter()
            .map(|tp| {
                offsets
                    .get(&(tp.topic.clone(), tp.partition))
                    .copied()
                    .ok_or_else(|| {
                        client_error(format!("no offset for {}-{}", tp.topic, tp.partition))
                    })
            })
            .collect()
    })
}

/// One connection per partition leader, and which connection leads each partition.
pub(super) struct Leaders {
    pub connections: Vec<Rc<Connection>>,
    /// The address of each connection's broker.
    pub addresses: Vec<String>,
    /// Index into `connections`, per partition of the list it was built for.
    pub leader_of: Vec<usize>,
}

impl Leaders {
    pub async fn connect(
        bootstrap: &str,
        partitions: &[TopicPartition],
    ) -> Result<Leaders, WorkloadError> {
        let bootstrap_connection = Connection::connect_bootstrap(bootstrap, CLIENT_ID).await?;
        let mut names: Vec<String> = partitions.iter().map(|tp| tp.topic.clone()).collect();
        names.dedup();
        let metadata = bootstrap_connection.metadata(Some(&names)).await?;
        let mut connections = Vec::new();
        let mut addresses = Vec::new();
        let mut by_node: BTreeMap<i32, usize> = BTreeMap::new();
        let mut leader_of = Vec::with_capacity(partitions.len());
        for tp in partitions {
            let partition = metadata
                .topics
                .get(&tp.topic)
                .and_then(|topic| topic.partitions.get(&tp.partition))
                .ok_or_else(|| {
                    client_error(format!("no metadata for {}-{}", tp.topic, tp.partition))
                })?;
            if partition.error_code != 0 {
                return Err(WorkloadError::Partition {
                    what: "metadata for",
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    code: partition.error_code,
                });
            }
            let index = match by_node.get(&partition.leader_id) {
                Some(&index) => index,
                None => {
                    let address = metadata.brokers.get(&partition.leader_id).ok_or_else(|| {
                        client_error(format!(
                            "leader {} is not among the brokers",
                            partition.leader_id
                        ))
                    })?;
                    connections.push(Connection::connect(address, CLIENT_ID).await?);
                    addresses.push(address.clone());
                    by_node.insert(partition.leader_id, connections.len() - 1);
                    connections.len() - 1
                }
            };
            leader_of.push(index);
        }
        Ok(Leaders {
            connections,
            addresses,
            leader_of,
        })
    }

    /// Another connection to the broker of `connections[index]`.
    pub async fn another_connection(&self, index: usize) -> Result<Rc<Connection>, WorkloadError> {
        Ok(Connection::connect(&self.addresses[index], CLIENT_ID).await?)
    }

    /// Each connection with the indexes of the partitions it leads.
    pub fn by_connection(&self) -> Vec<(Rc<Connection>, Vec<usize>)> {
        self.connections
            .iter()
            .enumerate()
            .map(|(index, connection)| {
                let owned = (0..self.leader_of.len())
                    .filter(|&p| self.leader_of[p] == index)
                    .collect();
                (Rc::clone(connection), owned)
            })
            .collect()
    }
}

type TaskResult = Result<(Recorder, std::time::Instant), WorkloadError>;

/// Spawns `run` on this executor for each of `indexes` (producer or consumer numbers).
fn spawn_each<F, Task>(
    indexes: Vec<u32>,
    args: &Rc<LoadArgs>,
    plan: &Rc<Plan>,
    tally: &Arc<Tally>,
    run: F,
) -> Vec<glommio::Task<TaskResult>>
where
    F: Fn(Rc<LoadArgs>, Rc<Plan>, u32, Arc<Tally>) -> Task,
    Task: std::future::Future<Output = TaskResult> + 'static,
{
    indexes
        .into_iter()
        .map(|index| {
            glommio::spawn_local(run(
                Rc::clone(args),
                Rc::clone(plan),
                index,
                Arc::clone(tally),
            ))
        })
        .collect()
}

/// Runs the plan: one pinned executor per core, the connections spread over them.
pub fn execute(args: &LoadArgs, plan: &Plan) -> Result<Outcome, WorkloadError> {
    let cores = args.core_list();
    let producers = if plan.produce.is_some() {
        args.producers
    } else {
        0
    };
    let consumers = if plan.consume.is_some() {
        args.consumers
    } else {
        0
    };
    let tally = Tally::new(producers);
    let mut handles = Vec::new();
    for (slot, &core) in cores.iter().enumerate() {
        // One numbering over producers then consumers, as the rdkafka client pins its
        // threads: with two cores, producer 0 and consumer 0 get one each.
        let on_this = |first: u32, count: u32| -> Vec<u32> {
            (0..count)
                .filter(|i| (first + i) as usize % cores.len() == slot)
                .collect()
        };
        let (my_producers, my_consumers) = (on_this(0, producers), on_this(producers, consumers));
        if my_producers.is_empty() && my_consumers.is_empty() {
            continue;
        }
        let (args, plan, tally) = (args.clone(), plan.clone(), Arc::clone(&tally));
        let handle = LocalExecutorBuilder::new(Placement::Fixed(core))
            .name(&format!("pinlog-bench-{core}"))
            .spawn(move || async move {
                let (args, plan) = (Rc::new(args), Rc::new(plan));
                let consumer_tasks = spawn_each(my_consumers, &args, &plan, &tally, consumer::run);
                let producer_tasks = spawn_each(my_producers, &args, &plan, &tally, producer::run);
                let produced: Vec<TaskResult> = futures::future::join_all(producer_tasks).await;
                let consumed: Vec<TaskResult> = futures::future::join_all(consumer_tasks).await;
                (produced, consumed)
            })
            .map_err(|error| {
                client_error(format!("starting an executor on CPU {core}: {error}"))
            })?;
        handles.push(handle);
    }
    let (mut produced, mut consumed) = (Vec::new(), Vec::new());
    for handle in handles {
        let (p, c) = handle
            .join()
            .map_err(|_| WorkloadError::Panicked("pinlog executor"))?;
        produced.extend(p);
        consumed.extend(c);
    }
    Ok(Outcome {
        produce: merge_recorders(produced.into_iter().collect::<Result<_, _>>()?),
        consume: merge_recorders(consumed.into_iter().collect::<Result<_, _>>()?),
        tally,
    })
}
