//! The loss view: f against step, one line per optimizer, on a log scale where f can be
//! shown on one (its gap to the known minimum, or f itself when it stays positive).

use super::axis::{Axis, Scale};
use super::chart::{Chart, Series};
use super::draw::canvas::encode;
use super::error::FigureError;
use super::format::Format;
use super::layout::short_number;
use super::parts::run_entry;
use crate::landscape::Landscape;
use crate::race::Run;

/// Runs of at most this many steps get a dot per step.
const DOTTED: usize = 100;

/// The loss of every run of `runs` against its step, encoded as `format`.
pub fn loss(
    landscape: &dyn Landscape,
    runs: &[Run],
    format: Format,
) -> Result<Vec<u8>, FigureError> {
    if runs.is_empty() {
        return Err(FigureError::NoRuns);
    }
    encode(&chart(landscape, runs), format)
}

/// What is plotted: f − f* where the minimum f* is known (0 and below drawn at the
/// bottom edge of the log scale), else f, on a log scale if it stays positive.
fn chart(landscape: &dyn Landscape, runs: &[Run]) -> Chart {
    let lowest = landscape
        .minima()
        .iter()
        .map(|&(x, y)| landscape.value(x, y))
        .filter(|v| v.is_finite())
        .reduce(f64::min);
    let shift = lowest.unwrap_or(0.0);
    let curves: Vec<Vec<(f64, f64)>> = runs
        .iter()
        .map(|r| {
            r.points
                .iter()
                .map(|p| (p.step as f64, p.loss - shift))
                .collect()
        })
        .collect();
    let values = || curves.iter().flatten().map(|p| p.1);
    let positive = values().filter(|v| v.is_finite()).all(|v| v > 0.0);
    let scale = if lowest.is_some() || positive {
        Scale::Log
    } else {
        Scale::Linear
    };
    let y_title = match (lowest, scale) {
        (Some(f), _) => format!(
            "f − f*, where f* = {} is the minimum (log scale)",
            short_number(f)
        ),
        (None, Scale::Log) => "f(x, y) (log scale)".to_string(),
        (None, Scale::Linear) => "f(x, y)".to_string(),
    };
    let last_step = runs
        .iter()
        .filter_map(|r| r.points.last())
        .map(|p| p.step)
        .max()
        .unwrap_or(0);
    let start = runs
        .iter()
        .filter_map(|r| r.points.first())
        .map(|p| (p.x, p.y))
        .collect::<Vec<_>>();
    let subtitle = match start.first() {
        Some(&(x, y)) if start.iter().all(|&s| s == (x, y)) => {
            format!("from ({}, {})", short_number(x), short_number(y))
        }
        _ => String::new(),
    };
    let y = Axis::fit(scale, values());
    let series = runs
        .iter()
        .zip(curves)
        .enumerate()
        .map(|(i, (run, points))| Series {
            dots: last_step <= DOTTED,
            best: None,
            cross: run.diverged_at.and_then(|_| points.last().copied()),
            ..Series::line(run_entry(run, i), points)
        })
        .collect();
    Chart {
        title: format!("f(x, y) = {}", landscape.formula()),
        subtitle,
        x_title: "step".into(),
        y_title,
        x: Axis::fit(Scale::Linear, [0.0, last_step.max(1) as f64].into_iter()),
        y,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{article, builtin};
    use crate::race::Race;
    use optimist::Convention;

    #[test]
    fn the_gap_to_the_minimum_on_a_log_scale() {
        let f = builtin("styblinski-tang").unwrap();
        let race = Race {
            start: f.start(),
            steps: 40,
            optimizers: vec![
                "adam:lr=0.3".parse().unwrap(),
                "sgd:lr=0.5".parse().unwrap(),
            ],
            convention: Convention::Article,
            wrapping: Default::default(),
        };
        let runs = race.run::<f64>(&f).unwrap();
        let c = chart(&f, &runs);
        assert_eq!(c.y.scale, Scale::Log);
        assert!(
            c.y_title.starts_with("f − f*, where f* = −78.3"),
            "{}",
            c.y_title
        );
        let fmin = f.value(-2.903534027771178, -2.903534027771178);
        for (s, run) in c.series.iter().zip(&runs) {
            assert_eq!(s.points.len(), run.points.len());
            for (&(step, gap), p) in s.points.iter().zip(&run.points) {
                assert_eq!((step, gap), (p.step as f64, p.loss - fmin));
            }
            assert!(s.dots);
        }
        // SGD with lr 0.5 leaves the window for good: its cross marks the last point.
        assert_eq!(c.series[1].cross.is_some(), runs[1].diverged_at.is_some());
        assert_eq!(
            (c.x.scale, c.x.lo < 0.0, c.x.hi > 40.0),
            (Scale::Linear, true, true)
        );
    }

    #[test]
    fn a_loss_that_goes_negative_is_linear() {
        let f = builtin("saddle").unwrap();
        let race = Race {
            start: f.start(),
            steps: 30,
            optimizers: vec!["sgd:lr=0.1".parse().unwrap()],
            convention: Convention::Article,
            wrapping: Default::default(),
        };
        let runs = race.run::<f64>(&f).unwrap();
        let c = chart(&f, &runs);
        assert_eq!(c.y.scale, Scale::Linear);
        assert_eq!(c.y_title, "f(x, y)");
        assert!(c.y.lo < runs[0].last().loss);
        // The article's f stays positive: f itself on a log scale once its minimum is
        // forgotten; with it known, f − 0.
        let runs = Race::article().run::<f64>(&article()).unwrap();
        assert_eq!(chart(&article(), &runs).y.scale, Scale::Log);
        assert!(loss(&article(), &[], Format::Png).is_err());
    }
}
