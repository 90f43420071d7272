//! The metadata log: an append-only file of [`MetadataRecord`]s, each framed as
//! `length: u32 BE | crc32c(payload): u32 BE | payload (JSON)`.
//!
//! Records are appended and fdatasync'ed before they are applied, so an acknowledged
//! CreateTopics survives kill -9. Replay stops at the first torn or corrupt record (a crash
//! mid-append leaves at most one, at the end) and truncates the file there.
//! Plain blocking file I/O: metadata changes are rare, and shard 0 runs them on glommio's
//! blocking thread pool, off its reactor.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pinlog_protocol::records::crc::crc32c;

use super::{ClusterMetadata, MetadataRecord};
use crate::error::BrokerError;
use crate::limits::METADATA_RECORD_BYTES_MAX;

/// Directory of the metadata log inside the data directory (not a valid `topic-N` log name).
pub const METADATA_DIR: &str = "__cluster_metadata";
const LOG_FILE: &str = "metadata.log";
const CLUSTER_ID_FILE: &str = "cluster_id";
const RECORD_HEADER_BYTES: usize = 8;

/// The open metadata log.
#[derive(Debug)]
pub struct MetadataLog {
    path: PathBuf,
    file: File,
}

/// What replay found besides the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayReport {
    pub records: usize,
    /// Bytes cut off the end (a torn or corrupt tail).
    pub truncated_bytes: u64,
}

impl MetadataLog {
    /// Opens (creating if needed) the log under `data_dir` and replays it.
    pub fn open(
        data_dir: &Path,
    ) -> Result<(MetadataLog, ClusterMetadata, ReplayReport), BrokerError> {
        let dir = data_dir.join(METADATA_DIR);
        let path = dir.join(LOG_FILE);
        let error = |reason: String| BrokerError::MetadataLog {
            path: path.clone(),
            reason,
        };
        let created = !dir.exists();
        std::fs::create_dir_all(&dir).map_err(|e| error(format!("creating: {e}")))?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| error(format!("opening: {e}")))?;
        if created {
            sync_dir(data_dir).map_err(|e| error(format!("syncing the data directory: {e}")))?;
            sync_dir(&dir).map_err(|e| error(format!("syncing its directory: {e}")))?;
        }
        let mut contents = Vec::new();
        file.read_to_end(&mut contents)
            .map_err(|e| error(format!("reading: {e}")))?;
        let (records, valid_len) = parse_records(&contents);
        let mut metadata = ClusterMetadata {
            cluster_id: cluster_id(&dir).map_err(|e| error(format!("cluster id: {e}")))?,
            ..ClusterMetadata::default()
        };
        for record in &records {
            metadata.apply(record);
        }
        let truncated_bytes = (contents.len() - valid_len) as u64;
        if truncated_bytes > 0 {
            file.set_len(valid_len as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| error(format!("truncating a torn tail: {e}")))?;
        }
        let report = ReplayReport {
            records: records.len(),
            truncated_bytes,
        };
        Ok((MetadataLog { path, file }, metadata, report))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends records and fdatasyncs them. Blocking: call it off the reactor.
    pub fn append(&mut self, records: &[MetadataRecord]) -> Result<(), BrokerError> {
        let mut buf = Vec::new();
        for record in records {
            let payload = serde_json::to_vec(record).map_err(|e| BrokerError::MetadataLog {
                path: self.path.clone(),
                reason: format!("encoding a record: {e}"),
            })?;
            if payload.len() > METADATA_RECORD_BYTES_MAX {
                return Err(BrokerError::MetadataLog {
                    path: self.path.clone(),
                    reason: format!(
                        "a {}-byte record exceeds the maximum of {METADATA_RECORD_BYTES_MAX}",
                        payload.len()
                    ),
                });
            }
            buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            buf.extend_from_slice(&crc32c(&payload).to_be_bytes());
            buf.extend_from_slice(&payload);
        }
        self.file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| BrokerError::MetadataLog {
                path: self.path.clone(),
                reason: format!("appending: {e}"),
            })
    }
}

