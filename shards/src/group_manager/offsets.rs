//! Committed offsets of a shard's groups: commits and deletions as Durable appends to the
//! group's `__consumer_offsets` partition, replay at start, and expiry.

use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use pinlog_engine::{Durability, PartitionLog};

use crate::groups::GroupRecord;
use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::limits::DECOMPRESSED_BATCH_BYTES_MAX;
use pinlog_protocol::records::{BatchBuilder, Batches, NewRecord, RecordBatch};

use super::{
    offsets_partition, offsets_partitions, wall_clock_ms, GroupManager, GroupReply, OffsetToCommit,
};
use crate::group_offsets::{
    decode_group_key, decode_key, decode_value, encode_group_key, encode_key, encode_value,
    CommittedOffset, OffsetKey, OFFSETS_TOPIC, OFFSET_METADATA_BYTES_MAX,
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
        let records = keys
            .iter()
            .enumerate()
            .map(|(index, key)| (encode_key(key), values.map(|v| encode_value(&v[index]))))
            .collect();
        self.append_records(shard, group_id, records).await?;
        let mut store = self.offsets.borrow_mut();
        for (index, key) in keys.iter().enumerate() {
            store.apply(key.clone(), values.map(|v| v[index].clone()));
        }
        Ok(())
    }

    /// Replays one `__consumer_offsets` partition this shard owns: latest value per key.
    /// Appends records (key, value or tombstone) Durable to the group's `__consumer_offsets`
    /// partition.
    async fn append_records(
        &self,
        shard: &Rc<Shard>,
        group_id: &str,
        records: Vec<(Bytes, Option<Bytes>)>,
    ) -> Result<(), ErrorCode> {
        let partition = offsets_partition(group_id, offsets_partitions(shard));
        let log = shard
            .log(OFFSETS_TOPIC, partition)
            .ok_or(ErrorCode::NotCoordinator)?;
        let now = wall_clock_ms();
        let mut builder = BatchBuilder::new();
        for (key, value) in records {
            builder.push(NewRecord {
                key: Some(key),
                value,
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
            tracing::error!(group_id, "writing to {OFFSETS_TOPIC} failed: {error}");
            error.error_code()
        })?;
        Ok(())
    }

    /// Writes the group's record if its generation, state or size changed since the last one
    /// (Kafka persists a group when it becomes Stable or Empty), or a tombstone once it is gone.
    pub(super) async fn persist_group(&self, shard: &Rc<Shard>, group_id: &str) {
        let signature = self.coordinator.borrow().group_signature(group_id);
        if self.persisted.borrow().get(group_id) == signature.as_ref() {
            return;
        }
        let value = match signature {
            None => None,
            Some(_) => match self.coordinator.borrow().group_record(group_id) {
                // Mid-rebalance: nothing to write until it settles.
                None => return,
                Some(record) => match serde_json::to_vec(&record) {
                    Ok(json) => Some(Bytes::from(json)),
                    Err(error) => {
                        tracing::error!(group_id, "encoding the group record failed: {error}");
                        return;
                    }
                },
            },
        };
        let records = vec![(encode_group_key(group_id), value)];
        match self.append_records(shard, group_id, records).await {
            Ok(()) => {
                let mut persisted = self.persisted.borrow_mut();
                match signature {
                    Some(signature) => persisted.insert(group_id.to_string(), signature),
                    None => persisted.remove(group_id),
                };
            }
            Err(error) => tracing::warn!(group_id, ?error, "persisting the group failed"),
        }
    }

    /// Persists every group whose record changed (after timers moved some).
    pub async fn persist_changed_groups(&self, shard: &Rc<Shard>) {
        let mut groups = self.coordinator.borrow().group_ids();
        groups.extend(self.persisted.borrow().keys().cloned());
        groups.sort();
        groups.dedup();
        for group_id in groups {
            self.persist_group(shard, &group_id).await;
        }
    }

    pub async fn load_partition(&self, partition: i32, log: &PartitionLog) {
        let mut offset = log.log_start_offset();
        let mut loaded = 0usize;
        // Latest record per group; None: the group was deleted.
        let mut group_records: HashMap<String, Option<GroupRecord>> = HashMap::new();
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
                        let Some(key) = record.key.as_deref() else {
                            continue;
                        };
                        if let Some(group) = decode_group_key(key) {
                            let value = record
                                .value
                                .as_deref()
                                .and_then(|v| serde_json::from_slice::<GroupRecord>(v).ok());
                            group_records.insert(group, value);
                        } else if let Some(key) = decode_key(key) {
                            let value = record.value.as_deref().and_then(decode_value);
                            self.offsets.borrow_mut().apply(key, value);
                        } else {
                            continue;
                        }
                        loaded += 1;
                    }
                }
            }
            if offset == before {
                break;
            }
        }
        let groups: Vec<String> = self.offsets.borrow().groups().cloned().collect();
        let now = self.now_ms();
        let mut coordinator = self.coordinator.borrow_mut();
        let mut persisted = self.persisted.borrow_mut();
        for (group, record) in group_records {
            if let Some(record) = record {
                coordinator.restore_group(now, &group, record);
                if let Some(signature) = coordinator.group_signature(&group) {
                    persisted.insert(group, signature);
                }
            }
        }
        // Groups known only through their offsets are listed (state Empty), as in Kafka.
        for group in groups {
            coordinator.ensure_group(&group);
            if let Some(signature) = coordinator.group_signature(&group) {
                persisted.entry(group).or_insert(signature);
            }
        }
        drop(persisted);
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
