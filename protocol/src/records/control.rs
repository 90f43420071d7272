//! Control records: the records of a batch with the control attribute (bit 5), written by the
//! broker, never by clients. Transaction markers are the ones a broker writes and reads:
//!
//! ```text
//! key    version i16 (0), type i16 (0 = ABORT, 1 = COMMIT, others are KRaft's)
//! value  version i16 (0), coordinatorEpoch i32          (for ABORT and COMMIT)
//! ```
//!
//! As in Kafka's `ControlRecordType` and `EndTransactionMarker`, a negative version is
//! corrupt, and a newer version is read as version 0 (its extra bytes ignored), so that a
//! broker can read markers a newer one wrote.

use super::record::Record;

/// The control record type, from bytes 2-3 of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    Abort,
    Commit,
    /// Types this broker does not act on (KRaft's LEADER_CHANGE, SNAPSHOT_HEADER, ...).
    Other(i16),
}

/// The key of a control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlKey {
    pub version: i16,
    pub kind: ControlType,
}

/// The value of an ABORT or COMMIT control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTxnMarker {
    pub version: i16,
    pub coordinator_epoch: i32,
}

/// A transaction marker read from a control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMarker {
    /// Whether the transaction committed.
    pub commit: bool,
    pub marker: EndTxnMarker,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("control record has a null {0}")]
    Missing(&'static str),
    #[error("control record {part} is {actual} bytes, at least {needed} are needed")]
    TooShort {
        part: &'static str,
        actual: usize,
        needed: usize,
    },
    #[error("control record {part} has negative version {version}")]
    NegativeVersion { part: &'static str, version: i16 },
    #[error("control record type {0:?} is not a transaction marker")]
    NotTxnMarker(ControlType),
}

const KEY_BYTES: usize = 4;
const END_TXN_VALUE_BYTES: usize = 6;

impl ControlType {
    pub fn id(self) -> i16 {
        match self {
            ControlType::Abort => 0,
            ControlType::Commit => 1,
            ControlType::Other(id) => id,
        }
    }

    pub fn from_id(id: i16) -> Self {
        match id {
            0 => ControlType::Abort,
            1 => ControlType::Commit,
            other => ControlType::Other(other),
        }
    }
}

impl ControlKey {
    pub fn parse(key: &[u8]) -> Result<Self, ControlError> {
        let [v0, v1, t0, t1] = *key
            .first_chunk::<KEY_BYTES>()
            .ok_or(ControlError::TooShort {
                part: "key",
                actual: key.len(),
                needed: KEY_BYTES,
            })?;
        let version = i16::from_be_bytes([v0, v1]);
        if version < 0 {
            return Err(ControlError::NegativeVersion {
                part: "key",
                version,
            });
        }
        Ok(ControlKey {
            version,
            kind: ControlType::from_id(i16::from_be_bytes([t0, t1])),
        })
    }

    pub fn encode(self) -> [u8; KEY_BYTES] {
        let [v0, v1] = self.version.to_be_bytes();
        let [t0, t1] = self.kind.id().to_be_bytes();
        [v0, v1, t0, t1]
    }
}

impl EndTxnMarker {
    pub fn parse(value: &[u8]) -> Result<Self, ControlError> {
        let [v0, v1, e0, e1, e2, e3] =
            *value
                .first_chunk::<END_TXN_VALUE_BYTES>()
                .ok_or(ControlError::TooShort {
                    part: "value",
                    actual: value.len(),
                    needed: END_TXN_VALUE_BYTES,
                })?;
        let version = i16::from_be_bytes([v0, v1]);
        if version < 0 {
            return Err(ControlError::NegativeVersion {
                part: "value",
                version,
            });
        }
        Ok(EndTxnMarker {
            version,
            coordinator_epoch: i32::from_be_bytes([e0, e1, e2, e3]),
        })
    }

    pub fn encode(self) -> [u8; END_TXN_VALUE_BYTES] {
        let [v0, v1] = self.version.to_be_bytes();
        let [e0, e1, e2, e3] = self.coordinator_epoch.to_be_bytes();
        [v0, v1, e0, e1, e2, e3]
    }
}

impl ControlMarker {
    /// Reads the transaction marker of a control record (the one record of a control batch).
    pub fn parse(record: &Record) -> Result<Self, ControlError> {
        let key = ControlKey::parse(record.key.as_deref().ok_or(ControlError::Missing("key"))?)?;
        let commit = match key.kind {
            ControlType::Commit => true,
            ControlType::Abort => false,
            other => return Err(ControlError::NotTxnMarker(other)),
        };
        let value = record
            .value
            .as_deref()
            .ok_or(ControlError::Missing("value"))?;
        Ok(ControlMarker {
            commit,
            marker: EndTxnMarker::parse(value)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_value_round_trip() {
        for kind in [
            ControlType::Abort,
            ControlType::Commit,
            ControlType::Other(2),
        ] {
            let key = ControlKey { version: 0, kind };
            assert_eq!(ControlKey::parse(&key.encode()), Ok(key));
        }
        let marker = EndTxnMarker {
            version: 0,
            coordinator_epoch: -7,
        };
        assert_eq!(EndTxnMarker::parse(&marker.encode()), Ok(marker));
        assert_eq!(
            ControlKey::parse(&[0, 0, 0, 1]).map(|k| k.kind),
            Ok(ControlType::Commit)
        );
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            ControlKey::parse(&[0, 0, 1]),
            Err(ControlError::TooShort { actual: 3, .. })
        ));
        assert!(matches!(
            ControlKey::parse(&[0xff, 0xff, 0, 1]),
            Err(ControlError::NegativeVersion { version: -1, .. })
        ));
        assert!(matches!(
            EndTxnMarker::parse(&[0, 0, 0, 0, 0]),
            Err(ControlError::TooShort { actual: 5, .. })
        ));
        // A newer version with more bytes is read as version 0.
        let newer = EndTxnMarker::parse(&[0, 1, 0, 0, 0, 9, 0xaa]);
        assert_eq!(newer.map(|m| m.coordinator_epoch), Ok(9));
    }
}
