//! RecordBatch v2: view, validation, builder, CRC32C and compression.
