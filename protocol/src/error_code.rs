//! Kafka error codes (filled in by the error-table change).
