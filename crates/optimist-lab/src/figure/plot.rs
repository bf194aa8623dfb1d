//! What the overlay, loss and sensitivity figures share: a figure drawn whole as PNG or
//! SVG, axes on linear or log scales, a legend, and line charts.

use super::layout::{nice_ticks, short_number, tick_label, Panel, Rect};
use super::render::{
    clip_polyline, downsample, draw_title, ellipsize, register_fonts, thin, Canvas, Label, ASCENT,
    EM_PER_SIZE, FRAME, INK, MUTED, SUPERSAMPLE, TICK_LENGTH, TICK_SIZE, WHITE,
};
use super::{series_rgb, FigureError, Format};
use crate::landscape::Window;
use crate::race::Run;
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::HPos;
use plotters::style::{Color, FontStyle, RGBColor};

/// Space around the figure's edges, in pixels.
pub(super) const OUTER: u32 = 10;
/// Height of the band above the plot naming the landscape.
pub(super) const HEADER: u32 = 44;
/// Width of the legend right of the plot.
pub(super) const LEGEND_WIDTH: u32 = 270;
/// Gap between the plot and the legend.
pub(super) const LEGEND_GAP: u32 = 34;
/// Height of one legend entry: a name line and a detail line.
pub(super) const ENTRY: u32 = 46;

const NAME_SIZE: f64 = 15.5;
const DETAIL_SIZE: f64 = 13.0;
const GRID: RGBColor = RGBColor(228, 228, 228);

/// A figure that draws itself on a white canvas of its size.
pub(super) trait Drawing {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws everything.
    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError>;
}

fn draw_failed(e: impl std::fmt::Display) -> FigureError {
    FigureError::Draw(e.to_string())
}

/// `drawing` encoded as `format`: a PNG drawn at twice its size and averaged down
/// (anti-aliasing), or an SVG drawn directly.
pub(super) fn encode(drawing: &impl Drawing, format: Format) -> Result<Vec<u8>, FigureError> {
    register_fonts()?;
    let (w, h) = drawing.size();
    match format {
        Format::Png => {
            let s = SUPERSAMPLE;
            let mut buffer = vec![255u8; (w * s) as usize * (h * s) as usize * 3];
            {
                let mut backend = BitMapBackend::with_buffer(&mut buffer, (w * s, h * s));
                let mut canvas = Canvas {
                    db: &mut backend,
                    scale: s as f64,
                    origin_x: 0.0,
                    origin_y: 0.0,
                    vector: false,
                };
                drawing.draw(&mut canvas)?;
                backend.present().map_err(draw_failed)?;
            }
            let mut image = vec![255u8; w as usize * h as usize * 3];
            downsample(&buffer, (w * s) as usize, &mut image, w as usize * 3);
            encode_rgb(&image, w, h)
        }
        Format::Svg => {
            let mut text = String::new();
            {
                let mut backend = SVGBackend::with_string(&mut text, (w, h));
                let mut canvas = Canvas {
                    db: &mut backend,
                    scale: 1.0,
                    origin_x: 0.0,
                    origin_y: 0.0,
                    vector: true,
                };
                canvas.fill_rect((0.0, 0.0, w as f64, h as f64), WHITE.to_rgba())?;
                drawing.draw(&mut canvas)?;
                backend.present().map_err(draw_failed)?;
            }
            Ok(text.into_bytes())
        }
    }
}

/// An RGB image as PNG bytes.
fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, FigureError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Mostly flat colour: the fast compressor is ~10× quicker for a few % more bytes.
    encoder.set_compression(png::Compression::Fast);
    let fail = |e: png::EncodingError| FigureError::Encode(e.to_string());
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(bytes)
}

/// The colour of series `index`, as plotters wants it.
pub(super) fn series_colour(index: usize) -> RGBColor {
    let [r, g, b] = series_rgb(index);
    RGBColor(r, g, b)
}

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scale {
    /// Evenly.
    Linear,
    /// By their logarithm: each power of ten the same length.
    Log,
}

/// An axis: its scale and the range it shows, in scale units (log₁₀ of the value on a
/// log scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Axis {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
}

impl Axis {
    /// `value` in scale units; on a log scale, values that are not positive sit at the
    /// axis's low end.
    pub fn unit(&self, value: f64) -> f64 {
        match self.scale {
            Scale::Linear => value,
            Scale::Log if value > 0.0 => value.log10(),
            Scale::Log if value.is_nan() => f64::NAN,
            Scale::Log => self.lo,
        }
    }

