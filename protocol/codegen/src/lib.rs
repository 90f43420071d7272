//! pinlog's generator of Kafka protocol codecs.
//!
//! Reads Apache Kafka's JSON message specs and emits, for every request, response, header and
//! data message, Rust structs with `decode`, `encode` and `encoded_len` for every valid version
//! (see `pinlog_protocol::wire` for the primitives the output is written against). The output
//! is committed under `protocol/src/generated/`; a test checks it is up to date.

mod code;
mod emit_codec;
mod emit_module;
mod emit_struct;
mod emit_types;
pub mod model;
pub mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default location of the specs: `../shared/kafka-message-specs` beside the repository.
pub fn default_specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kafka-message-specs")
}

/// Default output directory: `protocol/src/generated`.
pub fn default_output_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/generated")
}

/// Generates every file: file name -> contents.
pub fn generate(specs_dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let specs = spec::read_specs(specs_dir)?;
    if specs.is_empty() {
        return Err(format!("no specs found in {}", specs_dir.display()));
    }
    let mut messages = specs
        .iter()
        .map(model::resolve)
        .collect::<Result<Vec<_>, _>>()?;
    messages.sort_by(|a, b| a.name.cmp(&b.name));
    validate(&messages)?;
    let mut files = BTreeMap::new();
    for message in &messages {
        files.insert(
            format!("{}.rs", message.module_name()),
            emit_module::message_file(message)?,
        );
    }
    files.insert("mod.rs".to_string(), emit_module::mod_file(&messages)?);
    Ok(files)
}

/// Rejects spec constructs the emitter does not handle, so that a new spec fails loudly.
fn validate(messages: &[model::Message]) -> Result<(), String> {
    for message in messages {
        for s in &message.structs {
            for field in &s.fields {
                if let model::Ty::Array(element) = &field.ty {
                    if matches!(element.as_ref(), model::Ty::Array(_)) {
                        return Err(format!("{}.{}: nested arrays", s.name, field.spec_name));
                    }
                }
                if field.tagged.is_some() && message.flexible.is_none() {
                    return Err(format!(
                        "{}.{}: tagged field in a message with no flexible versions",
                        s.name, field.spec_name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Writes the generated files into `out_dir`, removing stale `.rs` files there.
pub fn write(files: &BTreeMap<String, String>, out_dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let existing = std::fs::read_dir(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for entry in existing.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".rs") && !files.contains_key(&name) {
            std::fs::remove_file(entry.path()).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    for (name, text) in files {
        std::fs::write(out_dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}
