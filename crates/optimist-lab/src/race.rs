//! Races: optimizers from one start on one landscape, every position recorded.

use crate::landscape::Landscape;
use optimist::{registry, Convention, Error, Float, Optimizer, Param, Spec};

/// One recorded position of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Step number: 0 is the start, k the position after k updates.
    pub step: usize,
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// f(x, y).
    pub loss: f64,
}

/// One optimizer's run through a race.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The spec as given, e.g. `adam:lr=0.3`.
    pub spec: Spec,
    /// The optimizer's name, e.g. `adam`.
    pub name: String,
    /// Every hyperparameter with its value, defaults included, as text.
    pub hyperparameters: Vec<(String, String)>,
    /// The start and the position after every update, while finite.
    pub points: Vec<Point>,
    /// The step whose position or loss was not finite, if the run diverged there.
    pub diverged_at: Option<usize>,
}

impl Run {
    /// The last finite position.
    pub fn last(&self) -> Point {
        *self.points.last().expect("a run holds at least its start")
    }

    /// `lr=0.3, beta1=0.9, ...`
    pub fn hyperparameter_text(&self) -> String {
        let parts: Vec<String> = self
            .hyperparameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.join(", ")
    }
}

/// What to race: where, from where, for how long, with which optimizers.
#[derive(Debug, Clone)]
pub struct Race {
    /// The start (x, y).
    pub start: (f64, f64),
    /// Updates per optimizer.
    pub steps: usize,
    /// The optimizers, as specs.
    pub optimizers: Vec<Spec>,
    /// Whose meaning the optimizer names have.
    pub convention: Convention,
}

impl Race {
    /// The article's race: from (−7, 2), 30 steps, SGD lr 0.95, Momentum lr 0.1,
    /// AdaGrad lr 1.5, Adam lr 0.3.
    pub fn article() -> Self {
        Race {
            start: (-7.0, 2.0),
            steps: 30,
            optimizers: [
                "sgd:lr=0.95",
                "momentum:lr=0.1",
                "adagrad:lr=1.5",
                "adam:lr=0.3",
            ]
            .iter()
            .map(|s| s.parse().expect("the article's specs parse"))
            .collect(),
            convention: Convention::Article,
        }
    }

    /// Builds every optimizer first (so a bad spec fails before any work), then runs
    /// each in `F` on `landscape`.
    pub fn run<F: Float>(&self, landscape: &dyn Landscape) -> Result<Vec<Run>, Error> {
        let optimizers: Vec<Box<dyn Optimizer<F>>> = self
            .optimizers
            .iter()
            .map(|s| registry::build_in::<F>(s, self.convention))
            .collect::<Result<_, _>>()?;
        optimizers
            .into_iter()
            .zip(&self.optimizers)
            .map(|(opt, spec)| run_one(opt, spec, landscape, self.start, self.steps))
            .collect()
    }
}

/// One optimizer from `start` for `steps` updates; stops at the first position or loss
/// that is not finite and reports the run as diverged there.
pub fn run_one<F: Float>(
    mut opt: Box<dyn Optimizer<F>>,
    spec: &Spec,
    landscape: &dyn Landscape,
    start: (f64, f64),
    steps: usize,
) -> Result<Run, Error> {
    let mut xy = [F::from_f64(start.0), F::from_f64(start.1)];
    let point = |step: usize, xy: &[F; 2]| {
        let (x, y) = (xy[0].to_f64(), xy[1].to_f64());
        Point {
            step,
            x,
            y,
            loss: landscape.value(x, y),
        }
    };
    let first = point(0, &xy);
    let mut run = Run {
        spec: spec.clone(),
        name: opt.name().to_string(),
        hyperparameters: opt
            .hyperparameters()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        points: Vec::with_capacity(steps + 1),
        diverged_at: None,
    };
    if !(first.x.is_finite() && first.y.is_finite() && first.loss.is_finite()) {
        run.diverged_at = Some(0);
        return Ok(run);
    }
    run.points.push(first);
    let shape = [2usize];
    for step in 1..=steps {
        let (gx, gy) = landscape.gradient(xy[0].to_f64(), xy[1].to_f64());
        let grad = [F::from_f64(gx), F::from_f64(gy)];
        opt.step(&mut [Param {
            name: "xy",
            shape: &shape,
            value: &mut xy,
            grad: &grad,
        }])?;
        let p = point(step, &xy);
        if !(p.x.is_finite() && p.y.is_finite() && p.loss.is_finite()) {
            run.diverged_at = Some(step);
            break;
        }
        run.points.push(p);
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::Article;

    #[test]
    fn records_start_and_every_step() {
        let runs = Race::article().run::<f64>(&Article).unwrap();
        assert_eq!(runs.len(), 4);
        for r in &runs {
            assert_eq!(r.points.len(), 31);
            assert_eq!(
                r.points[0],
                Point {
                    step: 0,
                    x: -7.0,
                    y: 2.0,
                    loss: 49.0 / 20.0 + 4.0
                }
            );
            assert!(r.diverged_at.is_none());
        }
        // SGD's first step: (-7, 2) − 0.95·(−0.7, 4)
        let p = runs[0].points[1];
        assert_eq!((p.x, p.y), (-7.0 - 0.95 * -0.7, 2.0 - 0.95 * 4.0));
    }

    #[test]
    fn a_diverging_run_stops_and_the_race_goes_on() {
        let race = Race {
            start: (-7.0, 2.0),
            steps: 2000,
            optimizers: vec!["sgd:lr=2".parse().unwrap(), "sgd:lr=0.1".parse().unwrap()],
            convention: Convention::Article,
        };
        let runs = race.run::<f64>(&Article).unwrap();
        let d = runs[0]
            .diverged_at
            .expect("lr=2 on y² doubles |y| each step");
        assert_eq!(runs[0].points.len(), d);
        assert!(runs[0].points.iter().all(|p| p.loss.is_finite()));
        assert!(runs[1].diverged_at.is_none());
        assert_eq!(runs[1].points.len(), 2001);
    }
}
