//! Checks of a reopened crash-cut copy (see `crash_cuts.rs` beside this file): what survives,
//! what is served, and that appends continue.

use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use pinlog_engine::{Durability, PartitionLog, ShardStorage};
use pinlog_protocol::records::RecordBatch;

use super::crash_cuts::{batch_at, config, timestamp, Expected, Original, LEADER_EPOCH};
use super::{split_batches, stored_bytes};

pub async fn check_reopen(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    expected: &Expected,
    continue_after: bool,
) -> Result<(), String> {
    let log = check_reopen_inner(storage, work, original, expected).await?;
    if continue_after {
        continue_appending(storage, work, original, log).await
    } else {
        crash(log).await;
        Ok(())
    }
}

pub async fn check_reopen_inner(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    expected: &Expected,
) -> Result<PartitionLog, String> {
    let log = PartitionLog::open(storage, work, config())
        .await
        .map_err(|e| format!("reopening: {e}"))?;
    match check_contents(&log, original, expected).await {
        Ok(()) => Ok(log),
        Err(e) => {
            close(log).await;
            Err(e)
        }
    }
}

/// (a) every batch before the damage, byte for byte; (b) every batch served valid; (c) the log
/// ends where the intact batches end.
pub async fn check_contents(
    log: &PartitionLog,
    original: &Original,
    expected: &Expected,
) -> Result<(), String> {
    let end = log.log_end_offset();
    let end_of = |index: usize| {
        original.batches.get(index).map_or_else(
            || original.batches.last().expect("batches").last + 1,
            |b| b.base,
        )
    };
    let end_index = if expected.epoch_only.is_some_and(|i| end == end_of(i)) {
        expected.epoch_only.expect("checked")
    } else {
        expected.end_index
    };
    if end != end_of(end_index) {
        return Err(format!(
            "log end {end}, expected {} (the first {end_index} batches intact)",
            end_of(end_index)
        ));
    }
    if log.high_watermark() != end {
        return Err(format!(
            "high watermark {} below {end}",
            log.high_watermark()
        ));
    }
    let got = read_everything(log).await?;
    if got.len() != end_index {
        return Err(format!("{} batches read, {end_index} intact", got.len()));
    }
    for (index, (bytes, want)) in got.iter().zip(&original.batches).enumerate() {
        let want = match &expected.damaged_bytes {
            Some((damaged, bytes)) if *damaged == index => bytes,
            _ => &want.bytes,
        };
        if bytes != want {
            return Err(format!(
                "batch {index} (offset {}) differs",
                original.batches[index].base
            ));
        }
    }
    let values = super::values(
        &log.read(0, 1 << 20)
            .await
            .map_err(|e| e.to_string())?
            .chunks,
    );
    for (offset, got) in values {
        if got != original.values[offset as usize] {
            return Err(format!("value of offset {offset} differs"));
        }
    }
    Ok(())
}

/// Every batch from the log start to the high watermark, each validated.
pub async fn read_everything(log: &PartitionLog) -> Result<Vec<Bytes>, String> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    let hw = log.high_watermark();
    while offset < hw {
        let read = log
            .read(offset, 1 << 20)
            .await
            .map_err(|e| format!("read({offset}): {e}"))?;
        let batches = split_batches(&read.chunks);
        if batches.is_empty() {
            return Err(format!(
                "read({offset}) below the high watermark {hw} is empty"
            ));
        }
        for bytes in batches {
            let batch = RecordBatch::new(bytes.clone()).map_err(|e| e.to_string())?;
            batch
                .validate_header()
                .map_err(|e| format!("served an invalid batch at {}: {e}", batch.base_offset()))?;
            if batch.base_offset() != offset {
                return Err(format!(
                    "read from {offset} gave a batch at {}",
                    batch.base_offset()
                ));
            }
            offset = batch.last_offset() + 1;
            out.push(bytes);
        }
    }
    Ok(out)
}

/// (d) appends continue at the log end and read back, with everything before, after another
/// reopen.
pub async fn continue_appending(
    storage: &Rc<ShardStorage>,
    work: &Path,
    original: &Original,
    log: PartitionLog,
) -> Result<(), String> {
    let end = log.log_end_offset();
    let batch = batch_at(end, 3, false);
    let outcome = log
        .append(
            std::slice::from_ref(&batch),
            Durability::Durable,
            LEADER_EPOCH,
        )
        .await
        .map_err(|e| format!("appending after recovery: {e}"))?;
    close(log).await;
    if outcome.base_offset != end {
        return Err(format!(
            "append at {} after recovery to {end}",
            outcome.base_offset
        ));
    }
    let log = PartitionLog::open(storage, work, config())
        .await
        .map_err(|e| format!("reopening after the append: {e}"))?;
    let result = async {
        if log.log_end_offset() != end + 3 {
            return Err(format!(
                "log end {} after appending at {end}",
                log.log_end_offset()
            ));
        }
        let got = read_everything(&log).await?;
        let (last, before) = got.split_last().ok_or("nothing read")?;
        if *last != stored_bytes(&batch, end, LEADER_EPOCH) {
            return Err("the batch appended after recovery differs".into());
        }
        let count = original.batches.iter().take_while(|b| b.last < end).count();
        if before.len() != count {
            return Err(format!(
                "{} batches before the new one, {count} expected",
                before.len()
            ));
        }
        Ok(())
    }
    .await;
    close(log).await;
    result
}

/// A read at each batch of the active segment with a tiny `max_bytes`: the index lookup must
/// find exactly that batch.
pub async fn point_reads(log: &PartitionLog, original: &Original) -> Result<(), String> {
    for batch in original.active_batches() {
        for offset in [batch.base, batch.last] {
            let read = log
                .read(offset, 1)
                .await
                .map_err(|e| format!("read({offset}): {e}"))?;
            let got = split_batches(&read.chunks);
            if got.first() != Some(&batch.bytes) {
                let served: Vec<String> = got
                    .iter()
                    .map(|b| match RecordBatch::new(b.clone()) {
                        Ok(batch) => format!(
                            "{} bytes at offset {}, {:?}",
                            b.len(),
                            batch.base_offset(),
                            batch.validate_header()
                        ),
                        Err(e) => format!("{} bytes: {e}", b.len()),
                    })
                    .collect();
                return Err(format!(
                    "read({offset}) did not start with the batch {}..={}: served {served:?}",
                    batch.base, batch.last
                ));
            }
        }
    }
    Ok(())
}

/// ListOffsets by time for each batch of the active segment and the one before it.
pub async fn timestamp_lookups(log: &PartitionLog, original: &Original) -> Result<(), String> {
    let active = original.active_batches();
    let before = original
        .batches
        .iter()
        .rev()
        .find(|b| b.segment != original.active_base());
    for batch in before.into_iter().chain(active) {
        let offset = batch.base;
        let found = log
            .offset_for_timestamp(timestamp(offset))
            .await
            .map_err(|e| format!("offset_for_timestamp: {e}"))?;
        if found != Some((offset, timestamp(offset))) {
            return Err(format!(
                "offset_for_timestamp({}) = {found:?}, expected offset {offset}",
                timestamp(offset)
            ));
        }
    }
    Ok(())
}

/// Drops the log unclosed (the copy is restored before the next reopen anyway).
pub async fn crash(log: PartitionLog) {
    drop(log);
    glommio::timer::sleep(std::time::Duration::from_micros(100)).await;
}

pub async fn close(log: PartitionLog) {
    let _ = log.close().await;
    drop(log);
    // Dropped files close on the executor's next I/O cycle.
    glommio::timer::sleep(std::time::Duration::from_micros(100)).await;
}
