use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pinlog_bench::report::compare::{self, CompareArgs};

/// pinlog-bench: load generator and perf-regression gate for Kafka-compatible brokers.
#[derive(Debug, Parser)]
#[command(name = "pinlog-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare two reports; exit 1 when the candidate regressed beyond the threshold.
    Compare(CompareArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Compare(args) => compare::run(&args),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!(
                "pinlog-bench: error: {}",
                error.to_string().replace('\n', " ")
            );
            ExitCode::from(2)
        }
    }
}
