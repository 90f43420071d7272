//! `--plot FILE.svg` (or `.png`): a self-contained SVG of the latency percentile distribution and the
//! throughput over time, written by hand (no plotting crate: a few lines of SVG text do).
//!
//! The upper panel follows HdrHistogram's plotter: x is `1/(1-p)` on a log axis, so 90%,
//! 99%, 99.9% ... are evenly spaced and the tail gets the room it deserves; y is latency on a
//! log axis. Percentiles beyond the last tick (the maximum) sit on the right edge. The lower
//! panel shows MB/s per second of the measured window. Each workload has a colour; with
//! several repetitions every repetition is drawn, half-transparent, so the spread is visible.
//!
//! `*.png` gets the same drawing rasterised ([`raster`]).

mod canvas;
mod raster;

use std::path::Path;

use self::canvas::{decade_range, linear_ticks, Canvas, Scale, Svg};
use self::raster::Raster;
use super::model::{Report, WorkloadResult};
use super::ReportError;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 820.0;
/// The plotting area of both panels spans these x pixels; the legend sits to the right.
const PLOT_LEFT: f64 = 90.0;
const PLOT_RIGHT: f64 = 740.0;
const LEGEND_LEFT: f64 = 765.0;
const LATENCY_TOP: f64 = 100.0;
const LATENCY_HEIGHT: f64 = 290.0;
const THROUGHPUT_TOP: f64 = 480.0;
const THROUGHPUT_HEIGHT: f64 = 270.0;
const LEGEND_LINE_HEIGHT: f64 = 18.0;

const AXIS_COLOUR: &str = "#333333";
const GRID_COLOUR: &str = "#e0e0e0";
/// Workload colours, reused in turn beyond the eighth workload.
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// `1/(1-p)` of the last tick, 99.999%; higher percentiles are drawn on the right edge.
const PERCENTILE_X_MAX: f64 = 1e5;
const PERCENTILE_TICKS: [(f64, &str); 7] = [
    (1.0, "0%"),
    (2.0, "50%"),
    (10.0, "90%"),
    (100.0, "99%"),
    (1e3, "99.9%"),
    (1e4, "99.99%"),
    (1e5, "99.999%"),
];
/// Latencies are recorded in whole microseconds from 1 up; the log axis starts there.
const LATENCY_US_MIN: f64 = 1.0;
/// A last, partial second shorter than this is left out: its rate would be mostly noise.
const PARTIAL_SECOND_MIN: f64 = 0.1;
const BYTES_PER_MB: f64 = 1e6;

/// Draws the latency percentile distribution and the throughput over time of `report` into
/// `path`: SVG for `*.svg`, PNG for `*.png`.
pub fn write_plot(report: &Report, path: &Path) -> Result<(), ReportError> {
    let bytes = match PlotFormat::of(path) {
        Some(PlotFormat::Svg) => render_svg(report).into_bytes(),
        Some(PlotFormat::Png) => render_png(report),
        None => {
            return Err(ReportError::PlotFormat {
                path: path.to_path_buf(),
            })
        }
    };
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The plot formats, by file extension (either case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Svg,
    Png,
}

impl PlotFormat {
    pub fn of(path: &Path) -> Option<PlotFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "svg" => Some(PlotFormat::Svg),
            "png" => Some(PlotFormat::Png),
            _ => None,
        }
    }
}

/// One line: a workload's colour and its points in data units.
struct Series {
    colour: &'static str,
    points: Vec<(f64, f64)>,
}

/// The SVG document of `report`.
pub fn render_svg(report: &Report) -> String {
    let mut svg = Svg::new(WIDTH, HEIGHT);
    draw(report, &mut svg);
    svg.finish()
}

/// The PNG file of `report`'s plot (the same drawing, rasterised).
pub fn render_png(report: &Report) -> Vec<u8> {
    let mut raster = Raster::new(WIDTH, HEIGHT);
    draw(report, &mut raster);
    raster.finish()
}

