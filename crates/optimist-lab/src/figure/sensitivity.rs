//! The learning-rate sensitivity figure: each optimizer's tuning score against the
//! learning rate, one line per optimizer, its best rate marked.

use super::axis::{Axis, Scale};
use super::chart::{Chart, Series};
use super::draw::canvas::encode;
use super::draw::style::{series_colour, series_dash, DIVERGED, MUTED};
use super::error::FigureError;
use super::format::Format;
use super::layout::short_number;
use super::parts::Entry;
use crate::tune::{Score, Tuning};

/// Every optimizer's score against its learning rate, encoded as `format`. A rate at
/// which the run failed (diverged, or ended outside the window) breaks the line.
pub fn sensitivity(tuning: &Tuning, format: Format) -> Result<Vec<u8>, FigureError> {
    if tuning.results.is_empty() {
        return Err(FigureError::NoRuns);
    }
    encode(&chart(tuning), format)
}

fn chart(tuning: &Tuning) -> Chart {
    let config = &tuning.config;
    let scores = || {
        tuning
            .results
            .iter()
            .flat_map(|t| t.trials.iter().map(|t| t.score))
            .filter(|s| s.is_finite())
    };
    let scale = if config.score == Score::Distance || scores().all(|s| s > 0.0) {
        Scale::Log
    } else {
        Scale::Linear
    };
    let series = tuning
        .results
        .iter()
        .enumerate()
        .map(|(i, tuned)| {
            let best = tuned.best();
            let (detail, detail_colour) = if tuned.all_failed() {
                ("failed at every rate tried".to_string(), DIVERGED)
            } else {
                let edge = if tuned.at_edge { ", range's edge" } else { "" };
                (
                    format!(
                        "best {}={}: {} {}{edge}",
                        tuned.key,
                        short_number(best.lr),
                        config.score.name(),
                        short_number(best.score)
                    ),
                    MUTED,
                )
            };
            let entry = Entry {
                name: tuned.label(),
                detail,
                colour: series_colour(i),
                detail_colour,
                marker: None,
                dash: series_dash(i),
            };
            let points = tuned
                .trials
                .iter()
                .map(|t| {
                    (
                        t.lr,
                        if t.score.is_finite() {
                            t.score
                        } else {
                            f64::NAN
                        },
                    )
                })
                .collect();
            Series {
                dots: true,
                best: best.score.is_finite().then_some((best.lr, best.score)),
                ..Series::line(entry, points)
            }
        })
        .collect();
    let rates = tuning
        .results
        .iter()
        .flat_map(|t| t.trials.iter().map(|t| t.lr));
    let (x, y) = config.start;
    Chart {
        title: format!("f(x, y) = {}", tuning.formula),
        subtitle: format!(
            "from ({}, {}), {} steps per rate",
            short_number(x),
            short_number(y),
            config.steps
        ),
        x_title: "learning rate (log scale); a gap: the run diverged or left the window".into(),
        y_title: format!(
            "{} (lower is better{})",
            config.score.describe(),
            if scale == Scale::Log {
                ", log scale"
            } else {
                ""
            }
        ),
        x: Axis::fit(Scale::Log, rates),
        y: Axis::fit(scale, scores()),
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::builtin;
    use crate::tune::{tune, Search, Tune};

    #[test]
    fn one_line_per_optimizer_broken_where_it_diverged() {
        let f = builtin("rosenbrock").unwrap();
        let config = Tune {
            search: Search {
                coarse: 12,
                refine: 4,
                ..Search::default()
            },
            ..Tune::new(&f, 100)
        };
        let specs = ["sgd".parse().unwrap(), "adam".parse().unwrap()];
        let tuning = tune(&f, &specs, &config, &|| {}).unwrap();
        let c = chart(&tuning);
        assert_eq!((c.x.scale, c.y.scale), (Scale::Log, Scale::Log));
        assert!(c.x.lo < -4.0 && c.x.hi > 1.0);
        for (s, tuned) in c.series.iter().zip(&tuning.results) {
            assert_eq!(s.points.len(), 16);
            assert_eq!(s.best, Some((tuned.best().lr, tuned.best().score)));
            assert!(s.entry.detail.starts_with("best lr="), "{}", s.entry.detail);
        }
        // SGD at lr = 10 fails on Rosenbrock: a gap, not a point.
        let sgd = &c.series[0];
        assert!(sgd.points.last().unwrap().1.is_nan());
        assert!(tuning.results[0].trials.last().unwrap().failed());
        assert!(c
            .y_title
            .starts_with("final distance to the nearest minimum"));
        assert!(sensitivity(&tuning, Format::Svg).is_ok());
    }
}
