//! The engine's one error enum. Mapped to Kafka error codes in exactly one place
//! ([`EngineError::error_code`]).

use std::path::PathBuf;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::records::BatchError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no space left on device writing {}", path.display())]
    NoSpace { path: PathBuf },
    #[error("corrupt data in {} at byte {position}: {reason}", path.display())]
    Corruption {
        path: PathBuf,
        position: u64,
        reason: String,
    },
    #[error("offset {offset} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start: i64,
        log_end: i64,
    },
    #[error("{} is on {filesystem}, which does not support O_DIRECT; put the data directory on ext4 or XFS, or choose IoMode::AllowBuffered", path.display())]
    DirectIoUnsupported {
        path: PathBuf,
        filesystem: &'static str,
    },
    #[error("data directory {} is locked by another process{}", path.display(), holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default())]
    DirectoryLocked { path: PathBuf, holder: Option<u32> },
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] BatchError),
    #[error("record batch of {size} bytes exceeds the maximum of {max}")]
    BatchTooLarge { size: usize, max: usize },
    #[error("producer state: {0}")]
    Producer(String, ErrorCode),
    #[error("log {} failed earlier and accepts no writes until reopened: {reason}", path.display())]
    LogFailed { path: PathBuf, reason: String },
    #[error("log {} was deleted", path.display())]
    Deleted { path: PathBuf },
    #[error("log {} is closed", path.display())]
    Closed { path: PathBuf },
}

impl EngineError {
    /// Wraps an I/O error, recognising a full disk: by its errno, or by its kind alone, as
    /// glommio's errors (io_uring operations) keep the kind and not the errno.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> EngineError {
        let path = path.into();
        if source.raw_os_error() == Some(libc::ENOSPC)
            || source.kind() == std::io::ErrorKind::StorageFull
        {
            return EngineError::NoSpace { path };
        }
        EngineError::Io { op, path, source }
    }

    /// The Kafka error code a request handler answers with.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            EngineError::Io { .. }
            | EngineError::NoSpace { .. }
            | EngineError::LogFailed { .. } => ErrorCode::KafkaStorageError,
            EngineError::Corruption { .. } | EngineError::InvalidBatch(_) => {
                ErrorCode::CorruptMessage
            }
            EngineError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
            EngineError::BatchTooLarge { .. } => ErrorCode::MessageTooLarge,
            EngineError::Producer(_, code) => *code,
            EngineError::Deleted { .. } => ErrorCode::UnknownTopicOrPartition,
            // Kafka's answer for a partition this broker no longer serves: the client refreshes
            // its metadata and retries with the partition's new owner.
            EngineError::Closed { .. } => ErrorCode::NotLeaderOrFollower,
            EngineError::DirectIoUnsupported { .. } | EngineError::DirectoryLocked { .. } => {
                ErrorCode::KafkaStorageError
            }
        }
    }
}

/// Converts a glommio error into the engine's, keeping the operation and path.
pub(crate) fn from_glommio<T>(
    op: &'static str,
    path: &std::path::Path,
    error: glommio::GlommioError<T>,
) -> EngineError {
    let source: std::io::Error = error.into();
    EngineError::io(op, path, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_recognised_through_glommios_errors() {
        let enhanced = glommio::GlommioError::<()>::EnhancedIoError {
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
            op: "Pre-allocate space",
            path: None,
            fd: None,
        };
        let error = from_glommio("fallocate", std::path::Path::new("x.log"), enhanced);
        assert!(matches!(error, EngineError::NoSpace { .. }), "{error:?}");
        let other = glommio::GlommioError::<()>::EnhancedIoError {
            source: std::io::Error::from_raw_os_error(libc::EIO),
            op: "Write",
            path: None,
            fd: None,
        };
        let error = from_glommio("write", std::path::Path::new("x.log"), other);
        assert!(matches!(error, EngineError::Io { .. }), "{error:?}");
    }
}