    /// The axis that shows every finite value of `values` (positive ones on a log
    /// scale), with a margin of 4% each side; ±1 around a single value.
    pub fn fit(scale: Scale, values: impl Iterator<Item = f64>) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let u = match scale {
                Scale::Linear => v,
                Scale::Log if v > 0.0 => v.log10(),
                Scale::Log => f64::NAN,
            };
            if u.is_finite() {
                lo = lo.min(u);
                hi = hi.max(u);
            }
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        // Not much spread: a range around the value, so the line is not flat on an edge.
        let spread = hi - lo;
        if spread <= 1e-9 * lo.abs().max(hi.abs()).max(1e-300) {
            let half = match scale {
                Scale::Log => 0.5,
                Scale::Linear => lo.abs().max(1.0) * 0.5,
            };
            return Axis {
                scale,
                lo: lo - half,
                hi: hi + half,
            };
        }
        let pad = 0.04 * spread;
        Axis {
            scale,
            lo: lo - pad,
            hi: hi + pad,
        }
    }

    /// Tick positions (in scale units) with their labels, about `max_count` of them: on a
    /// log scale, powers of ten (every second or third when there are many), or 1, 2, 5
    /// times them over a narrow range.
    pub fn ticks(&self, max_count: usize) -> Vec<(f64, String)> {
        match self.scale {
            Scale::Linear => {
                let (ticks, step) = nice_ticks(self.lo, self.hi, max_count);
                ticks.iter().map(|&t| (t, tick_label(t, step))).collect()
            }
            Scale::Log => {
                let (first, last) = (self.lo.ceil() as i64, self.hi.floor() as i64);
                let decades = last - first + 1;
                if decades >= 2 {
                    let every = (decades as usize).div_ceil(max_count.max(2)).max(1) as i64;
                    // Multiples of `every`, so that 10⁰ is a tick whenever it is in range.
                    let start = first + (every - first.rem_euclid(every)) % every;
                    (start..=last)
                        .step_by(every as usize)
                        .map(|k| (k as f64, power_of_ten(k)))
                        .collect()
                } else {
                    let values: Vec<f64> = (first - 1..=last + 1)
                        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k as i32)))
                        .filter(|v| (self.lo..=self.hi).contains(&v.log10()))
                        .collect();
                    if values.len() >= 2 {
                        values
                            .iter()
                            .map(|&v| (v.log10(), short_number(v)))
                            .collect()
                    } else {
                        let (lo, hi) = (10f64.powf(self.lo), 10f64.powf(self.hi));
                        let (ticks, step) = nice_ticks(lo, hi, max_count);
                        ticks
                            .iter()
                            .filter(|&&t| t > 0.0)
                            .map(|&t| (t.log10(), tick_label(t, step)))
                            .collect()
                    }
                }
            }
        }
    }
}

/// 10ᵏ as a label: `1`, `10`, `10²`, `10⁻³`.
pub(super) fn power_of_ten(k: i64) -> String {
    match k {
        0 => "1".into(),
        1 => "10".into(),
        _ => {
            const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
            let sign = if k < 0 { "⁻" } else { "" };
            let digits: String = k
                .unsigned_abs()
                .to_string()
                .chars()
                .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
                .collect();
            format!("10{sign}{digits}")
        }
    }
}

/// One entry of a legend: a colour, a name and a line of detail.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub name: String,
    pub detail: String,
    pub colour: RGBColor,
    /// The detail line's colour: muted, or the divergence colour.
    pub detail_colour: RGBColor,
}

/// A run's legend entry: its name, then its learning rate and how it ended.
pub(super) fn run_entry(run: &Run, index: usize) -> Entry {
    let lr = run
        .hyperparameters
        .iter()
        .find(|(k, _)| k == "lr" || k == "learning_rate")
        .map(|(k, v)| format!("{k}={v}, "))
        .unwrap_or_default();
    let (detail, detail_colour) = match (run.diverged_at, run.points.last()) {
        (Some(k), _) => (format!("{lr}diverged at step {k}"), super::render::DIVERGED),
        (None, None) => (format!("{lr}no step"), MUTED),
        (None, Some(&last)) => {
            let steps = if last.step == 1 { "step" } else { "steps" };
            (
                format!(
                    "{lr}f = {} after {} {steps}",
                    short_number(last.loss),
                    last.step
                ),
                MUTED,
            )
        }
    };
    Entry {
        name: run.label.clone(),
        detail,
        colour: series_colour(index),
        detail_colour,
    }
}

