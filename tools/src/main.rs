use std::error::Error;
use std::process::ExitCode;

use clap::Parser;
use pinlog_tools::cli::{Cli, Command};
use pinlog_tools::{cluster, consume, dump_log, group, logging, produce, serve, topic};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
