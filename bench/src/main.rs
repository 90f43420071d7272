use std::process::ExitCode;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use pinlog_bench::report::compare::{self, CompareArgs};
use pinlog_bench::report::{plot, table, write_json};
use pinlog_bench::workload::args::LoadArgs;
use pinlog_bench::workload::{self, Kind};

/// pinlog-bench: load generator and perf-regression gate for Kafka-compatible brokers.
#[derive(Debug, Parser)]
#[command(name = "pinlog-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Producers only: throughput and acknowledgement latency.
    Produce(LoadArgs),
    /// Consumers only, reading what the topics hold (run `produce` first, or use --prefill).
    Consume(LoadArgs),
    /// Producers and consumers together: latency from send to consume.
    EndToEnd(LoadArgs),
    /// Compare two reports; exit 1 when the candidate regressed beyond the threshold.
    Compare(CompareArgs),
}

fn main() -> ExitCode {
    let (cli, matches) = parse_command_line();
    let given = |name| {
        matches
            .subcommand_matches(name)
            .expect("the subcommand parsed")
    };
    let outcome = match cli.command {
        Command::Produce(args) => load(Kind::Produce, &args, given("produce")),
        Command::Consume(args) => load(Kind::Consume, &args, given("consume")),
        Command::EndToEnd(args) => load(Kind::EndToEnd, &args, given("end-to-end")),
        Command::Compare(args) => compare::run(&args).map_err(anyhow::Error::from),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            let message = format!("{error:#}").replace('\n', " ");
            eprintln!("pinlog-bench: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The command line, or exit: help and version print as clap prints them; a usage error is
/// one line on stderr (pinlog-bench: error: ...) and exit code 2, like every other error's one line.
fn parse_command_line() -> (Cli, ArgMatches) {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let error = match parsed {
        Ok(parsed) => return parsed,
        Err(error) => error,
    };
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    // clap's text: "error: ...", tips, then a usage block and a pointer to --help.
    let rendered = error.render().to_string();
    let parts: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| !line.is_empty())
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect();
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "pinlog-bench: error: {} (see --help)",
        parts.join("; ")
    );
    std::process::exit(2);
}

/// Options a workload kind takes and ignores (all producer settings for `consume` without
/// `--prefill`, which writes nothing). Said on stderr, not refused: scripts pass one set of
/// flags to every kind, and a report must not look as if a setting had applied unnoticed.
fn inapplicable_options(kind: Kind, args: &LoadArgs, given: &ArgMatches) -> Vec<String> {
    const PRODUCER_SETTINGS: [&str; 9] = [
        "rate",
        "acks",
        "compression",
        "batch_size",
        "linger_ms",
        "keys",
        "producers",
        "max_in_flight",
        "message_size",
    ];
    let ignored: &[&str] = match kind {
        Kind::Produce => &["consumers", "prefill"],
        Kind::EndToEnd => &["prefill"],
        // The prefill is written at max rate.
        Kind::Consume if args.prefill.is_some() => &["rate"],
        Kind::Consume => &PRODUCER_SETTINGS,
    };
    ignored
        .iter()
        .filter(|id| given.value_source(id) == Some(ValueSource::CommandLine))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect()
}

/// Runs a workload kind, prints the table and writes the files asked for.
fn load(kind: Kind, args: &LoadArgs, given: &ArgMatches) -> anyhow::Result<bool> {
    let ignored = inapplicable_options(kind, args, given);
    if !ignored.is_empty() {
        let hint = match kind {
            Kind::Consume => " (producer settings apply to consume only with --prefill)",
            _ => "",
        };
        eprintln!(
            "pinlog-bench: note: {} ignores {}{hint}",
            kind.name(),
            ignored.join(", ")
        );
    }
    let report = workload::run(kind, args)?;
    print!("{}", table::render(&report));
    if let Some(path) = &args.json {
        write_json(&report, path).context("--json")?;
    }
    if let Some(path) = &args.plot {
        plot::write_plot(&report, path).context("--plot")?;
    }
    Ok(true)
}
