//! Races: optimizers from one start on one landscape, every position recorded.

use crate::landscape::Landscape;
use optimist::clip::{Clip, Clipped};
use optimist::hyper::OptimizerInfo;
use optimist::schedule::{Schedule, Scheduled};
use optimist::{registry, Configurable, Convention, Error, Float, Optimizer, Param, Spec};

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
    /// What tables, legends and CSV rows call the run, unique within its race: the
    /// spec's `label=`, else the name, else (for two runs of one optimizer) the name
    /// with the hyperparameters that tell them apart, e.g. `sgd lr=0.1`.
    pub label: String,
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

/// What wraps every optimizer of a race, a tuning or a training run, as torch users
/// wrap theirs: gradient clipping before each update, and a learning-rate schedule
/// stepped after it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wrapping {
    /// The learning-rate schedule, from the optimizer's own learning rate.
    pub schedule: Option<Schedule>,
    /// The gradient clipping.
    pub clip: Option<Clip>,
}

impl Wrapping {
    /// `opt`, clipped and then scheduled as asked.
    pub fn wrap<F: Float>(
        &self,
        opt: Box<dyn Optimizer<F>>,
    ) -> Result<Box<dyn Optimizer<F>>, Error> {
        let mut opt = opt;
        if let Some(clip) = self.clip {
            opt = Box::new(Clipped::new(opt, clip));
        }
        if let Some(schedule) = &self.schedule {
            opt = Box::new(Scheduled::new(opt, schedule.clone())?);
        }
        Ok(opt)
    }

    /// The wrapping as settings beside an optimizer's hyperparameters, for tables,
    /// titles and legends, in a short form that leaves out keys at their defaults:
    /// `("clip", "clip_grad_norm:max_norm=1")`, `("schedule",
    /// "cosineannealinglr:T_max=30")`.
    pub fn settings(&self) -> Vec<(String, String)> {
        let clip = self.clip.map(|c| {
            let infos = [
                <optimist::clip::ClipGradNorm as Configurable>::info(),
                <optimist::clip::ClipGradValue as Configurable>::info(),
            ];
            ("clip".to_string(), short_spec(&c.to_string(), &infos))
        });
        let schedule = self.schedule.as_ref().map(|s| {
            (
                "schedule".to_string(),
                short_spec(&s.to_string(), &optimist::schedule::catalog()),
            )
        });
        clip.into_iter().chain(schedule).collect()
    }
}

/// `text`, a spec every key of which is written, without the keys at the default that
/// `infos` gives for its name (or for a key of any of them, such as the warm-up's):
/// `cosineannealinglr:T_max=30,eta_min=0` is `cosineannealinglr:T_max=30`.
pub fn short_spec(text: &str, infos: &[OptimizerInfo]) -> String {
    let Ok(mut spec) = text.parse::<Spec>() else {
        return text.to_string();
    };
    let own = infos.iter().find(|i| i.name == spec.name);
    let default = |key: &str| {
        own.into_iter()
            .chain(infos)
            .flat_map(|i| &i.keys)
            .find(|k| k.name == key)
            .map(|k| k.default.to_string())
    };
    spec.values
        .retain(|(k, v)| default(k).as_deref() != Some(v.as_str()));
    spec.to_string()
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
    /// A schedule and clipping for every optimizer.
    pub wrapping: Wrapping,
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
            wrapping: Wrapping::default(),
        }
    }

    /// Builds every optimizer first (so a bad spec fails before any work), then runs
    /// each in `F` on `landscape`.
    pub fn run<F: Float>(&self, landscape: &dyn Landscape) -> Result<Vec<Run>, Error> {
        let (specs, given): (Vec<Spec>, Vec<Option<String>>) = self
            .optimizers
            .iter()
            .map(split_label)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        let optimizers: Vec<(Box<dyn Optimizer<F>>, Settings)> = specs
            .iter()
            .map(|s| {
                let opt = registry::build_in::<F>(s, self.convention)?;
                // As configured: a schedule's warm-up changes the learning rate at once.
                let mut settings = hyperparameters(opt.as_ref());
                settings.extend(self.wrapping.settings());
                Ok((self.wrapping.wrap(opt)?, settings))
            })
            .collect::<Result<_, Error>>()?;
        let mut runs = optimizers
            .into_iter()
            .zip(&specs)
            .map(|((opt, settings), spec)| {
                let mut run = run_one(opt, spec, landscape, self.start, self.steps)?;
                run.hyperparameters = settings;
                Ok(run)
            })
            .collect::<Result<Vec<Run>, Error>>()?;
        let labels = labels(&runs_keys(&runs), &given);
        for (run, label) in runs.iter_mut().zip(labels) {
            run.label = label;
        }
        Ok(runs)
    }
}

