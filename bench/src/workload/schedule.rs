//! When each producer sends its next record, when it stops, and the clock end-to-end latency
//! is measured on.
//!
//! At a fixed `--rate`, record `k` of a producer is *due* at `start + (k + phase) / rate`,
//! whatever happened before: if the broker stalls, the records that should have gone out in
//! the meantime are sent as soon as possible afterwards and their latency counts from when
//! they were due, not from when they finally left. Measuring from the actual send would hide
//! the stall (coordinated omission). At max rate a record is due when it is created.
//!
//! End-to-end latency needs a clock that the producing and the consuming task read alike.
//! Both run in this process, so [`stamp_now`] gives nanoseconds since a process-wide base
//! [`Instant`] (Linux's `Instant` is `CLOCK_MONOTONIC`): immune to wall-clock steps, and the
//! same on every core.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bytes of the send timestamp at the start of every end-to-end record value.
pub const STAMP_BYTES: usize = 8;

/// Shortest sleep of a producer waiting for its next record to be due. Sleeping until each
/// record's own due time costs a timer (an io_uring timeout) per record: a third of the bench
/// core at 329k records/s. Records woken up to this late are sent together, and the wait
/// counts in their latency, which runs from the due time.
pub const PACE_SLEEP_MIN: Duration = Duration::from_micros(100);

/// How a producer paces its records.
#[derive(Debug, Clone)]
pub enum Pace {
    /// As fast as the client accepts them.
    Max,
    /// Record `k` is due at `start + (k + phase) * interval`.
    Fixed {
        start: Instant,
        interval_secs: f64,
        phase: f64,
        sent: u64,
    },
}

impl Pace {
    /// The pace of producer `index` of `producers` for a total of `rate` records per second
    /// (`None`: max rate). Producers are offset by a fraction of the interval so that they
    /// do not all send at the same instant.
    pub fn new(rate: Option<f64>, start: Instant, index: u32, producers: u32) -> Pace {
        match rate {
            None => Pace::Max,
            Some(rate) => {
                let per_producer = rate / f64::from(producers.max(1));
                Pace::Fixed {
                    start,
                    interval_secs: 1.0 / per_producer,
                    phase: f64::from(index) / f64::from(producers.max(1)),
                    sent: 0,
                }
            }
        }
    }

    /// When the next record is due; `now` at max rate. Advances the schedule.
    pub fn next_due(&mut self, now: Instant) -> Instant {
        match self {
            Pace::Max => now,
            Pace::Fixed {
                start,
                interval_secs,
                phase,
                sent,
            } => {
                let offset = (*sent as f64 + *phase) * *interval_secs;
                *sent += 1;
                *start + Duration::from_secs_f64(offset)
            }
        }
    }
}

/// When a producer stops: at a deadline, after a number of records, or whichever is first.
#[derive(Debug, Clone, Copy)]
pub struct StopAt {
    pub deadline: Option<Instant>,
    pub records: Option<u64>,
}

impl StopAt {
    /// True once `sent` records went out or the deadline passed at `now`.
    pub fn reached(&self, now: Instant, sent: u64) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline)
            || self.records.is_some_and(|records| sent >= records)
    }
}

impl StopAt {
    /// When the next record is due, or `None` once the producer should stop: `sent` records
    /// went out, the deadline passed at `now`, or the next record would be due after it.
    pub fn next_due(&self, pace: &mut Pace, now: Instant, sent: u64) -> Option<Instant> {
        if self.reached(now, sent) {
            return None;
        }
        let due = pace.next_due(now);
        self.deadline
            .is_none_or(|deadline| due < deadline)
            .then_some(due)
    }
}

/// Share `index` of `total` split over `parts` (the first ones take the remainder).
pub fn share(total: u64, parts: u32, index: u32) -> u64 {
    let parts = u64::from(parts.max(1));
    let index = u64::from(index);
    total / parts + u64::from(index < total % parts)
}

/// Fixes the shared clock's base now, if it is not fixed yet (before a run's first due time).
pub fn start_clock() {
    clock_base();
}