/// Draws `entries` from (`left`, `top`) down, each within `width`.
pub(super) fn draw_legend<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    entries: &[Entry],
    left: f64,
    top: f64,
    width: f64,
) -> Result<(), FigureError> {
    for (i, e) in entries.iter().enumerate() {
        let y = top + (i as u32 * ENTRY) as f64;
        let mid = y + 9.0;
        canvas.polyline(&[(left, mid), (left + 24.0, mid)], e.colour.to_rgba(), 2.5)?;
        canvas.disc((left + 12.0, mid), 3.5, e.colour.to_rgba())?;
        let text_left = left + 34.0;
        let room = width - 34.0;
        canvas.text(&Label {
            text: ellipsize(&e.name, NAME_SIZE, FontStyle::Bold, room)?,
            x: text_left,
            baseline: y + 15.0,
            size: NAME_SIZE,
            style: FontStyle::Bold,
            colour: INK,
            align: HPos::Left,
        })?;
        canvas.text(&Label {
            text: ellipsize(&e.detail, DETAIL_SIZE, FontStyle::Normal, room)?,
            x: text_left,
            baseline: y + 33.0,
            size: DETAIL_SIZE,
            style: FontStyle::Normal,
            colour: e.detail_colour,
            align: HPos::Left,
        })?;
    }
    Ok(())
}

/// The frame of `panel`'s plotting area, outward ticks at the given positions (pixel
/// columns along x, rows along y) and their labels.
pub(super) fn draw_axes<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    plot: Rect,
    x_ticks: &[(f64, String)],
    y_ticks: &[(f64, String)],
) -> Result<(), FigureError> {
    let (l, t, r, b) = (
        plot.x as f64,
        plot.y as f64,
        plot.right() as f64,
        plot.bottom() as f64,
    );
    canvas.polyline(
        &[
            (l, t),
            (r - 0.5, t),
            (r - 0.5, b - 0.5),
            (l, b - 0.5),
            (l, t),
        ],
        FRAME.to_rgba(),
        1.0,
    )?;
    let em = TICK_SIZE * EM_PER_SIZE;
    for (px, text) in x_ticks {
        let x = px.min(r - 0.5);
        canvas.polyline(&[(x, b), (x, b + TICK_LENGTH)], FRAME.to_rgba(), 1.0)?;
        canvas.text(&Label {
            text: text.clone(),
            x: *px,
            baseline: b + TICK_LENGTH + 4.0 + ASCENT * em,
            size: TICK_SIZE,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Center,
        })?;
    }
    for (py, text) in y_ticks {
        let y = py.min(b - 0.5);
        canvas.polyline(&[(l - TICK_LENGTH, y), (l, y)], FRAME.to_rgba(), 1.0)?;
        canvas.text(&Label {
            text: text.clone(),
            x: l - TICK_LENGTH - 4.0,
            baseline: py + 0.365 * em,
            size: TICK_SIZE,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Right,
        })?;
    }
    Ok(())
}

/// Covers everything outside `plot` within `area` with white: markers and line ends
/// that reached past the plotting area.
pub(super) fn cover_outside<DB: DrawingBackend>(
    canvas: &mut Canvas<DB>,
    plot: Rect,
    area: Rect,
) -> Result<(), FigureError> {
    let (l, t, r, b) = (
        plot.x as f64,
        plot.y as f64,
        plot.right() as f64,
        plot.bottom() as f64,
    );
    let (al, at, ar, ab) = (
        area.x as f64,
        area.y as f64,
        area.right() as f64,
        area.bottom() as f64,
    );
    for rect in [
        (al, at, ar, t),
        (al, b, ar, ab),
        (al, t, l, b),
        (r, t, ar, b),
    ] {
        canvas.fill_rect(rect, WHITE.to_rgba())?;
    }
    Ok(())
}

/// A line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Series {
    /// Its legend entry.
    pub entry: Entry,
    /// Data points in order; a NaN coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
    /// A dot at every point.
    pub dots: bool,
    /// A large marker: the point that matters most (e.g. the best rate).
    pub best: Option<(f64, f64)>,
    /// A cross: where the line stopped because the run diverged.
    pub cross: Option<(f64, f64)>,
}

/// A line chart: one line per series on shared axes, a legend at the right.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Chart {
    /// The header's bold part.
    pub title: String,
    /// The header's muted part.
    pub subtitle: String,
    /// Below the x axis.
    pub x_title: String,
    /// Above the y axis.
    pub y_title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
}

/// Where a chart's parts go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ChartLayout {
    pub width: u32,
    pub height: u32,
    /// The plotting area, mapping the axes' ranges (in scale units).
    pub panel: Panel,
    /// Top left of the legend.
    pub legend: (f64, f64),
}

