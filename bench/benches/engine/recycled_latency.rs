//! Durable latency at 64 partitions once every log writes into recycled segment files (the
//! steady state of logs at their retention limit), with the shard's logs sharing one device
//! flush and, beside it, each log syncing its own files: what the shared flush gains. Then
//! young logs (no retention yet) past their first roll, with and without pre-written segment
//! files (`LogConfig::prewrite_spare`): what pre-writing gains where recycling cannot help.

use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use glommio::LocalExecutor;
use pinlog_engine::{Durability, LogConfig, ShardStorage};
use pinlog_protocol::records::RecordBatch;

use super::{Percentiles, Shard, KIB, LATENCY_MEASUREMENT, LATENCY_WARM_UP, MIB};

/// Small segments, so that every log reaches its limit after a short fill: each log holds
/// two segments, a third being written and a spare.
const SEGMENT_BYTES: u64 = 32 * MIB as u64;
const RETENTION_BYTES: u64 = 2 * SEGMENT_BYTES;
/// Segments each log fills before the measurement: past the first deletion and roll into a
/// spare, so every active segment is a recycled file.
const FILL_SEGMENTS: u64 = 4;
const SPARES_SETTLE: Duration = Duration::from_millis(500);
/// Longest wait for every young log's pre-written spare (one log of a shard at a time).
const PREWRITES_SETTLE_MAX: Duration = Duration::from_secs(30);

/// Both runs at `rate_per_s` (the rate of the 64-partition fresh-file run).
pub(super) fn recycled_latency(
    ex: &LocalExecutor,
    root: &Path,
    partitions: usize,
    batch: &Rc<RecordBatch>,
    rate_per_s: f64,
) -> Vec<Percentiles> {
    let mut out = Vec::new();
    for sharing in [true, false] {
        let shard = ex.run(open(root, partitions, batch.size_bytes(), sharing));
        let fill = FILL_SEGMENTS * SEGMENT_BYTES / batch.size_bytes() as u64;
        ex.run(shard.append_all(batch, Durability::Written, fill * partitions as u64));
        // The fill outruns eager retention's background deletions: let them leave their
        // spares, so the next rolls take recycled files.
        ex.run(glommio::timer::sleep(SPARES_SETTLE));
        let how = if sharing {
            "sharing the device flush"
        } else {
            "each syncing its own files"
        };
        let name = format!("{partitions}p in recycled files, {how}");
        out.push(measure(ex, shard, batch, rate_per_s, name));
    }
    out
}

/// Young logs past their first roll, in fresh files and in pre-written ones, at `rate_per_s`.
pub(super) fn young_latency(
    ex: &LocalExecutor,
    root: &Path,
    partitions: usize,
    batch: &Rc<RecordBatch>,
    rate_per_s: f64,
) -> Vec<Percentiles> {
    let mut out = Vec::new();
    for prewrite in [false, true] {
        let dir = root.join(format!("shard-young-{partitions}p-{prewrite}"));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = ShardStorage::new(&dir, 0);
        let config = LogConfig {
            segment_bytes: SEGMENT_BYTES,
            retention_bytes: None,
            max_message_bytes: (batch.size_bytes() + KIB) as u32,
            prewrite_spare: prewrite,
            ..LogConfig::default()
        };
        let shard = ex.run(Shard::open_logs(dir, &storage, partitions, config));
        // Just past half a segment each: the pre-writes start; then every log rolls, into its
        // pre-written file once that is ready, else into a fresh one.
        let half = SEGMENT_BYTES / 2 / batch.size_bytes() as u64 + 1;
        ex.run(shard.append_all(batch, Durability::Written, half * partitions as u64));
        ex.run(async {
            for log in &shard.logs {
                log.flush().await.expect("a flush");
            }
            if prewrite {
                let deadline = std::time::Instant::now() + PREWRITES_SETTLE_MAX;
                while shard.logs.iter().any(|log| !log.has_spare())
                    && std::time::Instant::now() < deadline
                {
                    glommio::timer::sleep(Duration::from_millis(10)).await;
                }
            }
            for log in &shard.logs {
                log.roll_now().await.expect("a roll");
            }
        });
        let files = if prewrite {
            "pre-written files"
        } else {
            "fresh files"
        };
        let name = format!("{partitions}p young logs in {files}");
        out.push(measure(ex, shard, batch, rate_per_s, name));
    }
    out
}

/// Durable appends at `rate_per_s` after a warm-up, then the shard's logs deleted.
fn measure(
    ex: &LocalExecutor,
    shard: Shard,
    batch: &Rc<RecordBatch>,
    rate_per_s: f64,
    name: String,
) -> Percentiles {
    ex.run(shard.fixed_rate(batch, rate_per_s, LATENCY_WARM_UP));
    let run = ex.run(shard.fixed_rate(batch, rate_per_s, LATENCY_MEASUREMENT));
    ex.run(shard.delete());
    Percentiles::of(name, run)
}

async fn open(root: &Path, partitions: usize, batch_bytes: usize, sharing: bool) -> Shard {
    let dir = root.join(format!("shard-recycled-{partitions}p-{sharing}"));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = ShardStorage::new(&dir, 0);
    storage.set_flush_sharing(sharing);
    let config = LogConfig {
        segment_bytes: SEGMENT_BYTES,
        retention_bytes: Some(RETENTION_BYTES),
        max_message_bytes: (batch_bytes + KIB) as u32,
        ..LogConfig::default()
    };
    Shard::open_logs(dir, &storage, partitions, config).await
}