fn clock_base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// `at` as milliseconds since the Unix epoch (a record timestamp), without reading the
/// system clock again: the wall clock is read once, beside the shared clock's base.
pub fn wall_clock_ms(at: Instant) -> i64 {
    static WALL_BASE_MS: OnceLock<i64> = OnceLock::new();
    let base = clock_base();
    let base_ms = *WALL_BASE_MS.get_or_init(|| {
        let since_base = base.elapsed();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(since_base);
        i64::try_from(wall.as_millis()).unwrap_or(i64::MAX)
    });
    let offset = i64::try_from(at.saturating_duration_since(base).as_millis()).unwrap_or(0);
    base_ms.saturating_add(offset)
}

/// `at` as nanoseconds on the shared clock (0 for instants before its base).
pub fn stamp(at: Instant) -> u64 {
    let nanos = at.saturating_duration_since(clock_base()).as_nanos();
    u64::try_from(nanos).unwrap_or(u64::MAX)
}

/// Now on the shared clock.
pub fn stamp_now() -> u64 {
    stamp(Instant::now())
}

/// The latency of a record stamped `sent` and consumed at `received` (both from [`stamp`]).
pub fn latency_since(sent: u64, received: u64) -> Duration {
    Duration::from_nanos(received.saturating_sub(sent))
}

/// The stamp at the start of `value`, if it is long enough to hold one.
pub fn read_stamp(value: &[u8]) -> Option<u64> {
    let bytes: [u8; STAMP_BYTES] = value.get(..STAMP_BYTES)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_pace_keeps_its_schedule_even_when_late() {
        let start = Instant::now();
        let mut pace = Pace::new(Some(1000.0), start, 0, 1);
        let late = start + Duration::from_secs(5);
        let due: Vec<Duration> = (0..3).map(|_| pace.next_due(late) - start).collect();
        assert_eq!(
            due,
            [0, 1, 2].map(Duration::from_millis).to_vec(),
            "due times follow the schedule, not the (late) clock"
        );
    }

    #[test]
    fn producers_split_the_rate_and_are_phase_shifted() {
        let start = Instant::now();
        let mut second = Pace::new(Some(1000.0), start, 1, 2);
        // 500/s each: every 2 ms, the second producer half an interval later.
        assert_eq!(second.next_due(start) - start, Duration::from_millis(1));
        assert_eq!(second.next_due(start) - start, Duration::from_millis(3));
        let mut max = Pace::new(None, start, 0, 1);
        let now = start + Duration::from_secs(1);
        assert_eq!(max.next_due(now), now);
    }

    #[test]
    fn shares_add_up_and_stop_conditions_hold() {
        let shares: Vec<u64> = (0..3).map(|i| share(10, 3, i)).collect();
        assert_eq!(shares, vec![4, 3, 3]);
        let now = Instant::now();
        let by_count = StopAt {
            deadline: None,
            records: Some(5),
        };
        assert!(!by_count.reached(now, 4) && by_count.reached(now, 5));
        let by_time = StopAt {
            deadline: Some(now),
            records: None,
        };
        assert!(by_time.reached(now, 0));
    }

    #[test]
    fn wall_clock_follows_the_system_clock() {
        let system_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let derived = wall_clock_ms(Instant::now());
        assert!(
            (derived - system_ms).abs() < 1000,
            "{derived} vs {system_ms}"
        );
        let later = wall_clock_ms(Instant::now() + Duration::from_secs(60));
        assert!(
            (later - derived - 60_000).abs() < 1000,
            "{later} vs {derived}"
        );
    }

    #[test]
    fn stamps_round_trip_through_a_value() {
        let sent = stamp_now();
        let mut value = sent.to_be_bytes().to_vec();
        value.extend_from_slice(b"payload");
        assert_eq!(read_stamp(&value), Some(sent));
        assert_eq!(read_stamp(b"short"), None);
        assert!(latency_since(sent, stamp_now()) < Duration::from_secs(1));
    }
}
