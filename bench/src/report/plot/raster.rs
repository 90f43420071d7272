//! `--plot FILE.png`: the same drawing as the SVG, rasterised here into an RGB image. Lines are
//! one pixel (series two), text is an 8x8 bitmap font (`font8x8`; the title struck twice, as
//! bold), and the image is written with the `png` crate: nothing from the system (fonts,
//! libraries) is needed, so the PNG looks the same on every machine.

use font8x8::{UnicodeFonts, BASIC_FONTS, LATIN_FONTS};

use super::canvas::Canvas;

/// Side of a glyph cell in pixels.
const GLYPH_PIXELS: i64 = 8;
/// From one character to the next: the glyphs leave their last column empty, and a narrower
/// advance keeps lines of text near the width the SVG's proportional font gives them.
const GLYPH_ADVANCE: i64 = 7;
const BACKGROUND: [u8; 3] = [255, 255, 255];
const TEXT_COLOUR: [u8; 3] = [0, 0, 0];

/// An RGB image being drawn on.
pub struct Raster {
    width: i64,
    height: i64,
    pixels: Vec<[u8; 3]>,
}

impl Raster {
    pub fn new(width: f64, height: f64) -> Raster {
        let (width, height) = (width.round() as i64, height.round() as i64);
        Raster {
            width,
            height,
            pixels: vec![BACKGROUND; (width * height) as usize],
        }
    }

    /// The image as a PNG file's bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().expect("writing to memory");
            let data: Vec<u8> = self.pixels.iter().flatten().copied().collect();
            writer
                .write_image_data(&data)
                .expect("the data is exactly one image");
        }
        out
    }

    /// Blends `colour` into the pixel at (x, y) with `alpha`; outside the image, nothing.
    fn blend(&mut self, x: i64, y: i64, colour: [u8; 3], alpha: f64) {
        if x < 0 || y < 0 || x >= self.width || y >= self.height {
            return;
        }
        let pixel = &mut self.pixels[(y * self.width + x) as usize];
        for (channel, value) in pixel.iter_mut().zip(colour) {
            let mixed = f64::from(*channel) * (1.0 - alpha) + f64::from(value) * alpha;
            *channel = mixed.round().clamp(0.0, 255.0) as u8;
        }
    }

    /// The pixels of a line from `from` to `to`, one per step along its longer side.
    fn line_pixels(from: (f64, f64), to: (f64, f64), out: &mut Vec<(i64, i64)>) {
        let steps = (to.0 - from.0)
            .abs()
            .max((to.1 - from.1).abs())
            .ceil()
            .max(1.0);
        let steps_count = steps as i64;
        for step in 0..=steps_count {
            let t = step as f64 / steps;
            let x = from.0 + (to.0 - from.0) * t;
            let y = from.1 + (to.1 - from.1) * t;
            out.push((x.round() as i64, y.round() as i64));
        }
    }

    /// Draws `content` with its baseline at `baseline_y`, starting at `left`; `upwards` turns
    /// it to read bottom to top (then `left` is the x of the baseline and `baseline_y` where
    /// the text starts).
    fn glyphs(&mut self, left: i64, baseline_y: i64, content: &str, upwards: bool) {
        for (index, character) in content.chars().enumerate() {
            let glyph = BASIC_FONTS
                .get(character)
                .or_else(|| LATIN_FONTS.get(character))
                .or_else(|| BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            let advance = index as i64 * GLYPH_ADVANCE;
            for (row, bits) in glyph.iter().enumerate() {
                for column in 0..8 {
                    if bits & (1 << column) == 0 {
                        continue;
                    }
                    // Text space: u along the text, v down (the baseline at the cell's bottom).
                    let u = advance + column;
                    let v = row as i64 - (GLYPH_PIXELS - 1);
                    let (x, y) = if upwards {
                        (left + v, baseline_y - u)
                    } else {
                        (left + u, baseline_y + v)
                    };
                    self.blend(x, y, TEXT_COLOUR, 1.0);
                }
            }
        }
    }
}

/// `#rrggbb`, `white` or `black`; `none` (and anything else) draws nothing.
fn parse_colour(colour: &str) -> Option<[u8; 3]> {
    match colour {
        "white" => Some([255, 255, 255]),
        "black" => Some([0, 0, 0]),
        hex if hex.len() == 7 && hex.starts_with('#') => {
            let channel = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
            Some([channel(1)?, channel(3)?, channel(5)?])
        }
        _ => None,
    }
}

/// Where text of `characters` glyphs starts for an SVG `text-anchor`.
fn anchored(x: f64, anchor: &str, characters: usize) -> i64 {
    let width = characters as i64 * GLYPH_ADVANCE;
    let x = x.round() as i64;
    match anchor {
        "middle" => x - width / 2,
        "end" => x - width,
        _ => x,
    }
}

impl Canvas for Raster {
    fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str) {
        let Some(colour) = parse_colour(stroke) else {
            return;
        };
        let mut pixels = Vec::new();
        Raster::line_pixels(from, to, &mut pixels);
        for (x, y) in pixels {
            self.blend(x, y, colour, 1.0);
        }
    }

    fn rect(&mut self, at: (f64, f64), size: (f64, f64), fill: &str, stroke: &str) {
        if let Some(colour) = parse_colour(fill) {
            let (x0, y0) = (at.0.round() as i64, at.1.round() as i64);
            let (x1, y1) = (
                (at.0 + size.0).round() as i64,
                (at.1 + size.1).round() as i64,
            );
            for y in y0..y1.max(y0 + 1) {
                for x in x0..x1.max(x0 + 1) {
                    self.blend(x, y, colour, 1.0);
                }
            }
        }
        let (right, bottom) = (at.0 + size.0, at.1 + size.1);
        for (from, to) in [
            (at, (right, at.1)),
            ((right, at.1), (right, bottom)),
            ((right, bottom), (at.0, bottom)),
            ((at.0, bottom), at),
        ] {
            self.line(from, to, stroke);
        }
    }

    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, opacity: f64) {
        let Some(colour) = parse_colour(stroke) else {
            return;
        };
        // Every pixel once, however many segments cross it, so the opacity stays even; two
        // pixels thick, as the SVG's 1.5.
        let mut pixels = Vec::new();
        for pair in points.windows(2) {
            Raster::line_pixels(pair[0], pair[1], &mut pixels);
        }
        let thick: Vec<(i64, i64)> = pixels.iter().map(|&(x, y)| (x, y + 1)).collect();
        pixels.extend(thick);
        pixels.sort_unstable();
        pixels.dedup();
        for (x, y) in pixels {
            self.blend(x, y, colour, opacity.clamp(0.0, 1.0));
        }
    }

    fn text(&mut self, at: (f64, f64), anchor: &str, content: &str) {
        let left = anchored(at.0, anchor, content.chars().count());
        self.glyphs(left, at.1.round() as i64, content, false);
    }

    fn text_vertical(&mut self, at: (f64, f64), content: &str) {
        // Centred on `at` along the text, which reads upwards.
        let length = content.chars().count() as i64 * GLYPH_ADVANCE;
        let start_y = at.1.round() as i64 + length / 2;
        self.glyphs(at.0.round() as i64, start_y, content, true);
    }

    fn title(&mut self, at: (f64, f64), content: &str) {
        let left = anchored(at.0, "start", content.chars().count());
        // Struck twice, a pixel apart: bold.
        self.glyphs(left, at.1.round() as i64, content, false);
        self.glyphs(left + 1, at.1.round() as i64, content, false);
    }
}
