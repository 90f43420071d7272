//! Committed consumer-group offsets: records in the internal topic `__consumer_offsets`, and
//! the in-memory view (latest value per key) that OffsetFetch reads.
//!
//! A commit is appended Durable to the group's `__consumer_offsets` partition before it is
//! acknowledged, so committed offsets inherit the log's kill -9 guarantee. On start the owner
//! shard replays its partitions (latest value per key; a null value deletes). Until the engine
//! compacts, the topic is `cleanup.policy=compact` so that retention never deletes offsets.
//!
//! Record layout (pinlog's own; versioned by the first byte of key and value):
//! key   = 0u8 | group: u16 len + bytes | topic: u16 len + bytes | partition: i32
//! value = 0u8 | offset: i64 | leader epoch: i32 | commit time: i64 | metadata: i32 len (-1 null) + bytes

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

/// The internal topic holding committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

const RECORD_VERSION: u8 = 0;

/// First byte of a group-metadata key (`1u8 | group: u16 len + bytes`); its value is the
/// group's [`GroupRecord`](crate::groups::GroupRecord) as JSON, or null once the group is gone.
const GROUP_KEY_VERSION: u8 = 1;

/// Kafka's `offset.metadata.max.bytes` default: larger metadata is OFFSET_METADATA_TOO_LARGE.
pub const OFFSET_METADATA_BYTES_MAX: usize = 4096;

/// Kafka's `offsets.retention.minutes` default (7 days): offsets of a group without members,
/// not committed for this long, are deleted.
pub const OFFSETS_RETENTION_MS_DEFAULT: i64 = 7 * 24 * 60 * 60 * 1000;

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
    pub commit_timestamp_ms: i64,
}

/// The key of an offset record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OffsetKey {
    pub group: String,
    pub topic: String,
    pub partition: i32,
}

/// Offsets by group, then by (topic, partition): what one shard's `__consumer_offsets`
/// partitions say.
#[derive(Debug, Default)]
pub struct OffsetStore {
    groups: HashMap<String, HashMap<(String, i32), CommittedOffset>>,
}

impl OffsetStore {
    pub fn apply(&mut self, key: OffsetKey, value: Option<CommittedOffset>) {
        match value {
            Some(value) => {
                self.groups
                    .entry(key.group)
                    .or_default()
                    .insert((key.topic, key.partition), value);
            }
            None => {
                if let Some(offsets) = self.groups.get_mut(&key.group) {
                    offsets.remove(&(key.topic, key.partition));
                    if offsets.is_empty() {
                        self.groups.remove(&key.group);
                    }
                }
            }
        }
    }

    pub fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.groups.get(group)?.get(&(topic.to_string(), partition))
    }

    /// Every committed offset of a group, sorted by topic and partition.
    pub fn group_offsets(&self, group: &str) -> Vec<(OffsetKey, CommittedOffset)> {
        let mut offsets: Vec<(OffsetKey, CommittedOffset)> = self
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .map(|((topic, partition), value)| {
                (
                    OffsetKey {
                        group: group.to_string(),
                        topic: topic.clone(),
                        partition: *partition,
                    },
                    value.clone(),
                )
            })
            .collect();
        offsets.sort_by(|a, b| a.0.cmp(&b.0));
        offsets
    }

    pub fn groups(&self) -> impl Iterator<Item = &String> {
        self.groups.keys()
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// Keys of offsets committed before `cutoff_ms` in groups that `is_idle` says have no
    /// members (Kafka's offsets.retention.minutes rule).
    pub fn expired(&self, cutoff_ms: i64, is_idle: impl Fn(&str) -> bool) -> Vec<OffsetKey> {
        let mut keys = Vec::new();
        for (group, offsets) in &self.groups {
            if !is_idle(group) {
                continue;
            }
            for ((topic, partition), value) in offsets {
                if value.commit_timestamp_ms < cutoff_ms {
                    keys.push(OffsetKey {
                        group: group.clone(),
                        topic: topic.clone(),
                        partition: *partition,
                    });
                }
            }
        }
        keys
    }
}

pub fn encode_key(key: &OffsetKey) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + 4 + key.group.len() + key.topic.len() + 4);
    out.put_u8(RECORD_VERSION);
    put_string(&mut out, &key.group);
    put_string(&mut out, &key.topic);
    out.put_i32(key.partition);
    out.freeze()
}

pub fn encode_group_key(group: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(3 + group.len());
    out.put_u8(GROUP_KEY_VERSION);
    put_string(&mut out, group);
    out.freeze()
}

/// The group of a group-metadata key.
pub fn decode_group_key(bytes: &[u8]) -> Option<String> {
    let mut reader = Cursor(bytes);
    if reader.u8()? != GROUP_KEY_VERSION {
        return None;
    }
    let group = reader.string()?;
    reader.0.is_empty().then_some(group)
}

