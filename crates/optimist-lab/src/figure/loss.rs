//! The loss view: f against step, one line per optimizer, on a log scale where f can be
//! shown on one (its gap to the known minimum, or f itself when it stays positive).

use super::axis::{Axis, Scale};
use super::chart::{Chart, Cross, Series};
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

/// What is plotted: f − f* where the minimum f* is known, else f; on a log scale
/// when that stays positive, else (0 reached, or f below 0) on a symmetric-log one.
/// The y axis is framed on the runs that did not diverge (all runs if every one did); a
/// diverged run's line stops at its last finite point, marked with a cross and its
/// step (at the axis's edge if the point lies beyond it).
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
    let framed: Vec<f64> = {
        let kept: Vec<&Vec<(f64, f64)>> = runs
            .iter()
            .zip(&curves)
            .filter(|(r, _)| r.diverged_at.is_none())
            .map(|(_, c)| c)
            .collect();
        let kept = if kept.is_empty() {
            curves.iter().collect()
        } else {
            kept
        };
        kept.iter()
            .flat_map(|c| c.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .collect()
    };
    let scale = if framed.iter().all(|&v| v > 0.0) {
        Scale::Log
    } else {
        Scale::symlog_for(framed.iter().copied())
    };
    let what = match scale {
        Scale::Log => "log scale",
        _ => "symmetric log scale",
    };
    let y_title = match lowest {
        Some(f) => format!(
            "f − f*, where f* = {} is the minimum ({what})",
            short_number(f)
        ),
        None => format!("f(x, y) ({what})"),
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
    let y = Axis::fit(scale, framed.into_iter());
    let series = runs
        .iter()
        .zip(curves)
        .enumerate()
        .map(|(i, (run, points))| {
            let cross = run.diverged_at.and_then(|k| {
                let &(step, value) = points.iter().rev().find(|p| p.1.is_finite())?;
                Some(Cross {
                    at: (step, y.clamp(value)),
                    note: format!("diverged at step {k}"),
                })
            });
            Series {
                dots: last_step <= DOTTED,
                best: None,
                cross,
                ..Series::line(run_entry(run, i), points)
            }
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
        assert!(c.y_title.ends_with("(log scale)"), "{}", c.y_title);
        assert_eq!(
            (c.x.scale, c.x.lo < 0.0, c.x.hi > 40.0),
            (Scale::Linear, true, true)
        );
    }

    #[test]
    fn a_loss_that_goes_negative_is_on_a_symmetric_log_axis() {
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
        assert!(matches!(c.y.scale, Scale::SymLog(_)), "{:?}", c.y.scale);
        assert_eq!(c.y_title, "f(x, y) (symmetric log scale)");
        let last = runs[0].last().loss;
        assert!(last < 0.0);
        assert!(c.y.lo < c.y.unit(last) && c.y.hi > c.y.unit(runs[0].points[0].loss));
        let labels: Vec<String> = c.y.ticks(7).into_iter().map(|(_, s)| s).collect();
        assert!(labels.contains(&"0".to_string()), "{labels:?}");
        // The article's f stays positive: f itself on a log scale once its minimum is
        // forgotten; with it known, f − 0.
        let runs = Race::article().run::<f64>(&article()).unwrap();
        assert_eq!(chart(&article(), &runs).y.scale, Scale::Log);
        assert!(loss(&article(), &[], Format::Png).is_err());
    }

    fn race(f: &dyn Landscape, specs: &[&str], steps: usize) -> Vec<Run> {
        Race {
            start: f.start(),
            steps,
            optimizers: specs.iter().map(|s| s.parse().unwrap()).collect(),
            convention: Convention::Article,
            wrapping: Default::default(),
        }
        .run::<f64>(f)
        .unwrap()
    }

    #[test]
    fn diverged_runs_do_not_frame_the_axis_and_are_marked_where_they_stopped() {
        let f = builtin("himmelblau").unwrap();
        let runs = race(&f, &["adam:lr=0.1", "sgd:lr=0.5"], 60);
        assert!(runs[0].diverged_at.is_none() && runs[1].diverged_at.is_some());
        let c = chart(&f, &runs);
        // Framed on Adam alone: the top of the axis is near Adam's highest loss.
        let adam_high = runs[0]
            .points
            .iter()
            .map(|p| p.loss)
            .fold(f64::MIN, f64::max);
        let sgd_high = runs[1]
            .points
            .iter()
            .map(|p| p.loss)
            .fold(f64::MIN, f64::max);
        assert!(sgd_high > 1e6 * adam_high, "sgd reaches {sgd_high:e}");
        assert!(c.y.hi < c.y.unit(adam_high) + 1.0, "{:?}", c.y);
        assert!(c.y.unit(sgd_high) > c.y.hi);
        // SGD's cross sits on the axis's top edge at its last finite step, with a note.
        let cross = c.series[1].cross.as_ref().unwrap();
        assert_eq!(cross.at.0, runs[1].last().step as f64);
        assert!((c.y.unit(cross.at.1) - c.y.hi).abs() < 1e-9);
        assert_eq!(
            cross.note,
            format!("diverged at step {}", runs[1].diverged_at.unwrap())
        );
        assert!(c.series[0].cross.is_none());
        // In the picture: SGD's colour at the cross, inside the plot's top edge.
        let png = loss(&f, &runs, Format::Png).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut rgb).unwrap();
        let layout = c.layout();
        let (cx, _) = c.to_pixel(&layout, cross.at);
        let top = layout.panel.plot.y as f64 + 6.0;
        let colour = crate::figure::series_rgb(1);
        let mut near = 0;
        for y in (top - 6.0) as usize..=(top + 6.0) as usize {
            for x in (cx - 6.0) as usize..=(cx + 6.0) as usize {
                let i = (y * layout.width as usize + x) * 3;
                let d: i32 = (0..3)
                    .map(|k| (rgb[i + k] as i32 - colour[k] as i32).abs())
                    .sum();
                near += usize::from(d <= 40);
            }
        }
        assert!(near >= 6, "{near} pixels of the cross");
    }

    #[test]
    fn a_loss_of_exactly_zero_stays_on_the_axis() {
        // f = x² + y² from (1, 0) with lr 0.5 lands on 0 exactly after one step.
        let f = crate::landscape::formula::Formula::parse("x^2 + y^2").unwrap();
        let runs = Race {
            start: (1.0, 0.0),
            steps: 3,
            optimizers: vec!["sgd:lr=0.5".parse().unwrap()],
            convention: Convention::Article,
            wrapping: Default::default(),
        }
        .run::<f64>(&f)
        .unwrap();
        assert_eq!(runs[0].last().loss, 0.0);
        let c = chart(&f, &runs);
        assert!(matches!(c.y.scale, Scale::SymLog(_)));
        // 0 is inside the axis, not on (or below) its bottom edge.
        let zero = c.y.unit(0.0);
        assert!(zero > c.y.lo && zero < c.y.hi, "{:?}", c.y);
        assert!(zero - c.y.lo >= 0.03 * (c.y.hi - c.y.lo));
    }
}