/// The spec key that names a run (`sgd:lr=0.1,label=fast`) rather than setting a
/// hyperparameter.
pub const LABEL_KEY: &str = "label";

/// `spec` without its `label=`, and that label; a label holding a control character
/// (a tab, a newline, an escape that would drive the terminal) is refused: labels are
/// printed, and written into CSV files and figures.
pub fn split_label(spec: &Spec) -> Result<(Spec, Option<String>), Error> {
    let mut split = spec.clone();
    let label = split
        .values
        .iter()
        .position(|(k, _)| k == LABEL_KEY)
        .map(|i| split.values.remove(i).1);
    if let Some(c) = label
        .as_deref()
        .and_then(|l| l.chars().find(|c| c.is_control()))
    {
        return Err(Error::BadValue {
            optimizer: spec.name.clone(),
            key: LABEL_KEY.into(),
            value: label.unwrap_or_default(),
            expected: format!(
                "printable text: it holds the control character {}, and a label is printed and written into CSV files and figures",
                c.escape_debug()
            ),
        });
    }
    Ok((split, label))
}

/// Each run's name and settings, for [`labels`].
fn runs_keys(runs: &[Run]) -> Vec<(String, Settings)> {
    runs.iter()
        .map(|r| (r.name.clone(), r.hyperparameters.clone()))
        .collect()
}

