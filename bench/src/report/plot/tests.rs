//! The plot parses back as XML, names every workload, and copes with missing data.

use super::*;
use crate::report::fixtures;

fn parse(svg: &str) -> roxmltree::Document<'_> {
    match roxmltree::Document::parse(svg) {
        Ok(document) => document,
        Err(error) => panic!("the SVG is not well-formed XML: {error}\n{svg}"),
    }
}

fn texts(document: &roxmltree::Document<'_>) -> Vec<String> {
    document
        .descendants()
        .filter(|node| node.has_tag_name("text"))
        .filter_map(|node| node.text().map(str::to_string))
        .collect()
}

#[test]
fn the_svg_is_well_formed_and_draws_every_workload_and_repetition() {
    let report = fixtures::report("produce", 3);
    let svg = render_svg(&report);
    let document = parse(&svg);
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let texts = texts(&document);
    for expected in ["produce", "end-to-end", "99.9%", "99.999%", "MB/s"] {
        assert!(
            texts.iter().any(|text| text == expected),
            "{expected}: {texts:?}"
        );
    }
    // The hostname's markup characters came through escaped and read back intact.
    assert!(texts.iter().any(|text| text.contains("host bench<1>&co")));
    let lines = document
        .descendants()
        .filter(|node| node.has_tag_name("polyline"))
        .count();
    // Latency: produce in 3 repetitions; throughput: both workloads in 3 repetitions.
    assert_eq!(lines, 3 + 6);
}

#[test]
fn missing_latency_and_timeline_are_said_not_drawn() {
    let mut report = fixtures::report("consume", 1);
    for workload in report.runs.iter_mut().flat_map(|run| &mut run.workloads) {
        workload.latency = None;
        workload.latency_distribution.clear();
        workload.timeline.clear();
    }
    let svg = render_svg(&report);
    let texts = texts(&parse(&svg));
    assert!(texts.iter().any(|text| text == "no latency measured"));
    assert!(texts.iter().any(|text| text == "no per-second samples"));
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

#[test]
fn an_empty_report_still_draws_both_panels() {
    let mut report = fixtures::report("produce", 1);
    report.runs.clear();
    let svg = render_svg(&report);
    parse(&svg);
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

#[test]
fn write_plot_writes_svg_or_png_by_extension_and_refuses_others() {
    let report = fixtures::report("produce", 2);
    let directory = std::env::temp_dir().join(format!("pinlog-plot-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("create a temp dir");
    let svg_path = directory.join("plot.SVG");
    write_plot(&report, &svg_path).expect("writing SVG works");
    let written = std::fs::read_to_string(&svg_path).expect("read it back");
    parse(&written);

    let png_path = directory.join("plot.png");
    write_plot(&report, &png_path).expect("writing PNG works");
    let decoder = png::Decoder::new(std::fs::File::open(&png_path).expect("open the PNG"));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("one image");
    assert_eq!((frame.width, frame.height), (WIDTH as u32, HEIGHT as u32));
    let pixels = &pixels[..frame.buffer_size()];
    let rgb: Vec<[u8; 3]> = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    // Text and axes (dark), and the workload's colour in its lines, blended or not.
    assert!(
        rgb.iter().filter(|p| **p == [0, 0, 0]).count() > 1000,
        "text"
    );
    let blue = [0x1f, 0x77, 0xb4];
    let bluish = rgb
        .iter()
        .filter(|p| p[2] > 150 && p[0] < 200 && p[2] > p[0] + 40)
        .count();
    assert!(
        rgb.contains(&blue) || bluish > 200,
        "the series: {bluish} bluish pixels"
    );

    let jpg = write_plot(&report, &directory.join("plot.jpg"));
    assert!(
        matches!(jpg, Err(ReportError::PlotFormat { .. })),
        "{jpg:?}"
    );
    std::fs::remove_dir_all(&directory).expect("clean up");
}

#[test]
fn percentiles_map_to_hdr_positions_and_cap_at_the_last_tick() {
    assert_eq!(percentile_x(0.0), 1.0);
    assert!((percentile_x(99.0) - 100.0).abs() < 1e-6);
    assert_eq!(percentile_x(100.0), PERCENTILE_X_MAX);
    assert_eq!(decade_label(2), "100 µs");
    assert_eq!(decade_label(3), "1 ms");
    assert_eq!(decade_label(7), "10 s");
    assert_eq!(
        (tick_label(0.8, 0.2), tick_label(2000.0, 500.0)),
        ("0.8".into(), "2000".into())
    );
}