/// The records before the first torn or corrupt one, and the byte length they cover.
fn parse_records(contents: &[u8]) -> (Vec<MetadataRecord>, usize) {
    let mut records = Vec::new();
    let mut position = 0;
    while let Some(header) = contents.get(position..position + RECORD_HEADER_BYTES) {
        let len = u32::from_be_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(header[4..8].try_into().expect("4 bytes"));
        if len > METADATA_RECORD_BYTES_MAX {
            break;
        }
        let start = position + RECORD_HEADER_BYTES;
        let Some(payload) = contents.get(start..start + len) else {
            break;
        };
        if crc32c(payload) != crc {
            break;
        }
        let Ok(record) = serde_json::from_slice::<MetadataRecord>(payload) else {
            break;
        };
        records.push(record);
        position = start + len;
    }
    (records, position)
}

/// The cluster id stored beside the log, made on first start.
fn cluster_id(dir: &Path) -> std::io::Result<String> {
    let path = dir.join(CLUSTER_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if is_cluster_id(id.trim()) => return Ok(id.trim().to_string()),
        Ok(_) => tracing::warn!(path = %path.display(), "malformed cluster id replaced"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes: [u8; 22] = rand::random();
    let id: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 64)] as char)
        .collect();
    let temporary = dir.join(format!("{CLUSTER_ID_FILE}.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(id.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path)?;
    sync_dir(dir)?;
    Ok(id)
}

fn is_cluster_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metadata::TopicMetadata;

    fn test_dir(name: &str) -> PathBuf {
        // Plain buffered I/O: any filesystem will do, $PINLOG_TEST_DIR when set.
        let dir = std::env::var_os("PINLOG_TEST_DIR")
            .map_or_else(std::env::temp_dir, PathBuf::from)
            .join("pinlog-shards")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn create(name: &str, partitions: i32) -> MetadataRecord {
        MetadataRecord::CreateTopic(TopicMetadata {
            name: name.into(),
            id: [7; 16],
            partitions,
            configs: BTreeMap::from([("retention.ms".into(), "1000".into())]),
        })
    }

    #[test]
    fn appended_records_are_replayed() {
        let dir = test_dir("replay");
        let (mut log, metadata, _) = MetadataLog::open(&dir).unwrap();
        assert!(metadata.topics.is_empty());
        log.append(&[create("a", 3), create("b", 1)]).unwrap();
        log.append(&[MetadataRecord::DeleteTopic { name: "b".into() }])
            .unwrap();
        drop(log);
        let (_, metadata, report) = MetadataLog::open(&dir).unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(report.truncated_bytes, 0);
        assert_eq!(metadata.topics.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(metadata.topic("a").unwrap().configs["retention.ms"], "1000");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_or_corrupt_tail_is_cut_at_every_byte() {
        let dir = test_dir("torn");
        let (mut log, _, _) = MetadataLog::open(&dir).unwrap();
        log.append(&[create("a", 1)]).unwrap();
        let first_len = std::fs::metadata(log.path()).unwrap().len();
        log.append(&[create("b", 2)]).unwrap();
        let path = log.path().to_path_buf();
        drop(log);
        let full = std::fs::read(&path).unwrap();
        for cut in first_len as usize..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let (_, metadata, report) = MetadataLog::open(&dir).unwrap();
            assert_eq!(metadata.topics.len(), 1, "cut at {cut}");
            assert_eq!(report.truncated_bytes, cut as u64 - first_len);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), first_len);
        }
        for flip in first_len as usize..full.len() {
            let mut damaged = full.clone();
            damaged[flip] ^= 0x40;
            std::fs::write(&path, &damaged).unwrap();
            let (_, metadata, _) = MetadataLog::open(&dir).unwrap();
            assert_eq!(metadata.topics.len(), 1, "flip at {flip}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lying_length_is_not_allocated() {
        let dir = test_dir("lying");
        let path = dir.join(METADATA_DIR).join(LOG_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, [0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0, 1, 2, 3]).unwrap();
        let (_, metadata, report) = MetadataLog::open(&dir).unwrap();
        assert!(metadata.topics.is_empty());
        assert_eq!(report.truncated_bytes, 11);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