fn draw(report: &Report, svg: &mut impl Canvas) {
    let repetitions = report.runs.len();
    svg.title(
        (PLOT_LEFT, 30.0),
        &format!(
            "pinlog-bench {}: client {} {}, host {} ({} cores, kernel {})",
            report.kind,
            report.tool.client,
            report.tool.client_version,
            report.host.hostname,
            report.host.cores,
            report.host.kernel
        ),
    );
    svg.text(
        (PLOT_LEFT, 52.0),
        "start",
        &format!(
            "started {}, {repetitions} repetition{}, {} {}",
            report.started_at,
            if repetitions == 1 { "" } else { "s" },
            report.tool.name,
            report.tool.version
        ),
    );
    let workloads = workload_names(report);
    let colour_of = |name: &str| {
        let index = workloads
            .iter()
            .position(|known| known == name)
            .unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    };
    // Several repetitions overlap; transparency lets each one show through the others.
    let opacity = if repetitions > 1 { 0.6 } else { 1.0 };

    let latency: Vec<Series> = each_workload(report)
        .filter(|workload| !workload.latency_distribution.is_empty())
        .map(|workload| Series {
            colour: colour_of(&workload.name),
            points: workload
                .latency_distribution
                .iter()
                .map(|point| (percentile_x(point.percentile), point.latency_us))
                .collect(),
        })
        .collect();
    draw_latency_panel(svg, &latency, opacity);

    let throughput: Vec<Series> = each_workload(report)
        .map(|workload| Series {
            colour: colour_of(&workload.name),
            points: throughput_points(workload),
        })
        .filter(|series| !series.points.is_empty())
        .collect();
    draw_throughput_panel(svg, &throughput, opacity);

    draw_legend(svg, &workloads, &colour_of, repetitions);
}

/// Workload names in the order they first appear.
fn workload_names(report: &Report) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for workload in each_workload(report) {
        if !names.contains(&workload.name) {
            names.push(workload.name.clone());
        }
    }
    names
}

fn each_workload(report: &Report) -> impl Iterator<Item = &WorkloadResult> {
    report.runs.iter().flat_map(|run| &run.workloads)
}

/// HdrHistogram's percentile axis position `1/(1-p)`, capped at the last tick.
fn percentile_x(percentile: f64) -> f64 {
    let remaining = 1.0 - percentile / 100.0;
    if remaining <= 1.0 / PERCENTILE_X_MAX {
        PERCENTILE_X_MAX
    } else {
        (1.0 / remaining).max(1.0)
    }
}

/// MB/s of each second of the timeline, at the middle of the time it covers.
fn throughput_points(workload: &WorkloadResult) -> Vec<(f64, f64)> {
    workload
        .timeline
        .iter()
        .filter_map(|sample| {
            let start = f64::from(sample.second);
            let covered = (workload.duration_secs - start).min(1.0);
            (covered >= PARTIAL_SECOND_MIN).then(|| {
                let mb_per_sec = sample.bytes as f64 / BYTES_PER_MB / covered;
                (start + covered / 2.0, mb_per_sec)
            })
        })
        .collect()
}

fn draw_latency_panel(svg: &mut impl Canvas, series: &[Series], opacity: f64) {
    let top = LATENCY_TOP;
    let bottom = top + LATENCY_HEIGHT;
    svg.text((PLOT_LEFT, top - 12.0), "start", "Latency by percentile");
    let x = Scale {
        low: 1.0,
        high: PERCENTILE_X_MAX,
        pixel_low: PLOT_LEFT,
        pixel_high: PLOT_RIGHT,
        logarithmic: true,
    };
    let latencies = series.iter().flat_map(|line| &line.points).map(|p| p.1);
    let (low, high) = latencies.fold((f64::INFINITY, 0f64), |(low, high), latency| {
        (low.min(latency), high.max(latency))
    });
    // With no latency at all `low` is still infinite; the empty panel spans one decade.
    let low = if low.is_finite() { low } else { LATENCY_US_MIN };
    let (low, high) = decade_range(low.max(LATENCY_US_MIN), high.max(LATENCY_US_MIN));
    let y = Scale {
        low,
        high,
        pixel_low: bottom,
        pixel_high: top,
        logarithmic: true,
    };
    let x_ticks: Vec<(f64, String)> = PERCENTILE_TICKS
        .iter()
        .map(|(value, label)| (x.at(*value), label.to_string()))
        .collect();
    let exponents = low.log10().round() as i32..=high.log10().round() as i32;
    let y_ticks: Vec<(f64, String)> = exponents
        .map(|exponent| (y.at(10f64.powi(exponent)), decade_label(exponent)))
        .collect();
    draw_frame(svg, (top, bottom), &x_ticks, &y_ticks);
    svg.text(
        ((PLOT_LEFT + PLOT_RIGHT) / 2.0, bottom + 38.0),
        "middle",
        "percentile",
    );
    svg.text_vertical((PLOT_LEFT - 62.0, (top + bottom) / 2.0), "latency");
    if series.is_empty() {
        no_data(svg, (top, bottom), "no latency measured");
    }
    for line in series {
        let pixels: Vec<(f64, f64)> = line.points.iter().map(|p| (x.at(p.0), y.at(p.1))).collect();
        svg.polyline(&pixels, line.colour, opacity);
    }
}

