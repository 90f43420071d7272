//! The load generator: `pinlog-bench produce|consume|end-to-end --bootstrap HOST:PORT ...`.
//!
//! How the pieces fit:
//!
//! - [`args`] holds the options every kind shares, [`units`] their value syntaxes.
//! - One module per workload kind ([`produce`], [`consume`], [`end_to_end`]) turns the options
//!   into a [`plan::Plan`]: which partitions, from which offsets, when to stop.
//! - A driver per client executes the plan: [`pinlog_client`] on pinlog's own pipelined
//!   glommio client, one executor per `--cores` entry; [`rdkafka_client`] on librdkafka, one
//!   pinned thread per connection (librdkafka's own threads run unpinned beside them, so its
//!   numbers include that extra CPU). Both pick partitions and payloads the same way
//!   ([`payload`]) and pace sends on the same schedule ([`schedule`]).
//! - Every task measures into its own [`meter::Meter`]; the live figures feed the progress
//!   line, the recorders are merged into the report's `WorkloadResult`s.
//!
//! `--repeat K` runs the whole kind K times against the same topics; the report keeps every
//! run and the per-metric median and spread.

pub mod args;
pub mod consume;
pub mod end_to_end;
pub mod fetched;
pub mod meter;
pub mod payload;
pub mod pinlog_client;
pub mod plan;
pub mod produce;
pub mod rdkafka_client;
pub mod schedule;
pub mod units;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use self::args::{ArgsError, ClientKind, LoadArgs};
use self::plan::{Plan, TopicPartition};
use self::units::HumanDuration;
use crate::report::{self, Report, RunResult, ToolInfo, REPORT_SCHEMA_VERSION};

/// The workload kinds, as the subcommands name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Produce,
    Consume,
    EndToEnd,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Produce => "produce",
            Kind::Consume => "consume",
            Kind::EndToEnd => "end-to-end",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error(transparent)]
    Args(#[from] ArgsError),
    #[error("{client} client: {detail}")]
    Client {
        client: &'static str,
        detail: String,
    },
    #[error(
        "topic {topic} has {existing} partitions, fewer than --partitions {wanted}; \
         ask for at most {existing} or use another --topic"
    )]
    TooFewPartitions {
        topic: String,
        existing: usize,
        wanted: u32,
    },
    #[error("{what} {topic}-{partition}: broker error code {code}")]
    Partition {
        what: &'static str,
        topic: String,
        partition: i32,
        code: i16,
    },
    #[error(
        "consumers read {consumed} records but {acked} were acknowledged, still missing \
         {waited:?} after the producers stopped"
    )]
    Drain {
        acked: u64,
        consumed: u64,
        waited: Duration,
    },
    #[error(
        "end-to-end: producers had {acked} records acknowledged but consumers read {consumed}"
    )]
    Mismatch { acked: u64, consumed: u64 },
    #[error("pinning to CPU {core}: {source}")]
    Pin { core: usize, source: std::io::Error },
    #[error("a {0} thread panicked")]
    Panicked(&'static str),
    #[error(
        "{workload}: nothing measured: every record completed within the {warmup} warm-up; \
         give --warmup 0 to measure all of --records, or more records"
    )]
    NothingMeasured {
        workload: String,
        warmup: HumanDuration,
    },
}

/// Runs `kind` `--repeat` times and assembles the report.
pub fn run(kind: Kind, args: &LoadArgs) -> Result<Report, WorkloadError> {
    args.validate()?;
    let started_at = rfc3339(SystemTime::now());
    if kind == Kind::Consume {
        consume::prefill_once(args)?;
    }
    let mut runs = Vec::new();
    for repetition in 0..args.repeat {
        let workloads = match kind {
            Kind::Produce => produce::run(args)?,
            Kind::Consume => consume::run(args)?,
            Kind::EndToEnd => end_to_end::run(args)?,
        };
        // A record-bound run can end inside its warm-up, and a report of zeros would pass for
        // a measurement (a duration-bound one always measures its duration).
        if args.records.is_some() {
            if let Some(empty) = workloads.iter().find(|workload| workload.records == 0) {
                return Err(WorkloadError::NothingMeasured {
                    workload: empty.name.clone(),
                    warmup: args.warmup,
                });
            }
        }
        runs.push(RunResult {
            repetition,
            workloads,
        });
    }
    let (client, client_version) = match args.client {
        ClientKind::Pinlog => ("pinlog", env!("CARGO_PKG_VERSION").to_string()),
        ClientKind::Rdkafka => ("rdkafka", rdkafka_client::version()),
    };
    Ok(Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo {
            name: "pinlog-bench".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            client: client.to_string(),
            client_version,
        },
        host: report::HostInfo::detect(),
        started_at,
        kind: kind.name().to_string(),
        // A struct of plain fields and Display-serialised values always serialises.
        config: serde_json::to_value(args).unwrap_or_default(),
        summary: report::summarize(&runs),
        runs,
    })
}

/// The topics' partitions, created if missing, through the chosen client.
fn prepare_topics(args: &LoadArgs) -> Result<Vec<TopicPartition>, WorkloadError> {
    match args.client {
        ClientKind::Pinlog => pinlog_client::prepare_topics(args),
        ClientKind::Rdkafka => rdkafka_client::prepare_topics(args),
    }
}

/// Which end of a partition [`log_offsets`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEnd {
    Earliest,
    Latest,
}

/// The offsets of `partitions` at `end`, in the same order.
fn log_offsets(
    args: &LoadArgs,
    partitions: &[TopicPartition],
    end: LogEnd,
) -> Result<Vec<i64>, WorkloadError> {
    match args.client {
        ClientKind::Pinlog => pinlog_client::log_offsets(args, partitions, end),
        ClientKind::Rdkafka => rdkafka_client::log_offsets(args, partitions, end),
    }
}

/// Executes `plan` through the chosen client.
fn execute(args: &LoadArgs, plan: &Plan) -> Result<plan::Outcome, WorkloadError> {
    match args.client {
        ClientKind::Pinlog => pinlog_client::execute(args, plan),
        ClientKind::Rdkafka => rdkafka_client::execute(args, plan),
    }
}

/// `at` as RFC 3339 in UTC with second precision, e.g. `2025-01-31T12:00:00Z`.
pub fn rfc3339(at: SystemTime) -> String {
    let seconds = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_dates_across_leap_years() {
        let at = |seconds| rfc3339(UNIX_EPOCH + Duration::from_secs(seconds));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(1_735_689_600), "2025-01-01T00:00:00Z");
    }
}
