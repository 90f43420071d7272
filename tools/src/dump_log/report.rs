//! What dump-log prints: one line per finding, as text or as one JSON object per line (with a
//! `"type"`), written as the scan goes so that memory does not grow with the log. It also
//! counts what it printed for the summary and the exit code.

use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use pinlog_protocol::records::{Record, RecordBatch};
use serde_json::{json, Value};

use crate::consume::output::bytes_json;

/// Where the findings go, and their tally.
pub struct Report<W: Write> {
    out: W,
    json: bool,
    pub tally: Tally,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub files: u64,
    pub batches: u64,
    pub records: u64,
    pub corrupt: u64,
    pub index_entries: u64,
    pub inconsistent_entries: u64,
}

impl Tally {
    pub fn found_problems(&self) -> bool {
        self.corrupt > 0 || self.inconsistent_entries > 0
    }
}

impl<W: Write> Report<W> {
    pub fn new(out: W, json: bool) -> Self {
        Report {
            out,
            json,
            tally: Tally::default(),
        }
    }

    pub fn file(&mut self, path: &Path, kind: &str) -> std::io::Result<()> {
        self.tally.files += 1;
        let path = path.display().to_string();
        self.emit(
            json!({ "type": "file", "path": path, "kind": kind }),
            || format!("Dumping {path} ({kind})"),
        )
    }

    /// A batch whose length was plausible; `problem` says why it is not valid, if it is not.
    pub fn batch(
        &mut self,
        position: u64,
        batch: &RecordBatch,
        problem: Option<String>,
    ) -> std::io::Result<()> {
        self.tally.batches += 1;
        let crc_valid = batch.compute_crc() == batch.crc();
        let compression = batch.compression().map_or_else(
            |_| "invalid".to_string(),
            |c| format!("{c:?}").to_lowercase(),
        );
        let object = json!({
            "type": "batch",
            "position": position,
            "base_offset": batch.base_offset(),
            "last_offset": batch.last_offset(),
            "partition_leader_epoch": batch.partition_leader_epoch(),
            "count": batch.records_count(),
            "first_timestamp": batch.base_timestamp(),
            "max_timestamp": batch.max_timestamp(),
            "producer_id": batch.producer_id(),
            "producer_epoch": batch.producer_epoch(),
            "base_sequence": batch.base_sequence(),
            "compression": compression,
            "control": batch.is_control(),
            "transactional": batch.is_transactional(),
            "size": batch.size_bytes(),
            "crc": format!("{:#010x}", batch.crc()),
            "crc_valid": crc_valid,
            "valid": problem.is_none(),
            "problem": problem,
        });
        let text = || {
            let mut line = format!(
                "position: {position} base_offset: {} last_offset: {} leader_epoch: {} count: {} \
                 first_timestamp: {} max_timestamp: {} producer_id: {} producer_epoch: {} \
                 base_sequence: {} compression: {compression} control: {} transactional: {} \
                 size: {} crc: {:#010x} crc_valid: {crc_valid}",
                batch.base_offset(),
                batch.last_offset(),
                batch.partition_leader_epoch(),
                batch.records_count(),
                batch.base_timestamp(),
                batch.max_timestamp(),
                batch.producer_id(),
                batch.producer_epoch(),
                batch.base_sequence(),
                batch.is_control(),
                batch.is_transactional(),
                batch.size_bytes(),
                batch.crc(),
            );
            if let Some(problem) = &problem {
                line.push_str(&format!(" CORRUPT: {problem}"));
            }
            line
        };
        if problem.is_some() {
            self.tally.corrupt += 1;
        }
        self.emit(object, text)
    }

