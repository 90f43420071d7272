//! ISO 8601 date-times (`group reset-offsets --to-datetime`, `consume --from-timestamp`), to
//! milliseconds since the Unix epoch, without a date library:
//! `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM|+HHMM]`, UTC when no offset.

/// Milliseconds since 1970-01-01T00:00:00Z, or what is wrong with `text`.
pub fn parse_ms(text: &str) -> Result<i64, &'static str> {
    let (date, time) = text
        .split_once(['T', ' '])
        .ok_or("no 'T' between date and time")?;
    let days = days_since_epoch(date)?;
    let (clock, offset_minutes) = split_offset(time)?;
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    let [hour, minute, second] = fields[..] else {
        return Err("the time is not HH:MM:SS");
    };
    let hour = number(hour, 0, 23, "hour")?;
    let minute = number(minute, 0, 59, "minute")?;
    let second = number(second, 0, 60, "second")?;
    let millis = match fraction {
        None => 0,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{digits:0<3}");
            padded[..3].parse::<i64>().map_err(|_| "bad fraction")?
        }
        Some(_) => return Err("bad fraction of a second"),
    };
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

/// The clock part and the UTC offset in minutes (0 for `Z` or none).
fn split_offset(time: &str) -> Result<(&str, i64), &'static str> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Ok((clock, 0));
    }
    let Some(sign_at) = time.rfind(['+', '-']) else {
        return Ok((time, 0));
    };
    let (clock, offset) = time.split_at(sign_at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return Err("the UTC offset is not +HH:MM");
    }
    let hours = number(&digits[..2], 0, 23, "offset hours")?;
    let minutes = number(&digits[2..], 0, 59, "offset minutes")?;
    Ok((clock, sign * (hours * 60 + minutes)))
}

/// Days from 1970-01-01 to `date` (YYYY-MM-DD), by Howard Hinnant's days_from_civil.
fn days_since_epoch(date: &str) -> Result<i64, &'static str> {
    let fields: Vec<&str> = date.split('-').collect();
    let [year, month, day] = fields[..] else {
        return Err("the date is not YYYY-MM-DD");
    };
    let year = number(year, 1, 9999, "year")?;
    let month = number(month, 1, 12, "month")?;
    let day = number(day, 1, 31, "day")?;
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Ok(era * 146_097 + day_of_era - 719_468)
}

fn number(text: &str, min: i64, max: i64, what: &'static str) -> Result<i64, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(what);
    }
    match text.parse::<i64>() {
        Ok(value) if (min..=max).contains(&value) => Ok(value),
        _ => Err(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_count_from_the_epoch() {
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_ms("2000-03-01T00:00:00"), Ok(951_868_800_000));
        assert_eq!(parse_ms("2026-11-21T10:23:54.5Z"), Ok(1_795_256_634_500));
    }

    #[test]
    fn offsets_shift_to_utc() {
        assert_eq!(parse_ms("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_ms("1969-12-31T19:00:00-0500"), Ok(0));
    }

    #[test]
    fn malformed_times_say_what_is_wrong() {
        assert_eq!(parse_ms("2026-11-21"), Err("no 'T' between date and time"));
        assert_eq!(parse_ms("2026-13-01T00:00:00Z"), Err("month"));
        assert_eq!(parse_ms("2026-01-01T25:00:00Z"), Err("hour"));
    }
}
