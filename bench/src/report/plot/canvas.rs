//! The few SVG primitives the plot needs, written as text, and the axis scales.
//!
//! Every piece of text goes through [`escape`], so a hostname or workload name with `<`, `&`
//! or a control character cannot break the document.

/// What the plot draws with: the SVG document, or the raster of `--plot FILE.png`
/// ([`super::raster::Raster`]). Coordinates are pixels from the top left; colours are
/// `#rrggbb`, `white` or `none`.
pub trait Canvas {
    fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str);
    fn rect(&mut self, at: (f64, f64), size: (f64, f64), fill: &str, stroke: &str);
    /// A polyline through `points`; `opacity` below 1 lets overlapping repetitions show.
    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, opacity: f64);
    /// `content` with its baseline at `at`; `anchor` is SVG's `text-anchor` (`start`,
    /// `middle`, `end`).
    fn text(&mut self, at: (f64, f64), anchor: &str, content: &str);
    /// Like [`Canvas::text`] centred on `at`, turned to read upwards (the y axis label).
    fn text_vertical(&mut self, at: (f64, f64), content: &str);
    fn title(&mut self, at: (f64, f64), content: &str);
}

impl Canvas for Svg {
    fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str) {
        Svg::line(self, from, to, stroke)
    }
    fn rect(&mut self, at: (f64, f64), size: (f64, f64), fill: &str, stroke: &str) {
        Svg::rect(self, at, size, fill, stroke)
    }
    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, opacity: f64) {
        Svg::polyline(self, points, stroke, opacity)
    }
    fn text(&mut self, at: (f64, f64), anchor: &str, content: &str) {
        Svg::text(self, at, anchor, content)
    }
    fn text_vertical(&mut self, at: (f64, f64), content: &str) {
        Svg::text_vertical(self, at, content)
    }
    fn title(&mut self, at: (f64, f64), content: &str) {
        Svg::title(self, at, content)
    }
}

/// Text accumulated into one SVG document.
pub struct Svg {
    text: String,
}

/// Decimal places of coordinates: a tenth of a pixel is finer than any screen shows.
const COORDINATE_DECIMALS: usize = 1;

impl Svg {
    pub fn new(width: f64, height: f64) -> Svg {
        Svg {
            text: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
                 viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
                 <rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n"
            ),
        }
    }

    pub fn finish(mut self) -> String {
        self.text += "</svg>\n";
        self.text
    }

    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str) {
        self.text += &format!(
            "<line x1=\"{:.d$}\" y1=\"{:.d$}\" x2=\"{:.d$}\" y2=\"{:.d$}\" stroke=\"{stroke}\"/>\n",
            from.0,
            from.1,
            to.0,
            to.1,
            d = COORDINATE_DECIMALS
        );
    }

    pub fn rect(&mut self, at: (f64, f64), size: (f64, f64), fill: &str, stroke: &str) {
        self.text += &format!(
            "<rect x=\"{:.d$}\" y=\"{:.d$}\" width=\"{:.d$}\" height=\"{:.d$}\" fill=\"{fill}\" \
             stroke=\"{stroke}\"/>\n",
            at.0,
            at.1,
            size.0,
            size.1,
            d = COORDINATE_DECIMALS
        );
    }

    /// A polyline through `points`; `opacity` below 1 lets overlapping repetitions show.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, opacity: f64) {
        let coordinates: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.d$},{y:.d$}", d = COORDINATE_DECIMALS))
            .collect();
        self.text += &format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"1.5\" \
             stroke-opacity=\"{opacity}\"/>\n",
            coordinates.join(" ")
        );
    }

    /// `content` at `at`; `anchor` is SVG's `text-anchor` (`start`, `middle`, `end`).
    pub fn text(&mut self, at: (f64, f64), anchor: &str, content: &str) {
        self.text += &format!(
            "<text x=\"{:.d$}\" y=\"{:.d$}\" text-anchor=\"{anchor}\">{}</text>\n",
            at.0,
            at.1,
            escape(content),
            d = COORDINATE_DECIMALS
        );
    }

    /// Like [`Svg::text`], turned to read upwards (the y axis label).
    pub fn text_vertical(&mut self, at: (f64, f64), content: &str) {
        self.text += &format!(
            "<text x=\"{x:.d$}\" y=\"{y:.d$}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 {x:.d$} {y:.d$})\">{}</text>\n",
            escape(content),
            x = at.0,
            y = at.1,
            d = COORDINATE_DECIMALS
        );
    }

    pub fn title(&mut self, at: (f64, f64), content: &str) {
        self.text += &format!(
            "<text x=\"{:.d$}\" y=\"{:.d$}\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
            at.0,
            at.1,
            escape(content),
            d = COORDINATE_DECIMALS
        );
    }
}

/// `text` as XML character data or attribute value: markup characters become entities, and
/// control characters XML 1.0 forbids become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped += "&amp;",
            '<' => escaped += "&lt;",
            '>' => escaped += "&gt;",
            '"' => escaped += "&quot;",
            '\'' => escaped += "&apos;",
            '\t' | '\n' | '\r' => escaped.push(character),
            control if (control as u32) < 0x20 => escaped.push('\u{FFFD}'),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Maps data values in `[low, high]` onto pixels `[pixel_low, pixel_high]`, linearly or by
/// decades.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub low: f64,
    pub high: f64,
    pub pixel_low: f64,
    pub pixel_high: f64,
    pub logarithmic: bool,
}

impl Scale {
    /// The pixel of `value`, clamped to the scale's range so that an outlier stays on the panel.
    pub fn at(&self, value: f64) -> f64 {
        let value = value.clamp(self.low, self.high);
        let fraction = if self.logarithmic {
            (value.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (value - self.low) / (self.high - self.low)
        };
        self.pixel_low + fraction * (self.pixel_high - self.pixel_low)
    }
}

/// Roughly this many ticks on a linear axis.
const LINEAR_TICKS_WANTED: f64 = 5.0;

/// A "nice" upper bound and tick step (1, 2 or 5 times a power of ten) for values in
/// `[0, high]`.
pub fn linear_ticks(high: f64) -> (f64, f64) {
    let high = if high > 0.0 && high.is_finite() {
        high
    } else {
        1.0
    };
    let rough = high / LINEAR_TICKS_WANTED;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power);
    ((high / step).ceil() * step, step)
}

/// The decades that enclose `[low, high]` (both positive), at least one decade wide.
pub fn decade_range(low: f64, high: f64) -> (f64, f64) {
    let low = 10f64.powf(low.max(f64::MIN_POSITIVE).log10().floor());
    let high = 10f64.powf(high.max(low).log10().ceil());
    if high > low {
        (low, high)
    } else {
        (low, low * 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_or_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }

    #[test]
    fn scales_map_linearly_and_by_decades_and_clamp_outliers() {
        let log = Scale {
            low: 1.0,
            high: 1000.0,
            pixel_low: 0.0,
            pixel_high: 300.0,
            logarithmic: true,
        };
        assert!((log.at(10.0) - 100.0).abs() < 1e-9);
        assert_eq!(log.at(1e9), 300.0);
        let (high, step) = linear_ticks(87.0);
        assert_eq!((high, step), (100.0, 20.0));
        assert_eq!(decade_range(150.0, 150.0), (100.0, 1000.0));
        assert_eq!(decade_range(3.0, 2e4), (1.0, 1e5));
    }
}
