//! The book's figure of the network experiment: each optimizer's training loss per
//! iteration, the raw losses faint and the smoothed ones bold with a marker every 100
//! iterations, loss from 0 to 1.

use super::run::TrainResult;
use plotters::coord::Shift;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

/// Figure size in pixels.
const SIZE: (u32, u32) = (1000, 650);

/// matplotlib's first colours, as in the book's figure.
const COLORS: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// One optimizer's curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The legend entry.
    pub label: String,
    /// Loss per iteration.
    pub raw: Vec<f64>,
    /// Smoothed loss per iteration.
    pub smoothed: Vec<f64>,
}

/// The loss figure, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct LossFigure {
    /// The title.
    pub title: String,
    /// One curve per optimizer.
    pub curves: Vec<Curve>,
}

impl LossFigure {
    /// The figure of a run, each legend entry with the optimizer's accuracy.
    pub fn new(result: &TrainResult) -> Self {
        let widths: Vec<String> = result.sizes.iter().map(|s| s.to_string()).collect();
        LossFigure {
            title: format!(
                "MNIST, {} network, batch {}: training loss",
                widths.join("-"),
                result.config.batch_size
            ),
            curves: result
                .runs
                .iter()
                .map(|r| Curve {
                    label: format!(
                        "{}  ({} accuracy {:.2}%)",
                        r.spec,
                        result.eval_set.name(),
                        100.0 * r.accuracy
                    ),
                    raw: r.losses.iter().map(|&l| f64::from(l)).collect(),
                    smoothed: r.smoothed(),
                })
                .collect(),
        }
    }

    /// The figure as a PNG file's bytes: drawn at twice its size and averaged down, like
    /// the other figures (plotters places small glyphs a pixel or two off their
    /// baseline, a dot mid-height, and draws lines without anti-aliasing).
    pub fn png(&self) -> Result<Vec<u8>, String> {
        let (w, h) = SIZE;
        let big = (2 * w, 2 * h);
        let mut rgb = vec![0u8; big.0 as usize * big.1 as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, big).into_drawing_area();
            self.draw(&root, 2)?;
            root.present().map_err(|e| e.to_string())?;
        }
        let mut small = vec![0u8; w as usize * h as usize * 3];
        crate::figure::draw::raster::downsample(&rgb, big.0 as usize, &mut small, w as usize * 3);
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&small).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// The figure as SVG text.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            // Drawing into a string cannot fail but for a bug in plotters.
            self.draw(&root, 1).expect("drawing SVG into memory");
            root.present().expect("finishing SVG in memory");
        }
        out
    }

    /// Draws the figure on `root`, `k` backend pixels per figure pixel.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        k: u32,
    ) -> Result<(), String> {
        let px = |x: u32| x * k;
        let font = |size: u32| ("sans-serif", f64::from(px(size)));
        // The figures' embedded DejaVu Sans: plotters draws no text without a font.
        crate::figure::draw::text::register_fonts().map_err(|e| e.to_string())?;
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let n = self.curves.iter().map(|c| c.raw.len()).max().unwrap_or(0);
        let x_max = n.max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(22))
            .margin(px(15))
            .x_label_area_size(px(45))
            .y_label_area_size(px(60))
            .build_cartesian_2d(0.0..x_max, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("iterations")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .y_desc("loss")
            .label_style(font(15))
            .axis_desc_style(font(17))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        // Raw losses first, so that every smoothed curve lies on top of them.
        for (kind, c) in self.curves.iter().enumerate() {
            let faint = COLORS[kind % COLORS.len()].mix(0.18).stroke_width(px(1));
            for line in clip_to_band(&c.raw, 0.0, 1.0) {
                chart
                    .draw_series(std::iter::once(PathElement::new(line, faint)))
                    .map_err(err)?;
            }
        }
        for (kind, c) in self.curves.iter().enumerate() {
            let color = COLORS[kind % COLORS.len()];
            let bold = color.stroke_width(px(2));
            let lines = clip_to_band(&c.smoothed, 0.0, 1.0);
            for line in &lines {
                chart
                    .draw_series(std::iter::once(PathElement::new(line.clone(), bold)))
                    .map_err(err)?;
            }
            let marks: Vec<(f64, f64)> = c
                .smoothed
                .iter()
                .enumerate()
                .step_by(100)
                .filter(|(_, &y)| (0.0..=1.0).contains(&y))
                .map(|(i, &y)| (i as f64, y))
                .collect();
            chart
                .draw_series(marks.iter().map(|&at| Marker { at, kind, color, k }))
                .map_err(err)?
                .label(c.label.clone())
                .legend(move |(x, y)| {
                    let half = 12 * k as i32;
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(-half, 0), (half, 0)], bold)
                        + Marker {
                            at: (0, 0),
                            kind,
                            color,
                            k,
                        }
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// The book's markers in turn: circle, cross, square, diamond.
struct Marker<C> {
    at: C,
    kind: usize,
    color: RGBColor,
    /// Backend pixels per figure pixel.
    k: u32,
}

impl<'a, C> PointCollection<'a, C> for &'a Marker<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Marker<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        let line = self.color.stroke_width(2 * self.k);
        let (r, d) = (5 * self.k as i32, 6 * self.k as i32);
        match self.kind % 4 {
            0 => backend.draw_circle((x, y), r as u32, &line, false),
            1 => {
                backend.draw_line((x - r, y - r), (x + r, y + r), &line)?;
                backend.draw_line((x - r, y + r), (x + r, y - r), &line)
            }
            2 => backend.draw_rect((x - r, y - r), (x + r, y + r), &line, false),
            _ => backend.fill_polygon(
                [(x, y - d), (x + d, y), (x, y + d), (x - d, y)],
                &self.color.filled(),
            ),
        }
    }
}