pub fn encode_value(value: &CommittedOffset) -> Bytes {
    let metadata_len = value.metadata.as_ref().map_or(0, String::len);
    let mut out = BytesMut::with_capacity(1 + 8 + 4 + 8 + 4 + metadata_len);
    out.put_u8(RECORD_VERSION);
    out.put_i64(value.offset);
    out.put_i32(value.leader_epoch);
    out.put_i64(value.commit_timestamp_ms);
    match &value.metadata {
        Some(metadata) => {
            out.put_i32(metadata.len() as i32);
            out.put_slice(metadata.as_bytes());
        }
        None => out.put_i32(-1),
    }
    out.freeze()
}

/// `None` for bytes that are not an offset key of a known version.
pub fn decode_key(bytes: &[u8]) -> Option<OffsetKey> {
    let mut reader = Cursor(bytes);
    if reader.u8()? != RECORD_VERSION {
        return None;
    }
    let group = reader.string()?;
    let topic = reader.string()?;
    let partition = i32::from_be_bytes(reader.take(4)?.try_into().ok()?);
    reader.0.is_empty().then_some(OffsetKey {
        group,
        topic,
        partition,
    })
}

pub fn decode_value(bytes: &[u8]) -> Option<CommittedOffset> {
    let mut reader = Cursor(bytes);
    if reader.u8()? != RECORD_VERSION {
        return None;
    }
    let offset = i64::from_be_bytes(reader.take(8)?.try_into().ok()?);
    let leader_epoch = i32::from_be_bytes(reader.take(4)?.try_into().ok()?);
    let commit_timestamp_ms = i64::from_be_bytes(reader.take(8)?.try_into().ok()?);
    let metadata_len = i32::from_be_bytes(reader.take(4)?.try_into().ok()?);
    let metadata = if metadata_len < 0 {
        None
    } else {
        let bytes = reader.take(usize::try_from(metadata_len).ok()?)?;
        Some(String::from_utf8(bytes.to_vec()).ok()?)
    };
    reader.0.is_empty().then_some(CommittedOffset {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp_ms,
    })
}

fn put_string(out: &mut BytesMut, s: &str) {
    // Callers bound group ids and topic names far below u16::MAX.
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.put_u16(bytes.len() as u16);
    out.put_slice(bytes);
}

/// A bounds-checked reader: every length is checked against what remains.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn string(&mut self) -> Option<String> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().ok()?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str, partition: i32) -> OffsetKey {
        OffsetKey {
            group: group.into(),
            topic: "orders".into(),
            partition,
        }
    }

    fn value(offset: i64, at: i64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: 0,
            metadata: Some("m".into()),
            commit_timestamp_ms: at,
        }
    }

    #[test]
    fn records_round_trip_and_reject_damage() {
        let k = key("g", 3);
        let v = value(42, 7);
        assert_eq!(decode_key(&encode_key(&k)), Some(k.clone()));
        assert_eq!(decode_value(&encode_value(&v)), Some(v.clone()));
        let encoded = encode_value(&v);
        for cut in 0..encoded.len() {
            assert_eq!(decode_value(&encoded[..cut]), None);
        }
        let encoded = encode_key(&k);
        for cut in 0..encoded.len() {
            assert_eq!(decode_key(&encoded[..cut]), None);
        }
        let mut lying = encode_value(&v).to_vec();
        let len_at = 1 + 8 + 4 + 8;
        lying[len_at..len_at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(decode_value(&lying), None);
    }

    #[test]
    fn group_keys_round_trip_and_are_not_offset_keys() {
        let key = encode_group_key("g");
        assert_eq!(decode_group_key(&key), Some("g".to_string()));
        assert_eq!(decode_key(&key), None);
        assert_eq!(
            decode_group_key(&encode_key(&super::tests::key("g", 0))),
            None
        );
    }

    #[test]
    fn the_latest_value_wins_and_null_deletes() {
        let mut store = OffsetStore::default();
        store.apply(key("g", 0), Some(value(1, 1)));
        store.apply(key("g", 0), Some(value(5, 2)));
        store.apply(key("g", 1), Some(value(9, 2)));
        assert_eq!(store.get("g", "orders", 0).unwrap().offset, 5);
        store.apply(key("g", 1), None);
        assert!(store.get("g", "orders", 1).is_none());
        store.apply(key("g", 0), None);
        assert!(!store.has_group("g"));
    }

    #[test]
    fn only_idle_groups_expire() {
        let mut store = OffsetStore::default();
        store.apply(key("idle", 0), Some(value(1, 10)));
        store.apply(key("busy", 0), Some(value(1, 10)));
        store.apply(key("idle", 1), Some(value(1, 100)));
        let expired = store.expired(50, |g| g == "idle");
        assert_eq!(expired, vec![key("idle", 0)]);
    }
}
