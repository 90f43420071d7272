//! Starting and stopping the broker: one pinned glommio executor per shard, the channel mesh,
//! the metadata log handed to shard 0, signal handling, and a clean shutdown.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use glommio::channels::channel_mesh::MeshBuilder;
use glommio::{LocalExecutorBuilder, Placement};
use pinlog_engine::log::{deleted_log_dir, is_deleted_log_dir};
use pinlog_engine::{DataDir, EngineError, LogErasure, ShardStorage};
use pinlog_protocol::error_code::ErrorCode;

use crate::config::BrokerConfig;
use crate::controller::Controller;
use crate::controller::{ControllerRequest, NewTopic};
use crate::error::BrokerError;
use crate::group_offsets::OFFSETS_TOPIC;
use crate::limits::{
    GROUP_TICK_MS, MESH_CHANNEL_MESSAGES, SHARD_START_SECONDS_MAX, SHUTDOWN_POLL_MS,
};
use crate::mesh::{self, Mesh, MeshMessage};
use crate::metadata::log::{MetadataLog, METADATA_DIR};
use crate::metadata::{validate_topic_name, ClusterMetadata};
use crate::shard::Shard;
use crate::{network, numa};

/// Shard threads are named this plus their index (the panic hook tells them by it).
const SHARD_THREAD_PREFIX: &str = "pinlog-shard-";

/// Runs the broker until SIGINT or SIGTERM, then shuts it down cleanly: stop accepting,
/// finish in-flight requests, flush and close every log.
pub fn serve(config: BrokerConfig) -> Result<(), BrokerError> {
    let shard_count = config.shard_count();
    if shard_count == 0 {
        return Err(BrokerError::Config("shards must be at least 1".into()));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        BrokerError::Config(format!(
            "creating the data directory {}: {e}",
            config.data_dir.display()
        ))
    })?;
    // Absolute from here on: glommio cannot open paths relative to the working directory.
    let mut config = config;
    config.data_dir = std::fs::canonicalize(&config.data_dir).map_err(|e| {
        BrokerError::Config(format!(
            "resolving the data directory {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let _lock = DataDir::open(&config.data_dir, config.io_mode())?;
    network::check_address_free(config.listen)?;
    let (metadata_log, metadata, report) = MetadataLog::open(&config.data_dir)?;
    if report.truncated_bytes > 0 {
        tracing::warn!(
            bytes = report.truncated_bytes,
            "cut a torn tail off the metadata log"
        );
    }
    let mut deleted_logs = set_aside_removed_logs(&config.data_dir, &metadata);
    let io_memory = io_memory_per_shard(shard_count);

    let stop = Arc::new(AtomicBool::new(false));
    let signals = block_shutdown_signals()?;
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    if !cores.is_empty() && shard_count > cores.len() {
        tracing::warn!(
            shard_count,
            cores = cores.len(),
            "more shards than cores: some share a core"
        );
    }
    let config = Arc::new(config);
    let mesh = MeshBuilder::<MeshMessage, _>::full(shard_count, MESH_CHANNEL_MESSAGES);
    let metadata_log = Arc::new(Mutex::new(Some(metadata_log)));
    report_shard_panics();
    let (ready_sender, ready) = mpsc::channel::<Result<usize, String>>();
    let mut handles = Vec::with_capacity(shard_count);
    for index in 0..shard_count {
        let core = cores.get(index % cores.len().max(1)).map(|c| c.id);
        let placement = core.map_or(Placement::Unbound, Placement::Fixed);
        let start = ShardStart {
            index,
            core,
            config: config.clone(),
            metadata: metadata.clone(),
            metadata_log: metadata_log.clone(),
            mesh: mesh.clone(),
            stop: stop.clone(),
            ready: ready_sender.clone(),
            erase_at_start: if index == 0 {
                std::mem::take(&mut deleted_logs)
            } else {
                Vec::new()
            },
        };
        let handle = LocalExecutorBuilder::new(placement)
            .name(&format!("{SHARD_THREAD_PREFIX}{index}"))
            .io_memory(io_memory)
            .spawn(move || run_shard(start))
            .map_err(|e| BrokerError::Shard {
                shard: index,
                reason: e.to_string(),
            })?;
        handles.push(handle);
    }
    drop(ready_sender);

    let mut started = 0;
    let mut failure = None;
    while started < shard_count {
        match ready.recv_timeout(Duration::from_secs(SHARD_START_SECONDS_MAX)) {
            Ok(Ok(_)) => started += 1,
            Ok(Err(reason)) => {
                failure = Some(reason);
                break;
            }
            Err(_) => {
                failure = Some("a shard did not start in time".into());
                break;
            }
        }
    }
    if failure.is_none() {
        println!(
            "pinlog listening on {} ({shard_count} shards)",
            config.listen
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        failure = wait_for_shutdown(&signals, &ready);
        tracing::info!("shutting down");
    }
    stop.store(true, Ordering::SeqCst);
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                failure.get_or_insert(reason);
            }
            Err(error) => {
                failure.get_or_insert(format!("shard {index}: {error}"));
            }
        }
    }
    match failure {
        Some(reason) => Err(BrokerError::Shard { shard: 0, reason }),
        None => Ok(()),
    }
}

struct ShardStart {
    index: usize,
    core: Option<usize>,
    config: Arc<BrokerConfig>,
    metadata: ClusterMetadata,
    metadata_log: Arc<Mutex<Option<MetadataLog>>>,
    mesh: MeshBuilder<MeshMessage, glommio::channels::channel_mesh::Full>,
    stop: Arc<AtomicBool>,
    ready: mpsc::Sender<Result<usize, String>>,
    /// Deleted log directories for this shard to erase once it serves.
    erase_at_start: Vec<PathBuf>,
}

async fn run_shard(start: ShardStart) -> Result<(), String> {
    let ready = start.ready.clone();
    let result = run_shard_inner(start).await;
    if let Err(reason) = &result {
        let _ = ready.send(Err(reason.clone()));
    }
    result
}

/// Set by the panic hook when a shard's thread panics. The main thread would not hear of it
/// otherwise: the broker kept running without the shard, its connections and partitions
/// unanswered. It now shuts down and exits non-zero, for its supervisor to restart it.
static SHARD_PANICKED: AtomicBool = AtomicBool::new(false);

/// Installs the hook that sets [`SHARD_PANICKED`] (before the default report of the panic).
fn report_shard_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with(SHARD_THREAD_PREFIX))
        {
            SHARD_PANICKED.store(true, Ordering::SeqCst);
        }
        previous(info);
    }));
}

