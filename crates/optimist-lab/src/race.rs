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

/// One optimizer from `start` for `steps` updates, every position recorded; stops at the
/// first position, loss or gradient that is not finite and reports the run as diverged
/// there.
pub fn run_one<F: Float>(
    mut opt: Box<dyn Optimizer<F>>,
    spec: &Spec,
    landscape: &dyn Landscape,
    start: (f64, f64),
    steps: usize,
) -> Result<Run, Error> {
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
    run.diverged_at = drive(opt.as_mut(), landscape, start, steps, |p| {
        run.points.push(p)
    })?;
    Ok(run)
}

/// Drives `opt` from `start` for `steps` updates, handing `visit` every finite position
/// (the start first). Stops at the first step whose gradient, position or loss is not
/// finite and returns that step: `Some(0)` for a start that is not finite, `Some(k)` when
/// the update to step k could not be made or did not land on finite numbers.
///
/// Races record each position through it and tuning keeps only the last, so a tuned run
/// and its race end on the same bits.
pub fn drive<F: Float>(
    opt: &mut dyn Optimizer<F>,
    landscape: &dyn Landscape,
    start: (f64, f64),
    steps: usize,
    mut visit: impl FnMut(Point),
) -> Result<Option<usize>, Error> {
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
    let finite = |p: &Point| p.x.is_finite() && p.y.is_finite() && p.loss.is_finite();
    let first = point(0, &xy);
    if !finite(&first) {
        return Ok(Some(0));
    }
    visit(first);
    let shape = [2usize];
    for step in 1..=steps {
        let (gx, gy) = landscape.gradient(xy[0].to_f64(), xy[1].to_f64());
        // A finite point can still have an infinite gradient (x⁴ at 1e100): no update.
        if !(gx.is_finite() && gy.is_finite()) {
            return Ok(Some(step));
        }
        let grad = [F::from_f64(gx), F::from_f64(gy)];
        opt.step(&mut [Param {
            name: "xy",
            shape: &shape,
            value: &mut xy,
            grad: &grad,
        }])?;
        let p = point(step, &xy);
        if !finite(&p) {
            return Ok(Some(step));
        }
        visit(p);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{article, builtin};

    #[test]
    fn records_start_and_every_step() {
        let runs = Race::article().run::<f64>(&article()).unwrap();
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
        let runs = race.run::<f64>(&article()).unwrap();
        let d = runs[0]
            .diverged_at
            .expect("lr=2 on y² doubles |y| each step");
        assert_eq!(runs[0].points.len(), d);
        assert!(runs[0].points.iter().all(|p| p.loss.is_finite()));
        assert!(runs[1].diverged_at.is_none());
        assert_eq!(runs[1].points.len(), 2001);
    }

    /// f = √|x| + y²: finite everywhere, its gradient infinite on x = 0.
    struct Cusp;

    impl Landscape for Cusp {
        fn name(&self) -> &str {
            "cusp"
        }
        fn formula(&self) -> &str {
            "√|x| + y²"
        }
        fn value(&self, x: f64, y: f64) -> f64 {
            x.abs().sqrt() + y * y
        }
        fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
            (x.signum() * 0.5 / x.abs().sqrt(), 2.0 * y)
        }
        fn window(&self) -> crate::landscape::Window {
            builtin("saddle").unwrap().window()
        }
        fn minima(&self) -> Vec<(f64, f64)> {
            vec![(0.0, 0.0)]
        }
        fn start(&self) -> (f64, f64) {
            (0.0, 1.0)
        }
    }

    #[test]
    fn an_infinite_gradient_at_a_finite_point_is_divergence() {
        // The update is not attempted: the optimizer would refuse such a gradient.
        let race = Race {
            start: (1.0, 1.0),
            steps: 5,
            optimizers: vec!["sgd:lr=2".parse().unwrap()],
            convention: Convention::Article,
        };
        // Step 1 lands on x = 1 − 2·0.5 = 0 exactly, where the gradient is infinite.
        let runs = race.run::<f64>(&Cusp).unwrap();
        assert_eq!(runs[0].diverged_at, Some(2));
        assert_eq!(runs[0].points.len(), 2);
        assert_eq!((runs[0].last().x, runs[0].last().y), (0.0, -3.0));
        assert_eq!(runs[0].last().loss, 9.0);
    }
}
