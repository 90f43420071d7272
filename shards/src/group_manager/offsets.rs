//! Committed offsets of a shard's groups: commits and deletions as Durable appends to the
//! group's `__consumer_offsets` partition, replay at start, and expiry.

use std::collections::HashMap;
use std::rc::Rc;

use pinlog_engine::{Durability, PartitionLog};
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::{BatchBuilder, Batches, NewRecord, RecordBatch};

use super::{
    offsets_partition, offsets_partitions, wall_clock_ms, GroupManager, GroupReply, OffsetToCommit,
};
use crate::group_offsets::{
    decode_key, decode_value, encode_key, encode_value, CommittedOffset, OffsetKey, OFFSETS_TOPIC,
    OFFSET_METADATA_BYTES_MAX,
};
use crate::limits::GROUP_LOAD_READ_BYTES;
use crate::partition_ops::LEADER_EPOCH;
use crate::shard::Shard;

impl GroupManager {
    pub(super) async fn commit(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
        offsets: Vec<OffsetToCommit>,
    ) -> Vec<ErrorCode> {
        let error = self.coordinator.borrow().validate_offset_commit(
            group_id,
            generation_id,
            member_id,
            group_instance_id,
        );
        if error != ErrorCode::None {
            return vec![error; offsets.len()];
        }
        let metadata = shard.metadata();
        let mut errors = Vec::with_capacity(offsets.len());
        let mut accepted: Vec<(OffsetKey, CommittedOffset)> = Vec::new();
        let now = wall_clock_ms();
        for offset in offsets {
            let known = metadata
                .topic(&offset.topic)
                .is_some_and(|t| (0..t.partitions).contains(&offset.partition));
            let error = if !known {
                ErrorCode::UnknownTopicOrPartition
            } else if offset
                .metadata
                .as_ref()
                .is_some_and(|m| m.len() > OFFSET_METADATA_BYTES_MAX)
            {
                ErrorCode::OffsetMetadataTooLarge
            } else {
                accepted.push((
                    OffsetKey {
                        group: group_id.to_string(),
                        topic: offset.topic,
                        partition: offset.partition,
                    },
                    CommittedOffset {
                        offset: offset.offset,
                        leader_epoch: offset.leader_epoch,
                        metadata: offset.metadata,
                        commit_timestamp_ms: now,
                    },
                ));
                ErrorCode::None
            };
            errors.push(error);
        }
        if accepted.is_empty() {
            return errors;
        }
        let keys: Vec<OffsetKey> = accepted.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<CommittedOffset> = accepted.into_iter().map(|(_, v)| v).collect();
        if let Err(error) = self
            .write_offsets(shard, group_id, &keys, Some(&values))
            .await
        {
            for slot in errors.iter_mut().filter(|e| **e == ErrorCode::None) {
                *slot = error;
            }
            return errors;
        }
        self.coordinator.borrow_mut().ensure_group(group_id);
        errors
    }

    pub(super) async fn delete_offsets(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        partitions: Vec<(String, i32)>,
    ) -> GroupReply {
        let description = self.coordinator.borrow().describe_group(group_id);
        let has_offsets = self.offsets.borrow().has_group(group_id);
        if description.state == "Dead" && !has_offsets {
            return GroupReply::DeleteOffsets(ErrorCode::GroupIdNotFound, Vec::new());
        }
        // Kafka refuses to delete offsets a live member still consumes; members' assignments
        // are opaque here, so any member blocks the deletion of the group's offsets.
        let in_use = !description.members.is_empty();
        let keys: Vec<OffsetKey> = partitions
            .iter()
            .map(|(topic, partition)| OffsetKey {
                group: group_id.to_string(),
                topic: topic.clone(),
                partition: *partition,
            })
            .collect();
        if in_use {
            return GroupReply::DeleteOffsets(
                ErrorCode::None,
                vec![ErrorCode::GroupSubscribedToTopic; keys.len()],
            );
        }
        match self.write_offsets(shard, group_id, &keys, None).await {
            Ok(()) => GroupReply::DeleteOffsets(ErrorCode::None, vec![ErrorCode::None; keys.len()]),
            Err(error) => GroupReply::DeleteOffsets(error, vec![error; keys.len()]),
        }
    }