async fn run_shard_inner(start: ShardStart) -> Result<(), String> {
    let fail = |reason: String| format!("shard {}: {reason}", start.index);
    // Joining first: a shard that failed before joining would leave the others waiting.
    let (senders, receivers) = start
        .mesh
        .join()
        .await
        .map_err(|e| fail(format!("joining the mesh: {e}")))?;
    if senders.peer_id() != start.index {
        return Err(fail(format!(
            "mesh position {} differs from the shard index",
            senders.peer_id()
        )));
    }
    if let Some(core) = start.core {
        let node = numa::node_of_cpu(core);
        match numa::prefer_node(node) {
            Ok(()) => tracing::debug!(
                shard = start.index,
                core,
                node,
                "memory policy: prefer the core's NUMA node"
            ),
            Err(error) => tracing::warn!(
                shard = start.index,
                core,
                node,
                "setting the NUMA memory policy failed: {error}"
            ),
        }
    }
    let controller = if start.index == crate::controller::CONTROLLER_SHARD {
        let log = start
            .metadata_log
            .lock()
            .map_err(|_| fail("the metadata log lock is poisoned".into()))?
            .take()
            .ok_or_else(|| fail("the metadata log was taken twice".into()))?;
        Some(Controller::new(log))
    } else {
        None
    };
    let storage = ShardStorage::new(&start.config.data_dir, start.config.shard_cache_bytes);
    let shard = Rc::new(Shard::new(
        start.config.clone(),
        storage,
        start.metadata,
        Mesh::new(senders),
        controller,
    ));
    mesh::spawn_receivers(&shard, receivers);
    shard.open_all().await;
    let listener = network::bind(start.config.listen).map_err(|e| fail(e.to_string()))?;
    let watcher = {
        let shard = shard.clone();
        let stop = start.stop.clone();
        glommio::spawn_local(async move {
            while !stop.load(Ordering::SeqCst) {
                glommio::timer::sleep(Duration::from_millis(SHUTDOWN_POLL_MS)).await;
            }
            shard.begin_shutdown();
        })
        .detach()
    };
    if start.index == crate::controller::CONTROLLER_SHARD {
        ensure_offsets_topic(&shard).await;
    }
    let ticker = {
        let shard = shard.clone();
        glommio::spawn_local(async move { run_group_timers(shard).await }).detach()
    };
    let retention = {
        let shard = shard.clone();
        glommio::spawn_local(async move { run_retention(shard).await }).detach()
    };
    let failed_logs = {
        let shard = shard.clone();
        glommio::spawn_local(crate::log_recovery::run_failed_log_recovery(shard)).detach()
    };
    let _ = start.ready.send(Ok(start.index));
    for dir in start.erase_at_start {
        crate::shard::erase_in_background(start.index, LogErasure::of(dir));
    }
    network::accept_loop(shard.clone(), listener).await;
    watcher.cancel();
    ticker.cancel();
    retention.cancel();
    failed_logs.cancel();
    // A log closed already (its reopen after a full disk was cut short) has nothing to close.
    for log in shard.all_logs().into_iter().filter(|log| !log.is_closed()) {
        if let Err(error) = log.close().await {
            tracing::error!(shard = start.index, "closing a log at shutdown: {error}");
        }
    }
    if let Some(controller) = shard.controller() {
        controller.close();
    }
    // Peers may still be draining requests that need this shard; give them the same grace
    // before the mesh goes away.
    Ok(())
}

