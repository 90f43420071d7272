//! `cargo run -p pinlog-codegen [SPECS_DIR [OUT_DIR]]`: regenerates `protocol/src/generated/`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let specs = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(pinlog_codegen::default_specs_dir);
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(pinlog_codegen::default_output_dir);
    match pinlog_codegen::generate(&specs).and_then(|files| {
        pinlog_codegen::write(&files, &out)?;
        Ok(files.len())
    }) {
        Ok(count) => {
            println!("wrote {count} files to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("pinlog-codegen: {error}");
            ExitCode::FAILURE
        }
    }
}
