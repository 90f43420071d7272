//! Where consumption starts in each partition: `--offset`, `--from-timestamp` or a group's
//! committed offsets, always moved into [log start, log end] so that the first Fetch cannot be
//! out of range.

use std::collections::BTreeMap;

use super::{ConsumeArgs, ConsumeError};
use crate::client::topics::{EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use crate::client::Client;
use crate::datetime;

/// `--offset`: a position in every partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOffset {
    Earliest,
    Latest,
    At(i64),
}

impl std::str::FromStr for StartOffset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "earliest" => Ok(StartOffset::Earliest),
            "latest" => Ok(StartOffset::Latest),
            number => match number.parse::<i64>() {
                Ok(offset) if offset >= 0 => Ok(StartOffset::At(offset)),
                _ => Err(format!(
                    "{number:?} is not earliest, latest or an offset >= 0"
                )),
            },
        }
    }
}

/// The log start and end of each partition when consumption began.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub starts: BTreeMap<i32, i64>,
    pub ends: BTreeMap<i32, i64>,
}

impl Bounds {
    pub fn read(
        client: &mut Client,
        topic: &str,
        partitions: &[i32],
    ) -> Result<Bounds, ConsumeError> {
        let starts = client.offsets_for(topic, partitions, EARLIEST_TIMESTAMP)?;
        let ends = client.offsets_for(topic, partitions, LATEST_TIMESTAMP)?;
        Ok(Bounds {
            starts: starts.into_iter().collect(),
            ends: ends.into_iter().collect(),
        })
    }

    fn clamp(&self, partition: i32, offset: i64) -> i64 {
        let start = self.starts.get(&partition).copied().unwrap_or(0);
        let end = self
            .ends
            .get(&partition)
            .copied()
            .unwrap_or(start)
            .max(start);
        offset.clamp(start, end)
    }

    fn of(&self, partition: i32, start: StartOffset) -> i64 {
        match start {
            StartOffset::Earliest => self.clamp(partition, 0),
            StartOffset::Latest => self.clamp(partition, i64::MAX),
            StartOffset::At(offset) => self.clamp(partition, offset),
        }
    }
}

/// The first offset to read in each of `partitions`. With `--group`, a partition without a
/// committed offset starts at `--offset` (earliest when not given).
pub fn positions(
    client: &mut Client,
    args: &ConsumeArgs,
    partitions: &[i32],
    bounds: &Bounds,
) -> Result<BTreeMap<i32, i64>, ConsumeError> {
    let fallback = args.offset.unwrap_or(StartOffset::Earliest);
    if let Some(text) = &args.from_timestamp {
        let timestamp_ms = parse_timestamp(text)?;
        let found = client.offsets_for(&args.topic, partitions, timestamp_ms)?;
        // No record at or after the time: the log end, where the next such record will go.
        return Ok(found
            .into_iter()
            .map(|(partition, offset)| {
                let offset = if offset < 0 { i64::MAX } else { offset };
                (partition, bounds.clamp(partition, offset))
            })
            .collect());
    }
    let committed: BTreeMap<i32, i64> = match &args.group {
        Some(group) => client
            .committed_offsets(group)?
            .into_iter()
            .filter(|c| c.topic == args.topic)
            .map(|c| (c.partition, c.offset))
            .collect(),
        None => BTreeMap::new(),
    };
    Ok(partitions
        .iter()
        .map(|&partition| {
            let offset = match committed.get(&partition) {
                Some(&offset) => bounds.clamp(partition, offset),
                None => bounds.of(partition, fallback),
            };
            (partition, offset)
        })
        .collect())
}

/// Milliseconds since the epoch, or an ISO 8601 / RFC 3339 date-time.
fn parse_timestamp(text: &str) -> Result<i64, ConsumeError> {
    if let Ok(ms) = text.parse::<i64>() {
        if ms >= 0 {
            return Ok(ms);
        }
    }
    datetime::parse_ms(text).map_err(|reason| ConsumeError::Timestamp {
        value: text.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_offsets_parse() {
        assert_eq!("earliest".parse(), Ok(StartOffset::Earliest));
        assert_eq!("latest".parse(), Ok(StartOffset::Latest));
        assert_eq!("42".parse(), Ok(StartOffset::At(42)));
        assert!("-1".parse::<StartOffset>().is_err());
        assert!("first".parse::<StartOffset>().is_err());
    }

    #[test]
    fn timestamps_are_milliseconds_or_date_times() {
        assert_eq!(
            parse_timestamp("1700000000000").ok(),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z").ok(), Some(1_000));
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn offsets_are_kept_inside_the_log() {
        let bounds = Bounds {
            starts: [(0, 5)].into(),
            ends: [(0, 10)].into(),
        };
        assert_eq!(bounds.of(0, StartOffset::At(2)), 5);
        assert_eq!(bounds.of(0, StartOffset::At(7)), 7);
        assert_eq!(bounds.of(0, StartOffset::At(70)), 10);
        assert_eq!(bounds.of(0, StartOffset::Earliest), 5);
        assert_eq!(bounds.of(0, StartOffset::Latest), 10);
    }
}
