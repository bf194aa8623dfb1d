//! The bench report's figures: line charts in the shared style, each line optionally
//! with a shaded band (e.g. min–max over seeds) drawn under it.

use super::plot::{encode, series_colour, Axis, Chart, Drawing, Entry, Scale, Series};
use super::render::{Canvas, MUTED};
use super::{FigureError, Format};
use plotters::backend::DrawingBackend;
use plotters::style::{Color, ShapeStyle};

/// A line of a [`BandChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct BandSeries {
    /// Its legend name.
    pub name: String,
    /// Its legend detail line.
    pub detail: String,
    /// Its points in order; a NaN coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
    /// A shaded band under the line: (x, low, high) in order of x (empty for none).
    pub band: Vec<(f64, f64, f64)>,
    /// A dot at every point.
    pub dots: bool,
    /// A large marker at the point that matters most.
    pub best: Option<(f64, f64)>,
}

/// A line chart with bands: the header, axis titles and scales, and its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct BandChart {
    /// The header's bold part.
    pub title: String,
    /// The header's muted part.
    pub subtitle: String,
    /// Below the x axis.
    pub x_title: String,
    /// Above the y axis.
    pub y_title: String,
    /// A log x axis.
    pub log_x: bool,
    /// A log y axis.
    pub log_y: bool,
    /// The lines, in legend order.
    pub series: Vec<BandSeries>,
}

struct Banded {
    chart: Chart,
    bands: Vec<Vec<(f64, f64, f64)>>,
}

impl Drawing for Banded {
    fn size(&self) -> (u32, u32) {
        self.chart.size()
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &mut Canvas<DB>) -> Result<(), FigureError> {
        let layout = self.chart.layout();
        for (i, band) in self.bands.iter().enumerate() {
            if band.len() < 2 {
                continue;
            }
            let upper = band.iter().map(|&(x, _, hi)| (x, hi));
            let lower = band.iter().rev().map(|&(x, lo, _)| (x, lo));
            let pixels: Vec<(i32, i32)> = upper
                .chain(lower)
                .map(|p| {
                    let (px, py) = self.chart.to_pixel(&layout, p);
                    (
                        ((px - canvas.origin_x) * canvas.scale).floor() as i32,
                        ((py - canvas.origin_y) * canvas.scale).floor() as i32,
                    )
                })
                .collect();
            let style = ShapeStyle {
                color: series_colour(i).mix(0.18),
                filled: true,
                stroke_width: 1,
            };
            canvas
                .db
                .fill_polygon(pixels, &style)
                .map_err(|e| FigureError::Draw(e.to_string()))?;
        }
        // The chart covers whatever of a band lies outside the plot.
        self.chart.draw(canvas)
    }
}

/// `chart` encoded as `format`.
pub fn band_chart(chart: &BandChart, format: Format) -> Result<Vec<u8>, FigureError> {
    if chart.series.is_empty() {
        return Err(FigureError::NoRuns);
    }
    let scale = |log: bool| if log { Scale::Log } else { Scale::Linear };
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = chart.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let inner = Chart {
        title: chart.title.clone(),
        subtitle: chart.subtitle.clone(),
        x_title: chart.x_title.clone(),
        y_title: chart.y_title.clone(),
        x: Axis::fit(scale(chart.log_x), xs),
        y: Axis::fit(scale(chart.log_y), ys),
        series: chart
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Series {
                entry: Entry {
                    name: s.name.clone(),
                    detail: s.detail.clone(),
                    colour: series_colour(i),
                    detail_colour: MUTED,
                },
                points: s.points.clone(),
                dots: s.dots,
                best: s.best,
                cross: None,
            })
            .collect(),
    };
    let banded = Banded {
        chart: inner,
        bands: chart.series.iter().map(|s| s.band.clone()).collect(),
    };
    encode(&banded, format)
}
