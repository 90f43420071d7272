//! Human units and aligned text columns, shared by the final table and `compare`.
//!
//! Numbers are shown with three significant digits: a benchmark's noise is rarely below 0.1%,
//! so more digits would only suggest a precision the measurement does not have.

use super::model::Spread;

/// Microseconds in a millisecond and in a second, for choosing a latency's unit.
const US_PER_MS: f64 = 1e3;
const US_PER_SEC: f64 = 1e6;

/// Turns a metric's value into text in its unit.
pub type Show = fn(f64) -> String;

/// `value` with three significant digits and no unit (`0.123`, `12.3`, `1234`).
pub fn significant(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        format!("{value}")
    } else if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A percentage to two significant digits at most: `0.4`, `4.8`, `12`.
pub fn percent(value: f64) -> String {
    // 9.95 and up would print as `10.0` with one decimal.
    if value.abs() >= 9.95 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A count per second with an SI suffix: `950`, `12.3k`, `1.23M`, `4.56G`.
pub fn rate(value: f64) -> String {
    const SUFFIXES: [(f64, &str); 3] = [(1e9, "G"), (1e6, "M"), (1e3, "k")];
    SUFFIXES
        .iter()
        .find(|(scale, _)| value.abs() >= *scale)
        .map(|(scale, suffix)| format!("{}{suffix}", significant(value / scale)))
        .unwrap_or_else(|| significant(value))
}

/// A latency given in microseconds, in the unit that keeps it readable: `85.0 µs`, `1.23 ms`,
/// `2.50 s`.
pub fn latency_us(value: f64) -> String {
    if value.abs() >= US_PER_SEC {
        format!("{} s", significant(value / US_PER_SEC))
    } else if value.abs() >= US_PER_MS {
        format!("{} ms", significant(value / US_PER_MS))
    } else {
        format!("{} µs", significant(value))
    }
}

/// How far the farthest repetition lies from the median, in percent of the median; `None`
/// for a single repetition or a zero median (where a percentage means nothing).
pub fn deviation_percent(spread: &Spread) -> Option<f64> {
    if spread.values.len() < 2 || spread.median == 0.0 {
        return None;
    }
    let farthest = (spread.max - spread.median).max(spread.median - spread.min);
    Some(farthest / spread.median.abs() * 100.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Text columns padded to their widest cell, two spaces apart.
pub struct Columns {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

/// Space between two columns.
const COLUMN_GAP: &str = "  ";

impl Columns {
    pub fn new(header: &[(&str, Align)]) -> Columns {
        Columns {
            header: header.iter().map(|(name, _)| name.to_string()).collect(),
            align: header.iter().map(|(_, align)| *align).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<String>) {
        assert_eq!(row.len(), self.header.len(), "one cell per column");
        self.rows.push(row);
    }

    /// The header, a rule and the rows, each line ending in `\n` without trailing spaces.
    pub fn render(&self) -> String {
        let width = |cell: &String| cell.chars().count();
        let mut widths: Vec<usize> = self.header.iter().map(width).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(width(cell));
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.align)
                .map(|((cell, &width), align)| match align {
                    Align::Left => format!("{cell:<width$}"),
                    Align::Right => format!("{cell:>width$}"),
                })
                .collect();
            padded.join(COLUMN_GAP).trim_end().to_string() + "\n"
        };
        let rule: Vec<String> = widths.iter().map(|&width| "-".repeat(width)).collect();
        let mut text = line(&self.header);
        text += &line(&rule);
        for row in &self.rows {
            text += &line(row);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_keep_three_significant_digits() {
        assert_eq!(rate(950.0), "950");
        assert_eq!(rate(12_345.0), "12.3k");
        assert_eq!(rate(1_234_567.0), "1.23M");
        assert_eq!(latency_us(85.0), "85.0 µs");
        assert_eq!(latency_us(1_234.0), "1.23 ms");
        assert_eq!(latency_us(2_500_000.0), "2.50 s");
        assert_eq!(significant(0.5), "0.500");
        let percents = [percent(4.81), percent(9.999), percent(12.4)];
        assert_eq!(percents, ["4.8", "10", "12"]);
    }

    #[test]
    fn deviation_is_the_farthest_repetition_from_the_median() {
        let spread = Spread {
            median: 100.0,
            min: 90.0,
            max: 104.0,
            values: vec![90.0, 100.0, 104.0],
        };
        assert_eq!(deviation_percent(&spread), Some(10.0));
        let single = Spread {
            median: 100.0,
            min: 100.0,
            max: 100.0,
            values: vec![100.0],
        };
        assert_eq!(deviation_percent(&single), None);
    }

    #[test]
    fn columns_align_by_character_count_not_bytes() {
        let mut columns = Columns::new(&[("name", Align::Left), ("p99", Align::Right)]);
        columns.push(vec!["produce".into(), "85.0 µs".into()]);
        columns.push(vec!["end-to-end".into(), "1.23 ms".into()]);
        let text = columns.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let widths: Vec<usize> = lines.iter().map(|line| line.chars().count()).collect();
        assert!(widths.iter().all(|&width| width == widths[0]), "{text}");
    }
}