/// Room left of the plot for tick labels.
const CHART_LEFT: u32 = 80;
/// Room between the header and the plot, for the y axis title.
const CHART_TOP: u32 = 30;
/// Room below the plot for tick labels and the x axis title.
const CHART_BOTTOM: u32 = 60;
const CHART_WIDTH: u32 = 620;
const CHART_HEIGHT: u32 = 420;

/// A figure of `plot` (with `bottom` pixels below it) and a legend of `entries` to its
/// right: the legend's left edge, and the figure's width and height.
pub(super) fn beside_legend(plot: Rect, entries: usize, bottom: u32) -> (u32, u32, u32) {
    let legend_x = plot.right() as u32 + LEGEND_GAP;
    let width = legend_x + LEGEND_WIDTH + OUTER;
    let legend_bottom = plot.y as u32 + entries as u32 * ENTRY;
    let height = (plot.bottom() as u32 + bottom).max(legend_bottom) + OUTER;
    (legend_x, width, height)
}

impl Chart {
    /// The geometry: the plot, then the legend, as tall as its entries need.
    pub fn layout(&self) -> ChartLayout {
        let plot = Rect {
            x: (OUTER + CHART_LEFT) as i32,
            y: (HEADER + CHART_TOP) as i32,
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
        };
        let (legend_x, width, height) = beside_legend(plot, self.series.len(), CHART_BOTTOM);
        ChartLayout {
            width,
            height,
            panel: Panel {
                cell: Rect {
                    x: 0,
                    y: HEADER as i32,
                    width,
                    height: height - HEADER,
                },
                plot,
                window: Window {
                    x_min: self.x.lo,
                    x_max: self.x.hi,
                    y_min: self.y.lo,
                    y_max: self.y.hi,
                },
            },
            legend: (legend_x as f64, plot.y as f64),
        }
    }

    /// A data point in figure pixels.
    pub fn to_pixel(&self, layout: &ChartLayout, (x, y): (f64, f64)) -> (f64, f64) {
        layout.panel.to_pixel(self.x.unit(x), self.y.unit(y))
    }
}