/// Unique, readable labels for runs given as (name, settings), with the labels given
/// in their specs: a given label, else the name where it is the only run of that
/// name, else the name and the settings in which runs of that name differ
/// (`sgd lr=0.1`); a label still repeated gets its position (`sgd #2`).
pub fn labels(runs: &[(String, Settings)], given: &[Option<String>]) -> Vec<String> {
    let mut out: Vec<String> = runs
        .iter()
        .zip(given)
        .map(|((name, settings), given)| {
            if let Some(label) = given {
                return label.clone();
            }
            let same: Vec<&Settings> = runs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, s)| s)
                .collect();
            let differing: Vec<String> = settings
                .iter()
                .filter(|(k, v)| {
                    same.iter()
                        .any(|s| s.iter().any(|(k2, v2)| k2 == k && v2 != v))
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            std::iter::once(name.clone())
                .chain(differing)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let copy = out.clone();
    for (i, label) in out.iter_mut().enumerate() {
        if copy.iter().filter(|l| *l == label).count() > 1 {
            label.push_str(&format!(" #{}", i + 1));
        }
    }
    out
}

/// Settings as (key, value) text: hyperparameters, then the wrapping's.
pub type Settings = Vec<(String, String)>;

/// Every hyperparameter of `opt` with its value, as text.
fn hyperparameters<F: Float>(opt: &dyn Optimizer<F>) -> Settings {
    opt.hyperparameters()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
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
        label: opt.name().to_string(),
        hyperparameters: hyperparameters(opt.as_ref()),
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
    fn two_runs_of_one_optimizer_get_labels_that_tell_them_apart() {
        let mut race = Race::article();
        race.optimizers = [
            "sgd:lr=0.1",
            "sgd:lr=0.5",
            "adam:lr=0.3",
            "momentum:lr=0.1,label=slow ball",
            "adagrad",
            "adagrad",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let runs = race.run::<f64>(&article()).unwrap();
        let shown: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            shown,
            [
                "sgd lr=0.1",
                "sgd lr=0.5",
                "adam",
                "slow ball",
                "adagrad #5",
                "adagrad #6"
            ]
        );
        // The label is not a hyperparameter: the run is momentum at lr 0.1.
        assert_eq!(runs[3].name, "momentum");
        assert_eq!(runs[3].spec.to_string(), "momentum:lr=0.1");
        let csv = crate::output::trajectories_csv(&runs);
        assert!(
            csv.contains("\nsgd lr=0.5,0,-7.0,2.0,") && csv.contains("\nslow ball,30,"),
            "{csv}"
        );
        // Several differing settings are all named; a given label that repeats is numbered.
        let settings = |lr: &str, b: &str| {
            vec![
                ("lr".to_string(), lr.to_string()),
                ("beta1".to_string(), b.to_string()),
            ]
        };
        let runs = [
            ("adam".to_string(), settings("0.1", "0.9")),
            ("adam".to_string(), settings("0.2", "0.8")),
            ("adam".to_string(), settings("0.1", "0.9")),
        ];
        assert_eq!(
            labels(&runs, &[None, None, Some("adam lr=0.2 beta1=0.8".into())]),
            [
                "adam lr=0.1 beta1=0.9",
                "adam lr=0.2 beta1=0.8 #2",
                "adam lr=0.2 beta1=0.8 #3"
            ]
        );
    }

    #[test]
    fn a_wrapping_reaches_every_step_and_shows_in_the_settings() {
        let plain = Race::article().run::<f64>(&article()).unwrap();
        // A clip that never binds changes no position.
        let mut idle = Race::article();
        idle.wrapping.clip = Some("clip_grad_norm:max_norm=1e300".parse().unwrap());
        for (a, b) in plain.iter().zip(&idle.run::<f64>(&article()).unwrap()) {
            assert_eq!(a.points, b.points);
            assert_eq!(b.hyperparameters.last().unwrap().0, "clip");
        }
        // Steps 1 to 10 use the base rate, step 11 half of it.
        let mut scheduled = Race::article();
        scheduled.wrapping.schedule = Some("steplr:step_size=10,gamma=0.5".parse().unwrap());
        for (a, b) in plain.iter().zip(&scheduled.run::<f64>(&article()).unwrap()) {
            assert_eq!(a.points[..11], b.points[..11], "{}", a.name);
            assert_ne!(a.points[11], b.points[11], "{}", a.name);
            assert_eq!(a.hyperparameters[0], b.hyperparameters[0]);
            let (key, value) = b.hyperparameters.last().unwrap();
            assert_eq!(key, "schedule");
            assert_eq!(value, "steplr:step_size=10,gamma=0.5");
        }
        // Keys at their defaults are left out, the warm-up's too.
        let wrapping = Wrapping {
            schedule: Some("cosineannealinglr:T_max=30,warmup_steps=5".parse().unwrap()),
            clip: Some("clip_grad_norm:max_norm=2".parse().unwrap()),
        };
        assert_eq!(
            wrapping.settings(),
            [
                ("clip".to_string(), "clip_grad_norm:max_norm=2".to_string()),
                (
                    "schedule".to_string(),
                    "cosineannealinglr:T_max=30,warmup_steps=5".to_string()
                )
            ]
        );
    }

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
            wrapping: Default::default(),
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
            wrapping: Default::default(),
        };
        // Step 1 lands on x = 1 − 2·0.5 = 0 exactly, where the gradient is infinite.
        let runs = race.run::<f64>(&Cusp).unwrap();
        assert_eq!(runs[0].diverged_at, Some(2));
        assert_eq!(runs[0].points.len(), 2);
        assert_eq!((runs[0].last().x, runs[0].last().y), (0.0, -3.0));
        assert_eq!(runs[0].last().loss, 9.0);
    }
}
