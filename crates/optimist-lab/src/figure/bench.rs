//! The bench report's figures: line charts in the shared style, each line optionally
//! with a shaded band (e.g. min–max over seeds) drawn under it.

use super::axis::{Axis, Scale};
use super::chart::{Chart, Series};
use super::draw::canvas::encode;
use super::draw::style::{series_colour, series_dash, MUTED};
use super::error::FigureError;
use super::format::Format;
use super::parts::Entry;

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
                dots: s.dots,
                best: s.best,
                band: s.band.clone(),
                ..Series::line(
                    Entry {
                        name: s.name.clone(),
                        detail: s.detail.clone(),
                        colour: series_colour(i),
                        detail_colour: MUTED,
                        marker: None,
                        dash: series_dash(i),
                    },
                    s.points.clone(),
                )
            })
            .collect(),
    };
    encode(&inner, format)
}