impl Drawing for Chart {
    fn size(&self) -> (u32, u32) {
        let l = self.layout();
        (l.width, l.height)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError> {
        let layout = self.layout();
        let panel = layout.panel;
        let plot = panel.plot;
        let x_ticks: Vec<(f64, String)> = self
            .x
            .ticks(8)
            .into_iter()
            .map(|(u, s)| (panel.to_pixel(u, panel.window.y_min).0, s))
            .collect();
        let y_ticks: Vec<(f64, String)> = self
            .y
            .ticks(7)
            .into_iter()
            .map(|(u, s)| (panel.to_pixel(panel.window.x_min, u).1, s))
            .collect();
        for (px, _) in &x_ticks {
            canvas.polyline(
                &[(*px, plot.y as f64), (*px, plot.bottom() as f64)],
                GRID.to_rgba(),
                1.0,
            )?;
        }
        for (py, _) in &y_ticks {
            canvas.polyline(
                &[(plot.x as f64, *py), (plot.right() as f64, *py)],
                GRID.to_rgba(),
                1.0,
            )?;
        }
        for s in &self.series {
            let colour = s.entry.colour.to_rgba();
            let units: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|&(x, y)| (self.x.unit(x), self.y.unit(y)))
                .collect();
            for stretch in units.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
                for piece in clip_polyline(stretch, &panel.window) {
                    let pixels = thin(piece.iter().map(|&(x, y)| panel.to_pixel(x, y)), 0.5);
                    canvas.polyline(&pixels, colour, 2.0)?;
                }
            }
            if s.dots {
                for &(x, y) in &units {
                    if panel.window.contains(x, y) {
                        canvas.disc(panel.to_pixel(x, y), 2.5, colour)?;
                    }
                }
            }
            if let Some(p) = s.cross {
                let (cx, cy) = self.to_pixel(&layout, p);
                let arm = 5.0;
                for (a, b) in [
                    ((cx - arm, cy - arm), (cx + arm, cy + arm)),
                    ((cx - arm, cy + arm), (cx + arm, cy - arm)),
                ] {
                    canvas.polyline(&[a, b], colour, 2.0)?;
                }
            }
            if let Some(p) = s.best {
                let c = self.to_pixel(&layout, p);
                canvas.disc(c, 6.5, WHITE.to_rgba())?;
                canvas.disc(c, 5.0, colour)?;
            }
        }
        let area = Rect {
            x: 0,
            y: HEADER as i32,
            width: layout.legend.0 as u32 - 4,
            height: layout.height - HEADER,
        };
        cover_outside(canvas, plot, area)?;
        draw_axes(canvas, plot, &x_ticks, &y_ticks)?;
        let axis_em = TICK_SIZE * EM_PER_SIZE;
        canvas.text(&Label {
            text: self.x_title.clone(),
            x: (plot.x + plot.right()) as f64 / 2.0,
            baseline: plot.bottom() as f64 + TICK_LENGTH + 4.0 + ASCENT * axis_em + 26.0,
            size: TICK_SIZE + 1.0,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Center,
        })?;
        canvas.text(&Label {
            text: ellipsize(
                &self.y_title,
                TICK_SIZE + 1.0,
                FontStyle::Normal,
                plot.width as f64,
            )?,
            x: (OUTER + 8) as f64,
            baseline: plot.y as f64 - 12.0,
            size: TICK_SIZE + 1.0,
            style: FontStyle::Normal,
            colour: INK,
            align: HPos::Left,
        })?;
        let entries: Vec<Entry> = self.series.iter().map(|s| s.entry.clone()).collect();
        draw_legend(
            canvas,
            &entries,
            layout.legend.0,
            layout.legend.1,
            LEGEND_WIDTH as f64,
        )?;
        draw_title(
            canvas,
            &self.title,
            &self.subtitle,
            (OUTER + 8) as f64,
            (layout.width - OUTER) as f64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_fit_and_tick_at_powers_of_ten() {
        let a = Axis::fit(Scale::Log, [1e-6, 0.0, 3.0, f64::NAN, 100.0].into_iter());
        assert!((a.lo - (-6.0 - 0.32)).abs() < 1e-12 && (a.hi - (2.0 + 0.32)).abs() < 1e-12);
        assert_eq!(a.unit(0.0), a.lo, "0 sits at the bottom of a log axis");
        assert_eq!(a.unit(1000.0), 3.0);
        let ticks = a.ticks(10);
        let labels: Vec<&str> = ticks.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            labels,
            [
                "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1", "10", "10²"
            ]
        );
        assert_eq!(ticks[0].0, -6.0);
        // 17 decades for at most 8 ticks: every third power, keeping 1.
        let wide = Axis {
            scale: Scale::Log,
            lo: -12.3,
            hi: 4.1,
        };
        let labels: Vec<String> = wide.ticks(8).into_iter().map(|(_, s)| s).collect();
        assert_eq!(labels, ["10⁻¹²", "10⁻⁹", "10⁻⁶", "10⁻³", "1", "10³"]);
        // Less than a decade: 1, 2, 5 times powers of ten.
        let narrow = Axis {
            scale: Scale::Log,
            lo: 0.1,
            hi: 0.9,
        };
        let labels: Vec<String> = narrow.ticks(8).into_iter().map(|(_, s)| s).collect();
        assert_eq!(labels, ["2", "5"]);
        let linear = Axis::fit(Scale::Linear, [0.0, 30.0].into_iter());
        assert_eq!(linear.ticks(7).first().unwrap().1, "0");
        // A single value gets a range around it.
        let flat = Axis::fit(Scale::Log, [5.0, 5.0].into_iter());
        assert!(flat.lo < 5f64.log10() && flat.hi > 5f64.log10());
        assert_eq!(power_of_ten(-10), "10⁻¹⁰");
    }

    #[test]
    fn a_chart_lays_out_its_legend_beside_the_plot() {
        let series = |n: usize| Series {
            entry: Entry {
                name: format!("s{n}"),
                detail: String::new(),
                colour: series_colour(n),
                detail_colour: MUTED,
            },
            points: vec![(0.0, 1.0), (1.0, 2.0)],
            dots: false,
            best: None,
            cross: None,
        };
        let mut chart = Chart {
            title: "t".into(),
            subtitle: String::new(),
            x_title: "x".into(),
            y_title: "y".into(),
            x: Axis::fit(Scale::Linear, [0.0, 1.0].into_iter()),
            y: Axis::fit(Scale::Linear, [1.0, 2.0].into_iter()),
            series: (0..3).map(series).collect(),
        };
        let small = chart.layout();
        assert!(small.legend.0 > small.panel.plot.right() as f64);
        assert_eq!(
            small.height,
            small.panel.plot.bottom() as u32 + CHART_BOTTOM + OUTER
        );
        chart.series = (0..20).map(series).collect();
        let tall = chart.layout();
        assert_eq!(tall.height, small.panel.plot.y as u32 + 20 * ENTRY + OUTER);
        let (px, py) = chart.to_pixel(&tall, (0.0, 2.0));
        let plot = tall.panel.plot;
        assert!(px > plot.x as f64 && px < plot.x as f64 + 0.05 * plot.width as f64);
        assert!(py > plot.y as f64 && py < plot.y as f64 + 0.05 * plot.height as f64);
    }
}
