//! The small value syntaxes of the command line: durations (`10s`, `500ms`, `1m`), byte sizes
//! (`16KiB`, `1MiB`, `512`), message sizes (`1024`, `uniform:100..2000`, `normal:1000,200`),
//! keys (`none`, `random`, `1000`) and core lists (`0,2-3`). Each type parses with `FromStr`
//! (clap uses that), prints back in the same syntax, and serialises as that text, so the
//! report's `config` reads like the command line that produced it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// Largest record value the bench generates (Kafka's default `max.message.bytes` is 1 MiB).
pub const MESSAGE_BYTES_MAX: u32 = 1024 * 1024;
/// Most distinct keys `--keys N` pre-generates.
pub const DISTINCT_KEYS_MAX: u32 = 1_000_000;
/// Highest CPU number `--cores` accepts (glibc's `cpu_set_t` holds CPUs 0..1024).
pub const CORE_ID_MAX: usize = 1023;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{0}` is not a duration: use a number with ms, s or m (500ms, 10s, 1m)")]
    Duration(String),
    #[error("`{0}` is not a byte size: use a number with an optional B, KiB, MiB or GiB")]
    Size(String),
    #[error(
        "`{0}` is not a message size: use BYTES, uniform:MIN..MAX or normal:MEAN,STDDEV \
         (each between 0 and {MESSAGE_BYTES_MAX} bytes)"
    )]
    MessageSize(String),
    #[error("`{0}` is not a key mode: use none, random or a number of distinct keys (1..={DISTINCT_KEYS_MAX})")]
    Keys(String),
    #[error(
        "`{0}` is not a core list: use CPU numbers and ranges, e.g. 0,2-3 (at most {CORE_ID_MAX})"
    )]
    Cores(String),
}

fn serialize_display<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// A duration written with a unit: `ms`, `s` or `m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let error = || UnitError::Duration(text.to_string());
        let trimmed = text.trim();
        let digits_end = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(error)?;
        let (number, unit) = trimmed.split_at(digits_end);
        let number: u64 = number.parse().map_err(|_| error())?;
        let millis_per_unit = match unit.trim() {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            _ => return Err(error()),
        };
        let millis = number.checked_mul(millis_per_unit).ok_or_else(error)?;
        Ok(HumanDuration(Duration::from_millis(millis)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if millis.is_multiple_of(1000) {
            write!(f, "{}s", millis / 1000)
        } else {
            write!(f, "{millis}ms")
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_display(self, s)
    }
}

/// A number of bytes, with an optional binary unit (`B`, `KiB`, `MiB`, `GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let error = || UnitError::Size(text.to_string());
        let trimmed = text.trim();
        let digits_end = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(digits_end);
        let number: u64 = number.parse().map_err(|_| error())?;
        let multiplier: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "K" | "k" => 1 << 10,
            "MiB" | "M" => 1 << 20,
            "GiB" | "G" => 1 << 30,
            _ => return Err(error()),
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(error)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            bytes if bytes != 0 && bytes % (1 << 20) == 0 => write!(f, "{}MiB", bytes >> 20),
            bytes if bytes != 0 && bytes % (1 << 10) == 0 => write!(f, "{}KiB", bytes >> 10),
            bytes => write!(f, "{bytes}"),
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_display(self, s)
    }
}

/// How large each record's value is: fixed, or drawn per record from a distribution that is
/// clamped to `0..=MESSAGE_BYTES_MAX`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MessageSize {
    Fixed(u32),
    /// Uniform over `min..=max`.
    Uniform {
        min: u32,
        max: u32,
    },
    Normal {
        mean: f64,
        stddev: f64,
    },
}

impl MessageSize {
    /// The mean value size, for sizing batches and reporting.
    pub fn mean_bytes(&self) -> f64 {
        match *self {
            MessageSize::Fixed(bytes) => f64::from(bytes),
            MessageSize::Uniform { min, max } => (f64::from(min) + f64::from(max)) / 2.0,
            MessageSize::Normal { mean, .. } => mean,
        }
    }

    /// The largest value this can produce.
    pub fn max_bytes(&self) -> u32 {
        match *self {
            MessageSize::Fixed(bytes) => bytes,
            MessageSize::Uniform { max, .. } => max,
            MessageSize::Normal { .. } => MESSAGE_BYTES_MAX,
        }
    }
}

impl FromStr for MessageSize {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let error = || UnitError::MessageSize(text.to_string());
        let bytes = |part: &str| -> Result<u32, UnitError> {
            let size = part.parse::<ByteSize>().map_err(|_| error())?.0;
            u32::try_from(size)
                .ok()
                .filter(|&size| size <= MESSAGE_BYTES_MAX)
                .ok_or_else(error)
        };
        let trimmed = text.trim();
        if let Some(range) = trimmed.strip_prefix("uniform:") {
            let (min, max) = range.split_once("..").ok_or_else(error)?;
            let (min, max) = (bytes(min)?, bytes(max)?);
            if min > max {
                return Err(error());
            }
            return Ok(MessageSize::Uniform { min, max });
        }
        if let Some(parameters) = trimmed.strip_prefix("normal:") {
            let (mean, stddev) = parameters.split_once(',').ok_or_else(error)?;
            let number = |part: &str| part.trim().parse::<f64>().map_err(|_| error());
            let (mean, stddev) = (number(mean)?, number(stddev)?);
            let limit = f64::from(MESSAGE_BYTES_MAX);
            if !(0.0..=limit).contains(&mean) || !(0.0..=limit).contains(&stddev) {
                return Err(error());
            }
            return Ok(MessageSize::Normal { mean, stddev });
        }
        bytes(trimmed).map(MessageSize::Fixed)
    }
}