/// The polylines of `y[i]` against `i` inside `lo ≤ y ≤ hi`: segments leaving the band
/// are cut at its edge, and non-finite values break the line.
pub fn clip_to_band(y: &[f64], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut flush = |current: &mut Vec<(f64, f64)>| {
        if current.len() >= 2 {
            lines.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    if y.len() == 1 && y[0].is_finite() && (lo..=hi).contains(&y[0]) {
        return vec![vec![(0.0, y[0])]];
    }
    for i in 1..y.len() {
        let (x0, y0, x1, y1) = ((i - 1) as f64, y[i - 1], i as f64, y[i]);
        if !(y0.is_finite() && y1.is_finite()) {
            flush(&mut current);
            continue;
        }
        // The part of the segment with lo ≤ y ≤ hi, as parameters t in [t0, t1].
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let dy = y1 - y0;
        if dy == 0.0 {
            if y0 < lo || y0 > hi {
                flush(&mut current);
                continue;
            }
        } else {
            let (ta, tb) = ((lo - y0) / dy, (hi - y0) / dy);
            t0 = t0.max(ta.min(tb));
            t1 = t1.min(ta.max(tb));
            if t0 > t1 {
                flush(&mut current);
                continue;
            }
        }
        let point = |t: f64| {
            let yt = if t == 0.0 {
                y0
            } else if t == 1.0 {
                y1
            } else {
                (y0 + t * dy).clamp(lo, hi)
            };
            (x0 + t * (x1 - x0), yt)
        };
        let (a, b) = (point(t0), point(t1));
        if current.last() != Some(&a) {
            flush(&mut current);
            current.push(a);
        }
        current.push(b);
        if t1 < 1.0 {
            flush(&mut current);
        }
    }
    flush(&mut current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_cuts_at_the_band_and_breaks_at_nan() {
        let y = [0.5, 1.5, 0.5, 0.25, f64::NAN, 0.75, 0.5];
        let lines = clip_to_band(&y, 0.0, 1.0);
        assert_eq!(
            lines,
            vec![
                vec![(0.0, 0.5), (0.5, 1.0)],
                vec![(1.5, 1.0), (2.0, 0.5), (3.0, 0.25)],
                vec![(5.0, 0.75), (6.0, 0.5)],
            ]
        );
        assert!(clip_to_band(&[2.0, 3.0, 4.0], 0.0, 1.0).is_empty());
    }
}
