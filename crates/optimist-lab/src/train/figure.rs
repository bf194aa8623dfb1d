//! The book's figure of the network experiment: each optimizer's training loss per
//! iteration, the raw losses faint and the smoothed ones bold with a marker every 100
//! iterations, loss from 0 to 1. A chart of the figures' shared stack draws it.

use super::run::TrainResult;
use crate::figure::axis::{Axis, Scale};
use crate::figure::chart::{Chart, Series};
use crate::figure::draw::canvas::encode;
use crate::figure::draw::style::{series_colour, series_dash, MUTED};
use crate::figure::parts::{Entry, Shape};
use crate::figure::Format;

/// A marker on each smoothed curve every this many iterations, as in the book.
const MARK_EVERY: usize = 100;

/// One optimizer's curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The legend entry's name: the optimizer's spec.
    pub name: String,
    /// The legend entry's second line, e.g. `test accuracy 97.12%`.
    pub detail: String,
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
    /// The figure of a run, each legend entry with the optimizer's accuracy, its
    /// convention and, where one is set, its schedule.
    pub fn new(result: &TrainResult) -> Self {
        let setting = match &result.config.schedule {
            Some(s) => format!(", {} convention, {s}", result.config.convention),
            None => format!(", {} convention", result.config.convention),
        };
        let widths: Vec<String> = result.sizes.iter().map(|s| s.to_string()).collect();
        LossFigure {
            title: format!(
                "MNIST, {} network, batch {}",
                widths.join("-"),
                result.config.batch_size
            ),
            curves: result
                .runs
                .iter()
                .map(|r| Curve {
                    name: r.spec.to_string(),
                    detail: format!(
                        "{} accuracy {:.2}%{setting}",
                        result.eval_set.name(),
                        100.0 * r.accuracy
                    ),
                    raw: r.losses.iter().map(|&l| f64::from(l)).collect(),
                    smoothed: r.smoothed(),
                })
                .collect(),
        }
    }

    /// The chart: iterations along x, the loss on a log scale along y (losses that
    /// differ tenfold near 0 stay apart), framed on the smoothed curves; one series per
    /// curve.
    fn chart(&self) -> Chart {
        let n = self.curves.iter().map(|c| c.raw.len()).max().unwrap_or(0);
        let along = |y: &[f64]| -> Vec<(f64, f64)> {
            y.iter().enumerate().map(|(i, &v)| (i as f64, v)).collect()
        };
        Chart {
            title: self.title.clone(),
            subtitle: "training loss".into(),
            x_title: "iterations".into(),
            y_title: "loss (log scale): smoothed, raw faint".into(),
            x: Axis {
                scale: Scale::Linear,
                lo: 0.0,
                hi: n.max(1) as f64,
            },
            y: Axis::fit(
                Scale::Log,
                self.curves.iter().flat_map(|c| c.smoothed.iter().copied()),
            ),
            series: self
                .curves
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let entry = Entry {
                        name: c.name.clone(),
                        detail: c.detail.clone(),
                        colour: series_colour(k),
                        detail_colour: MUTED,
                        marker: Some(Shape::nth(k)),
                        dash: series_dash(k),
                    };
                    Series {
                        faint: along(&c.raw),
                        marks: Some(MARK_EVERY),
                        ..Series::line(entry, along(&c.smoothed))
                    }
                })
                .collect(),
        }
    }

    /// The figure as a PNG file's bytes.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        encode(&self.chart(), Format::Png).map_err(|e| e.to_string())
    }

    /// The figure as SVG text.
    pub fn svg(&self) -> Result<String, String> {
        let bytes = encode(&self.chart(), Format::Svg).map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_a_decade_apart_stay_a_decade_apart_on_a_log_axis() {
        let curve = |name: &str, level: f64| Curve {
            name: name.into(),
            detail: String::new(),
            raw: vec![level; 50],
            smoothed: vec![level; 50],
        };
        let figure = LossFigure {
            title: "t".into(),
            curves: vec![curve("a", 0.002), curve("b", 0.02), curve("c", 2.0)],
        };
        let chart = figure.chart();
        assert_eq!(chart.y.scale, Scale::Log);
        let layout = chart.layout();
        let row = |v: f64| chart.to_pixel(&layout, (10.0, v)).1;
        let plot = layout.panel.plot;
        // Every curve inside the plot, and 0.002 to 0.02 as far apart as 0.02 to 0.2.
        for v in [0.002, 0.02, 2.0] {
            assert!(
                row(v) > plot.y as f64 && row(v) < plot.bottom() as f64,
                "{v}"
            );
        }
        let decade = row(0.002) - row(0.02);
        assert!(decade > 0.2 * plot.height as f64);
        assert!((decade - (row(0.02) - row(0.2))).abs() < 1e-6);
    }
}