    /// Appends offset records (or tombstones when `values` is None) Durable to the group's
    /// `__consumer_offsets` partition, then applies them.
    pub(super) async fn write_offsets(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        keys: &[OffsetKey],
        values: Option<&[CommittedOffset]>,
    ) -> Result<(), ErrorCode> {
        if keys.is_empty() {
            return Ok(());
        }
        let partition = offsets_partition(group_id, offsets_partitions(shard));
        let log = shard
            .log(OFFSETS_TOPIC, partition)
            .ok_or(ErrorCode::NotCoordinator)?;
        let now = wall_clock_ms();
        let mut builder = BatchBuilder::new();
        for (index, key) in keys.iter().enumerate() {
            builder.push(NewRecord {
                key: Some(encode_key(key)),
                value: values.map(|v| encode_value(&v[index])),
                headers: Vec::new(),
                timestamp: now,
            });
        }
        let batch = builder
            .build()
            .ok()
            .and_then(|bytes| RecordBatch::new(bytes).ok())
            .ok_or(ErrorCode::UnknownServerError)?;
        log.append(
            std::slice::from_ref(&batch),
            Durability::Durable,
            LEADER_EPOCH,
        )
        .await
        .map_err(|error| {
            tracing::error!(group_id, "writing committed offsets failed: {error}");
            error.error_code()
        })?;
        let mut store = self.offsets.borrow_mut();
        for (index, key) in keys.iter().enumerate() {
            store.apply(key.clone(), values.map(|v| v[index].clone()));
        }
        Ok(())
    }

    /// Replays one `__consumer_offsets` partition this shard owns: latest value per key.
    pub async fn load_partition(&self, partition: i32, log: &PartitionLog) {
        let mut offset = log.log_start_offset();
        let mut loaded = 0usize;
        while offset < log.high_watermark() {
            let read = match log.read(offset, GROUP_LOAD_READ_BYTES).await {
                Ok(read) => read,
                Err(error) => {
                    tracing::error!(
                        partition,
                        offset,
                        "loading committed offsets failed: {error}"
                    );
                    break;
                }
            };
            let before = offset;
            for chunk in read.chunks {
                for batch in Batches::new(chunk).flatten() {
                    offset = offset.max(batch.last_offset() + 1);
                    let Ok(records) = batch.records(DECOMPRESSED_BATCH_BYTES_MAX) else {
                        continue;
                    };
                    for record in records.flatten() {
                        let Some(key) = record.key.as_deref().and_then(decode_key) else {
                            continue;
                        };
                        let value = record.value.as_deref().and_then(decode_value);
                        self.offsets.borrow_mut().apply(key, value);
                        loaded += 1;
                    }
                }
            }
            if offset == before {
                break;
            }
        }
        let groups: Vec<String> = self.offsets.borrow().groups().cloned().collect();
        // Groups known only through their offsets are listed (state Empty), as in Kafka.
        let mut coordinator = self.coordinator.borrow_mut();
        for group in groups {
            coordinator.ensure_group(&group);
        }
        drop(coordinator);
        self.loaded.borrow_mut().insert(partition);
        tracing::debug!(partition, records = loaded, "committed offsets loaded");
    }

    /// Deletes offsets of groups without members that were committed longer ago than
    /// `retention_ms` (Kafka's offsets.retention.minutes).
    pub async fn expire_offsets(&self, shard: &Rc<Shard>, retention_ms: i64) {
        let cutoff = wall_clock_ms() - retention_ms;
        let expired = {
            let coordinator = self.coordinator.borrow();
            self.offsets.borrow().expired(cutoff, |group| {
                coordinator.describe_group(group).members.is_empty()
            })
        };
        let mut by_group: HashMap<String, Vec<OffsetKey>> = HashMap::new();
        for key in expired {
            by_group.entry(key.group.clone()).or_default().push(key);
        }
        for (group, keys) in by_group {
            if let Err(error) = self.write_offsets(shard, &group, &keys, None).await {
                tracing::warn!(group, ?error, "expiring committed offsets failed");
                continue;
            }
            // An empty group whose last offsets expired is gone, as in Kafka's cleanup.
            if !self.offsets.borrow().has_group(&group) {
                let error = self.coordinator.borrow_mut().delete_group(&group);
                tracing::debug!(group, ?error, "expired offsets removed the group");
            }
        }
    }
}