/// Creates `__consumer_offsets` on first start (compacted: retention must never delete the
/// latest committed offsets).
async fn ensure_offsets_topic(shard: &Rc<Shard>) {
    if shard.metadata().topic(OFFSETS_TOPIC).is_some() {
        return;
    }
    let reply = crate::controller::call(
        shard,
        ControllerRequest::CreateTopics {
            topics: vec![NewTopic {
                name: OFFSETS_TOPIC.into(),
                partitions: shard.config().offsets_topic_partitions,
                replication_factor: -1,
                assignments: Vec::new(),
                configs: vec![("cleanup.policy".into(), Some("compact".into()))],
            }],
            validate_only: false,
        },
    )
    .await;
    if let Some(outcome) = reply
        .outcomes
        .first()
        .filter(|o| o.error != ErrorCode::None)
    {
        tracing::error!(error = ?outcome.error, message = ?outcome.message, "creating {OFFSETS_TOPIC} failed");
    }
}

/// Runs the groups' timers, and now and then expires old committed offsets.
async fn run_group_timers(shard: Rc<Shard>) {
    let retention_ms = shard
        .config()
        .offsets_retention_minutes
        .saturating_mul(60_000);
    let checks_every = (shard.config().offsets_retention_check_interval_ms / GROUP_TICK_MS).max(1);
    let mut ticks: u64 = 0;
    while !shard.is_shutting_down() {
        glommio::timer::sleep(Duration::from_millis(GROUP_TICK_MS)).await;
        shard.groups().tick();
        shard.groups().persist_changed_groups(&shard).await;
        ticks += 1;
        if ticks.is_multiple_of(checks_every) {
            shard.groups().expire_offsets(&shard, retention_ms).await;
        }
    }
}

/// Now and then applies every owned log's retention (Kafka's log cleaner for `delete`).
async fn run_retention(shard: Rc<Shard>) {
    let interval = Duration::from_millis(shard.config().log_retention_check_interval_ms.max(1));
    while !shard.is_shutting_down() {
        glommio::timer::sleep(interval).await;
        for log in shard.all_logs() {
            if shard.is_shutting_down() {
                return;
            }
            match log.enforce_retention().await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(
                    shard = shard.id(),
                    log = %log.dir().display(),
                    deleted,
                    "retention deleted segments"
                ),
                // A closed or deleted log (its topic went away meanwhile) has nothing to keep.
                Err(EngineError::Closed { .. } | EngineError::Deleted { .. }) => {}
                Err(error) => tracing::warn!(
                    shard = shard.id(),
                    log = %log.dir().display(),
                    "applying retention: {error}"
                ),
            }
        }
    }
}