    pub fn record(&mut self, record: &Record) -> std::io::Result<()> {
        self.tally.records += 1;
        let headers: Vec<Value> = record
            .headers
            .iter()
            .map(|h| json!({ "key": bytes_json(Some(&h.key)), "value": bytes_json(h.value.as_ref()) }))
            .collect();
        let object = json!({
            "type": "record",
            "offset": record.offset,
            "timestamp": record.timestamp,
            "key": bytes_json(record.key.as_ref()),
            "value": bytes_json(record.value.as_ref()),
            "headers": headers,
        });
        let text = || {
            let headers: Vec<String> = record
                .headers
                .iter()
                .map(|h| format!("{}={}", escaped(Some(&h.key)), escaped(h.value.as_ref())))
                .collect();
            format!(
                "| offset: {} timestamp: {} key: {} value: {} headers: [{}]",
                record.offset,
                record.timestamp,
                escaped(record.key.as_ref()),
                escaped(record.value.as_ref()),
                headers.join(", ")
            )
        };
        self.emit(object, text)
    }

    /// Corruption at `position` that is not a readable batch (a lying length, garbage).
    pub fn corrupt(&mut self, position: u64, problem: &str) -> std::io::Result<()> {
        self.tally.corrupt += 1;
        self.emit(
            json!({ "type": "corrupt", "position": position, "problem": problem }),
            || format!("position: {position} CORRUPT: {problem}"),
        )
    }

    /// The clean end of a file: `zero_bytes` of pre-allocated zeros from `position` on.
    pub fn end(&mut self, position: u64, zero_bytes: u64) -> std::io::Result<()> {
        self.emit(
            json!({ "type": "end", "position": position, "zero_bytes": zero_bytes }),
            || match zero_bytes {
                0 => format!("end of file at position {position}"),
                n => format!(
                    "end of log at position {position}: {n} zero bytes of pre-allocated space follow"
                ),
            },
        )
    }

    /// One index entry; `problem` says how it disagrees with its segment, if it does.
    pub fn index_entry(
        &mut self,
        entry: usize,
        fields: &[(&str, i64)],
        problem: Option<String>,
    ) -> std::io::Result<()> {
        self.tally.index_entries += 1;
        if problem.is_some() {
            self.tally.inconsistent_entries += 1;
        }
        let mut object = json!({ "type": "index_entry", "entry": entry });
        for (name, value) in fields {
            object[*name] = json!(value);
        }
        object["consistent"] = json!(problem.is_none());
        object["problem"] = json!(problem);
        let text = || {
            let mut line = format!("entry: {entry}");
            for (name, value) in fields {
                line.push_str(&format!(" {name}: {value}"));
            }
            match &problem {
                Some(problem) => line.push_str(&format!(" INCONSISTENT: {problem}")),
                None => line.push_str(" consistent: true"),
            }
            line
        };
        self.emit(object, text)
    }

    /// A problem of an index file as a whole (its size, bytes after its end).
    pub fn index_problem(&mut self, problem: &str) -> std::io::Result<()> {
        self.tally.inconsistent_entries += 1;
        self.emit(
            json!({ "type": "index_problem", "problem": problem }),
            || format!("INCONSISTENT: {problem}"),
        )
    }

    pub fn note(&mut self, note: &str) -> std::io::Result<()> {
        self.emit(json!({ "type": "note", "note": note }), || note.to_string())
    }

    pub fn summary(&mut self) -> std::io::Result<()> {
        let t = self.tally;
        let object = json!({
            "type": "summary",
            "files": t.files,
            "batches": t.batches,
            "records": t.records,
            "corrupt": t.corrupt,
            "index_entries": t.index_entries,
            "inconsistent_index_entries": t.inconsistent_entries,
        });
        self.emit(object, || {
            format!(
                "summary: {} file(s), {} batch(es), {} record(s) printed, {} corruption(s), \
                 {} index entr(ies), {} index inconsistenc(ies)",
                t.files, t.batches, t.records, t.corrupt, t.index_entries, t.inconsistent_entries
            )
        })?;
        self.out.flush()
    }

    fn emit(&mut self, object: Value, text: impl FnOnce() -> String) -> std::io::Result<()> {
        if self.json {
            writeln!(self.out, "{object}")
        } else {
            writeln!(self.out, "{}", text())
        }
    }
}

/// Bytes for a text line: printable ASCII as is, the rest `\xNN`-escaped, `null` when null.
fn escaped(bytes: Option<&Bytes>) -> String {
    match bytes {
        None => "null".to_string(),
        Some(bytes) => format!("\"{}\"", bytes.escape_ascii()),
    }
}
