use std::error::Error;
use std::process::ExitCode;

use clap::Parser;
use pinlog_tools::cli::{Cli, Command};
use pinlog_tools::{cluster, consume, dump_log, group, logging, produce, serve, topic};

fn main() -> ExitCode {
    let cli = parse_command_line();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line on stderr, whatever the error's own text holds, so that scripts and log
            // collectors see a single record.
            let message = error.to_string().replace('\n', " ");
            // Not eprintln!, which panics when stderr cannot be written (a full disk).
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "pinlog: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line, or exit: help and version print as clap prints them; a usage error is
/// one line on stderr (pinlog: error: ...) and exit code 2, like every other error's one line.
fn parse_command_line() -> Cli {
    let error = match Cli::try_parse() {
        Ok(cli) => return cli,
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
        "pinlog: error: {} (see --help)",
        parts.join("; ")
    );
    std::process::exit(2);
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    logging::init(cli.log_level.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::run(&args)?,
        Command::Topic(command) => topic::run(&command)?,
        Command::Produce(args) => produce::run(&args)?,
        Command::Consume(args) => consume::run(&args)?,
        Command::Cluster(command) => cluster::run(&command)?,
        Command::DumpLog(args) => dump_log::run(&args)?,
        Command::Group(command) => group::run(&command)?,
    }
    Ok(())
}