/// Takes the logs of deleted topics out of the way at start: `topic-N` directories that the
/// metadata no longer names (a crash between a topic's deletion in the metadata log and its
/// logs' renaming) are renamed as deleted logs are. Returns every deleted log directory, those
/// and the ones a crash left before their erasure ended, for shard 0 to erase in the
/// background: a large one must not hold the start up.
fn set_aside_removed_logs(data_dir: &Path, metadata: &ClusterMetadata) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Vec::new();
    };
    let mut deleted = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == METADATA_DIR || !entry.path().is_dir() {
            continue;
        }
        if is_deleted_log_dir(name) {
            deleted.push(entry.path());
            continue;
        }
        let Some((topic, partition)) = name.rsplit_once('-') else {
            continue;
        };
        let Ok(partition) = partition.parse::<i32>() else {
            continue;
        };
        if validate_topic_name(topic).is_err() {
            continue;
        }
        let known = metadata
            .topic(topic)
            .is_some_and(|t| (0..t.partitions).contains(&partition));
        if !known {
            tracing::info!(dir = name, "removing the log of a deleted topic");
            let renamed = deleted_log_dir(&entry.path());
            match std::fs::rename(entry.path(), &renamed) {
                Ok(()) => deleted.push(renamed),
                Err(error) => {
                    tracing::warn!(dir = name, "removing an orphaned log failed: {error}")
                }
            }
        }
    }
    deleted
}

/// The DMA memory each shard's executor registers with io_uring: as much as the locked-memory
/// limit allows (the engine raises the soft limit to the hard one). Registration that cannot
/// get its memory is never a silent slowdown: the log says so, with the fix.
fn io_memory_per_shard(shard_count: usize) -> usize {
    let plan = pinlog_engine::io::recommended_io_memory(shard_count);
    if plan.bytes < pinlog_engine::limits::IO_MEMORY_BYTES_MAX {
        tracing::warn!(
            bytes_per_shard = plan.bytes,
            reason = %plan.reason,
            "the locked-memory limit keeps io_uring's registered DMA buffers small, so larger \
             writes pin their pages each time (slower). Fix: `ulimit -l unlimited` before \
             starting, or LimitMEMLOCK=infinity in the systemd unit"
        );
    }
    plan.bytes
}

/// Blocks SIGINT and SIGTERM in this thread and in every thread it starts afterwards, so that
/// only [`wait_for_shutdown`] receives them.
fn block_shutdown_signals() -> Result<libc::sigset_t, BrokerError> {
    // SAFETY: plain signal-set manipulation on a zeroed sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        let result = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if result != 0 {
            return Err(BrokerError::Config(format!(
                "blocking SIGINT/SIGTERM: {}",
                std::io::Error::from_raw_os_error(result)
            )));
        }
        Ok(set)
    }
}

/// Returns on SIGINT or SIGTERM (None), or with the reason a shard failed on its own.
fn wait_for_shutdown(
    signals: &libc::sigset_t,
    shard_failures: &mpsc::Receiver<Result<usize, String>>,
) -> Option<String> {
    let timeout = libc::timespec {
        tv_sec: 0,
        tv_nsec: (SHUTDOWN_POLL_MS * 1_000_000) as libc::c_long,
    };
    loop {
        // SAFETY: sigtimedwait reads the set and the timeout we pass; no siginfo is requested.
        let signal = unsafe { libc::sigtimedwait(signals, std::ptr::null_mut(), &timeout) };
        if signal == libc::SIGINT || signal == libc::SIGTERM {
            return None;
        }
        let failure = match shard_failures.try_recv() {
            Ok(Err(reason)) => Some(reason),
            _ if SHARD_PANICKED.load(Ordering::SeqCst) => Some("a shard panicked".to_string()),
            _ => None,
        };
        if let Some(reason) = failure {
            tracing::error!("{reason}; shutting the broker down");
            return Some(reason);
        }
    }
}