impl fmt::Display for MessageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageSize::Fixed(bytes) => write!(f, "{bytes}"),
            MessageSize::Uniform { min, max } => write!(f, "uniform:{min}..{max}"),
            MessageSize::Normal { mean, stddev } => write!(f, "normal:{mean},{stddev}"),
        }
    }
}

impl Serialize for MessageSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_display(self, s)
    }
}

/// Record keys: none, a fresh random one per record, or one of N distinct keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    None,
    Random,
    Distinct(u32),
}

impl FromStr for Keys {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        match text.trim() {
            "none" => Ok(Keys::None),
            "random" => Ok(Keys::Random),
            number => number
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=DISTINCT_KEYS_MAX).contains(n))
                .map(Keys::Distinct)
                .ok_or_else(|| UnitError::Keys(text.to_string())),
        }
    }
}

impl fmt::Display for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keys::None => f.write_str("none"),
            Keys::Random => f.write_str("random"),
            Keys::Distinct(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Keys {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_display(self, s)
    }
}

/// CPU numbers, in the order given; duplicates are kept (two executors on one core).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreList(pub Vec<usize>);

impl FromStr for CoreList {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let error = || UnitError::Cores(text.to_string());
        let core = |part: &str| {
            part.trim()
                .parse::<usize>()
                .ok()
                .filter(|&id| id <= CORE_ID_MAX)
                .ok_or_else(error)
        };
        let mut cores = Vec::new();
        for part in text.split(',') {
            match part.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (core(first)?, core(last)?);
                    if first > last {
                        return Err(error());
                    }
                    cores.extend(first..=last);
                }
                None => cores.push(core(part)?),
            }
        }
        Ok(CoreList(cores))
    }
}

impl fmt::Display for CoreList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl Serialize for CoreList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_display(self, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_ms_s_and_m_and_refuse_bare_numbers() {
        let parse = |text: &str| text.parse::<HumanDuration>().map(|d| d.0);
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        for bad in ["10", "s", "10h", "-1s", "1.5s", ""] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
        assert_eq!(
            HumanDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
        assert_eq!(HumanDuration(Duration::from_secs(2)).to_string(), "2s");
    }

    #[test]
    fn sizes_take_binary_units() {
        let parse = |text: &str| text.parse::<ByteSize>().map(|s| s.0);
        assert_eq!(parse("512"), Ok(512));
        assert_eq!(parse("16KiB"), Ok(16 * 1024));
        assert_eq!(parse("1MiB"), Ok(1 << 20));
        assert_eq!(parse("2B"), Ok(2));
        for bad in ["", "KiB", "1KB", "1.5MiB", "99999999999999GiB"] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
        assert_eq!(ByteSize(16 * 1024).to_string(), "16KiB");
    }

    #[test]
    fn message_sizes_are_fixed_or_bounded_distributions() {
        let parse = |text: &str| text.parse::<MessageSize>();
        assert_eq!(parse("1024"), Ok(MessageSize::Fixed(1024)));
        assert_eq!(parse("1KiB"), Ok(MessageSize::Fixed(1024)));
        assert_eq!(
            parse("uniform:100..2000"),
            Ok(MessageSize::Uniform {
                min: 100,
                max: 2000
            })
        );
        assert_eq!(
            parse("normal:1000,200"),
            Ok(MessageSize::Normal {
                mean: 1000.0,
                stddev: 200.0
            })
        );
        for bad in [
            "2MiB",
            "uniform:10..5",
            "uniform:10",
            "normal:5",
            "normal:-1,2",
            "x",
        ] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
        let round_trip = parse("uniform:100..2000").map(|size| size.to_string());
        assert_eq!(round_trip.as_deref(), Ok("uniform:100..2000"));
    }

    #[test]
    fn keys_and_cores_parse_and_refuse_nonsense() {
        assert_eq!("none".parse::<Keys>(), Ok(Keys::None));
        assert_eq!("random".parse::<Keys>(), Ok(Keys::Random));
        assert_eq!("100".parse::<Keys>(), Ok(Keys::Distinct(100)));
        assert!("0".parse::<Keys>().is_err());
        assert!("some".parse::<Keys>().is_err());
        assert_eq!("0,2-4".parse::<CoreList>(), Ok(CoreList(vec![0, 2, 3, 4])));
        for bad in ["", "3-1", "a", "1,,2", "99999"] {
            assert!(bad.parse::<CoreList>().is_err(), "{bad} parsed");
        }
    }
}