fn draw_throughput_panel(svg: &mut impl Canvas, series: &[Series], opacity: f64) {
    let top = THROUGHPUT_TOP;
    let bottom = top + THROUGHPUT_HEIGHT;
    svg.text((PLOT_LEFT, top - 12.0), "start", "Throughput over time");
    let points = || series.iter().flat_map(|line| &line.points);
    let seconds = points().map(|p| p.0).fold(0f64, f64::max).ceil();
    let (x_high, x_step) = linear_ticks(seconds);
    let (y_high, y_step) = linear_ticks(points().map(|p| p.1).fold(0f64, f64::max));
    let x = Scale {
        low: 0.0,
        high: x_high,
        pixel_low: PLOT_LEFT,
        pixel_high: PLOT_RIGHT,
        logarithmic: false,
    };
    let y = Scale {
        low: 0.0,
        high: y_high,
        pixel_low: bottom,
        pixel_high: top,
        logarithmic: false,
    };
    let ticks = |scale: &Scale, high: f64, step: f64| -> Vec<(f64, String)> {
        let count = (high / step).round() as usize;
        (0..=count)
            .map(|index| {
                let value = index as f64 * step;
                (scale.at(value), tick_label(value, step))
            })
            .collect()
    };
    draw_frame(
        svg,
        (top, bottom),
        &ticks(&x, x_high, x_step),
        &ticks(&y, y_high, y_step),
    );
    let label = "seconds since the warm-up ended";
    svg.text(
        ((PLOT_LEFT + PLOT_RIGHT) / 2.0, bottom + 38.0),
        "middle",
        label,
    );
    svg.text_vertical((PLOT_LEFT - 62.0, (top + bottom) / 2.0), "MB/s");
    if series.is_empty() {
        no_data(svg, (top, bottom), "no per-second samples");
    }
    for line in series {
        let pixels: Vec<(f64, f64)> = line.points.iter().map(|p| (x.at(p.0), y.at(p.1))).collect();
        svg.polyline(&pixels, line.colour, opacity);
    }
}

/// The panel's box, grid lines and tick labels; ticks are `(pixel, label)`.
fn draw_frame(
    svg: &mut impl Canvas,
    (top, bottom): (f64, f64),
    x: &[(f64, String)],
    y: &[(f64, String)],
) {
    for (pixel, label) in x {
        svg.line((*pixel, top), (*pixel, bottom), GRID_COLOUR);
        svg.text((*pixel, bottom + 16.0), "middle", label);
    }
    for (pixel, label) in y {
        svg.line((PLOT_LEFT, *pixel), (PLOT_RIGHT, *pixel), GRID_COLOUR);
        svg.text((PLOT_LEFT - 6.0, *pixel + 4.0), "end", label);
    }
    let size = (PLOT_RIGHT - PLOT_LEFT, bottom - top);
    svg.rect((PLOT_LEFT, top), size, "none", AXIS_COLOUR);
}

fn no_data(svg: &mut impl Canvas, (top, bottom): (f64, f64), message: &str) {
    let centre = ((PLOT_LEFT + PLOT_RIGHT) / 2.0, (top + bottom) / 2.0);
    svg.text(centre, "middle", message);
}

fn draw_legend(
    svg: &mut impl Canvas,
    workloads: &[String],
    colour_of: &dyn Fn(&str) -> &'static str,
    repetitions: usize,
) {
    let mut y = LATENCY_TOP + 10.0;
    for name in workloads {
        svg.rect((LEGEND_LEFT, y - 1.5), (24.0, 3.0), colour_of(name), "none");
        svg.text((LEGEND_LEFT + 30.0, y + 4.0), "start", name);
        y += LEGEND_LINE_HEIGHT;
    }
    if repetitions > 1 {
        let note = format!("one line per repetition ({repetitions})");
        svg.text((LEGEND_LEFT, y + 4.0), "start", &note);
    }
}

/// A linear tick's value with as many decimals as its step needs: `0.2`, `15`, `2000`.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
}

/// The decade of 10^`exponent` microseconds as a tick label: `100 µs`, `1 ms`, `10 s`.
fn decade_label(exponent: i32) -> String {
    let (unit_exponent, unit) = match exponent {
        6.. => (6, "s"),
        3.. => (3, "ms"),
        _ => (0, "µs"),
    };
    match u32::try_from(exponent - unit_exponent) {
        Ok(power) => format!("{} {unit}", 10u64.pow(power)),
        // Below a microsecond, which the recorder never produces.
        Err(_) => format!("1e{exponent} µs"),
    }
}

#[cfg(test)]
mod tests;
