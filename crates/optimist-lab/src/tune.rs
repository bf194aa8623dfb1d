//! Tuning: each optimizer's best learning rate on a landscape, for a fair comparison.
//!
//! For every optimizer, a log-spaced sweep over a range of learning rates, then a finer
//! sweep around the best of it. Each trial runs the optimizer from the start for the
//! given steps and is scored by its final loss or, where the landscape's minima are
//! known, its final distance to the nearest one. A trial fails, and scores +∞, if it
//! diverges or ends outside the plotting window (unless the start is outside too): on a
//! landscape unbounded below, such as a saddle, the lowest loss is otherwise the one
//! thrown farthest away.
//! Trials run in parallel on rayon's threads; every trial is its own optimizer, so the
//! result does not depend on the number of threads.

use crate::landscape::Landscape;
use crate::output::shortest;
use crate::race::{drive, Point, Wrapping};
use optimist::engine::LEARNING_RATE_KEYS;
use optimist::hyper::Value;
use optimist::{registry, Convention, Spec};
use rayon::prelude::*;
use std::fmt::Write as _;

/// What a trial is scored by (lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// f at the last position.
    Loss,
    /// The distance from the last position to the nearest known minimum.
    Distance,
}

impl Score {
    /// Every score, in the order listed in messages.
    pub const ALL: [Score; 2] = [Score::Loss, Score::Distance];

    /// The name used on the command line: `loss` or `distance`.
    pub fn name(self) -> &'static str {
        match self {
            Score::Loss => "loss",
            Score::Distance => "distance",
        }
    }

    /// In words, for tables and figures.
    pub fn describe(self) -> &'static str {
        match self {
            Score::Loss => "final loss",
            Score::Distance => "final distance to the nearest minimum",
        }
    }

    /// Distance where the landscape's minima are known, else loss.
    pub fn default_for(landscape: &dyn Landscape) -> Score {
        if landscape.minima().is_empty() {
            Score::Loss
        } else {
            Score::Distance
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Score {
    type Err = String;

    /// `loss` or `distance`.
    fn from_str(text: &str) -> Result<Score, String> {
        Score::ALL
            .into_iter()
            .find(|s| s.name() == text.trim())
            .ok_or_else(|| format!("unknown score '{text}'; expected loss or distance"))
    }
}

/// Which learning rates are tried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// The smallest rate of the first sweep.
    pub lr_min: f64,
    /// The largest rate of the first sweep.
    pub lr_max: f64,
    /// Rates of the first sweep, log-spaced from `lr_min` to `lr_max` (at least 2).
    pub coarse: usize,
    /// Rates of the second sweep, log-spaced between the neighbours of the first
    /// sweep's best (0 for none).
    pub refine: usize,
}

impl Default for Search {
    /// 30 rates from 1e-6 to 10, then 20 around the best: 50 trials per optimizer.
    fn default() -> Search {
        Search {
            lr_min: 1e-6,
            lr_max: 10.0,
            coarse: 30,
            refine: 20,
        }
    }
}

/// The smallest ratio MAX / MIN of a searched range of learning rates.
pub const MIN_RANGE_RATIO: f64 = 1.01;

/// The most trials per optimizer: bounds the work and the memory of one tuning.
pub const MAX_TRIALS: usize = 10_000;

impl Search {
    /// Trials per optimizer.
    pub fn trials(&self) -> usize {
        self.coarse + self.refine
    }

    /// Checks that the range is a finite, positive interval and the counts make sense.
    pub fn check(&self) -> Result<(), TuneError> {
        let ok = self.lr_min.is_finite()
            && self.lr_max.is_finite()
            && self.lr_min > 0.0
            && self.lr_min < self.lr_max;
        if !ok {
            return Err(TuneError::BadRange {
                min: self.lr_min,
                max: self.lr_max,
            });
        }
        // The rates are kept to four significant digits and plotted on a log axis: a
        // narrower range has no distinct rates to try.
        if self.lr_max < self.lr_min * MIN_RANGE_RATIO {
            return Err(TuneError::NarrowRange {
                min: self.lr_min,
                max: self.lr_max,
            });
        }
        if self.coarse < 2 || self.trials() > MAX_TRIALS {
            return Err(TuneError::BadCount {
                coarse: self.coarse,
                refine: self.refine,
            });
        }
        Ok(())
    }

    /// The first sweep's rates, from `lr_min` to `lr_max`, each a constant ratio
    /// ([`Search::ratio`]) above the last, to four significant digits.
    pub fn coarse_rates(&self) -> Vec<f64> {
        let ratio = self.ratio();
        (0..self.coarse)
            .map(|k| {
                if k == 0 {
                    self.lr_min
                } else if k + 1 == self.coarse {
                    self.lr_max
                } else {
                    round_rate(self.lr_min * ratio.powi(k as i32))
                }
            })
            .collect()
    }

    /// The ratio between neighbouring rates of the first sweep.
    pub fn ratio(&self) -> f64 {
        (self.lr_max / self.lr_min).powf(1.0 / (self.coarse - 1) as f64)
    }

    /// The second sweep's rates: log-spaced strictly between `best / ratio` and
    /// `best · ratio` (the first sweep's neighbours of its best), half below `best` and
    /// half above, to four significant digits.
    pub fn refine_rates(&self, best: f64) -> Vec<f64> {
        let ln = self.ratio().ln();
        let below = self.refine / 2;
        let above = self.refine - below;
        let down = (1..=below).rev().map(|k| -(k as f64) / (below + 1) as f64);
        let up = (1..=above).map(|k| k as f64 / (above + 1) as f64);
        down.chain(up)
            .map(|t| round_rate(best * (t * ln).exp()))
            .collect()
    }
}

/// `lr` to four significant digits: rates that read well in tables and titles, and
/// that the race runs exactly as tuned.
fn round_rate(lr: f64) -> f64 {
    format!("{lr:.3e}").parse().unwrap_or(lr)
}

/// How to tune: from where, for how long, scored how, over which rates.
#[derive(Debug, Clone, PartialEq)]
pub struct Tune {
    /// The start (x, y) of every trial.
    pub start: (f64, f64),
    /// Updates per trial.
    pub steps: usize,
    /// What a trial is scored by.
    pub score: Score,
    /// Which rates are tried.
    pub search: Search,
    /// Whose meaning the optimizer names have.
    pub convention: Convention,
    /// A schedule and clipping for every trial's optimizer (the rate tuned is the
    /// schedule's base rate).
    pub wrapping: Wrapping,
}

impl Tune {
    /// Tuning from the landscape's classic start for `steps` updates, with its default
    /// score and the default search.
    pub fn new(landscape: &dyn Landscape, steps: usize) -> Tune {
        Tune {
            start: landscape.start(),
            steps,
            score: Score::default_for(landscape),
            search: Search::default(),
            convention: Convention::Article,
            wrapping: Wrapping::default(),
        }
    }
}

/// One run at one learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The learning rate.
    pub lr: f64,
    /// The score: lower is better, +∞ for a run that failed (diverged or left).
    pub score: f64,
    /// The last finite position.
    pub last: Point,
    /// Its distance to the nearest known minimum, if any is known.
    pub distance: Option<f64>,
    /// The step whose position, loss or gradient was not finite, if the run diverged.
    pub diverged_at: Option<usize>,
    /// Whether the run ended outside the plotting window (from a start inside it).
    pub outside: bool,
    /// Whether the rate came from the second sweep.
    pub refined: bool,
}

impl Trial {
    /// Whether the run diverged or ended outside the window: its score is +∞.
    pub fn failed(&self) -> bool {
        self.diverged_at.is_some() || self.outside
    }
}

/// One optimizer's tuning: every trial, and the best.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The optimizer as given; its learning rate, if set, is replaced in every trial.
    pub spec: Spec,
    /// The key its learning rate goes by: `lr` or `learning_rate`.
    pub key: String,
    /// Every trial, by increasing learning rate.
    pub trials: Vec<Trial>,
    /// The index in `trials` of the best.
    pub best: usize,
    /// Whether the first sweep's best was its smallest or largest rate: the best rate
    /// may lie outside the range searched.
    pub at_edge: bool,
}

impl Tuned {
    /// The best trial (the one with the lowest score; among equal scores, the middle
    /// rate, the one farthest from the rates that do worse).
    pub fn best(&self) -> &Trial {
        &self.trials[self.best]
    }

    /// Whether every trial failed (the best is then the middle rate).
    pub fn all_failed(&self) -> bool {
        self.trials.iter().all(Trial::failed)
    }

    /// The spec with the best learning rate: what the race then runs.
    pub fn tuned_spec(&self) -> Spec {
        with_rate(&self.spec, &self.key, self.best().lr)
    }

    /// The spec without its learning rate, e.g. `adam` or `rmsprop:decay_rate=0.9`:
    /// what was tuned.
    pub fn label(&self) -> String {
        let mut spec = self.spec.clone();
        spec.values.retain(|(k, _)| *k != self.key);
        spec.to_string()
    }
}

/// Every optimizer's tuning, with what it was tuned for.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// The landscape's formula.
    pub formula: String,
    /// How it was tuned.
    pub config: Tune,
    /// One per optimizer, in the order given.
    pub results: Vec<Tuned>,
}

/// Why tuning could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TuneError {
    /// Distance asked for on a landscape whose minima are not known.
    #[error("the landscape {0} has no known minimum to measure a distance to; score by the final loss instead (--score loss)")]
    NoMinima(String),
    /// A range of learning rates that is not a finite interval of positive numbers.
    #[error(
        "the learning rates {min} to {max} are not a range: expected 0 < MIN < MAX, both finite"
    )]
    BadRange {
        /// The smallest rate given.
        min: f64,
        /// The largest rate given.
        max: f64,
    },
    /// A range with too few distinct rates in it.
    #[error(
        "the learning rates {} to {} are too close to search between: MAX must be at least {MIN_RANGE_RATIO} × MIN", crate::text::number(*min), crate::text::number(*max)
    )]
    NarrowRange {
        /// The smallest rate given.
        min: f64,
        /// The largest rate given.
        max: f64,
    },
    /// Too few or too many trials.
    #[error("{coarse} + {refine} trials per optimizer: expected at least 2 in the first sweep and at most {MAX_TRIALS} in all")]
    BadCount {
        /// Rates of the first sweep.
        coarse: usize,
        /// Rates of the second sweep.
        refine: usize,
    },
    /// Nothing to tune.
    #[error("no optimizer to tune")]
    NoOptimizers,
    /// An optimizer without a learning rate.
    #[error("{0} has no learning rate (lr or learning_rate) to tune")]
    NoLearningRate(String),
    /// A start where f or its gradient is not finite.
    #[error("f or its gradient is not finite at the start ({x}, {y})")]
    BadStart {
        /// x of the start.
        x: f64,
        /// y of the start.
        y: f64,
    },
    /// An optimizer that could not be built or refused a step.
    #[error(transparent)]
    Optimizer(#[from] optimist::Error),
}

/// `spec` with `key` set to `lr`, written so that it reads back to the same number.
pub fn with_rate(spec: &Spec, key: &str, lr: f64) -> Spec {
    let mut spec = spec.clone();
    let text = shortest(lr);
    match spec.values.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = text,
        None => spec.values.push((key.to_string(), text)),
    }
    spec
}

/// The key `spec`'s optimizer calls its learning rate; building it checks the spec.
pub fn rate_key(spec: &Spec, convention: Convention) -> Result<String, TuneError> {
    let opt = registry::build_in::<f64>(spec, convention)?;
    opt.hyperparameters()
        .into_iter()
        .find(|(k, v)| LEARNING_RATE_KEYS.contains(k) && matches!(v, Value::Num(_)))
        .map(|(k, _)| k.to_string())
        .ok_or_else(|| TuneError::NoLearningRate(spec.name.clone()))
}

/// One trial: `spec` at rate `lr` from the start for the steps, scored.
fn trial(
    landscape: &dyn Landscape,
    spec: &Spec,
    key: &str,
    lr: f64,
    refined: bool,
    config: &Tune,
) -> Result<Trial, TuneError> {
    let opt = registry::build_in::<f64>(&with_rate(spec, key, lr), config.convention)?;
    let mut opt = config.wrapping.wrap(opt)?;
    let mut last = None;
    let diverged_at = drive(opt.as_mut(), landscape, config.start, config.steps, |p| {
        last = Some(p)
    })?;
    let (x, y) = config.start;
    let last = last.ok_or(TuneError::BadStart { x, y })?;
    let distance = landscape
        .minima()
        .iter()
        .map(|&(mx, my)| (last.x - mx).hypot(last.y - my))
        .reduce(f64::min);
    let window = landscape.window();
    let outside =
        diverged_at.is_none() && window.contains(x, y) && !window.contains(last.x, last.y);
    let score = match (diverged_at.is_some() || outside, config.score) {
        (true, _) => f64::INFINITY,
        (false, Score::Loss) => last.loss,
        (false, Score::Distance) => distance.unwrap_or(f64::INFINITY),
    };
    Ok(Trial {
        lr,
        // NaN never wins.
        score: if score.is_nan() { f64::INFINITY } else { score },
        last,
        distance,
        diverged_at,
        outside,
        refined,
    })
}

/// The index of the best trial in `trials` (sorted by rate): the lowest score; among
/// equal lowest scores, the middle one.
fn best_index(trials: &[Trial]) -> usize {
    let lowest = trials.iter().map(|t| t.score).fold(f64::INFINITY, f64::min);
    let tied: Vec<usize> = (0..trials.len())
        .filter(|&i| trials[i].score == lowest)
        .collect();
    tied[(tied.len() - 1) / 2]
}

/// Tunes each of `specs` on `landscape` as `config` says, calling `progress` after
/// every trial (from any thread). Every spec is built first, so a bad one fails before
/// any trial runs.
pub fn tune(
    landscape: &dyn Landscape,
    specs: &[Spec],
    config: &Tune,
    progress: &(dyn Fn() + Sync),
) -> Result<Tuning, TuneError> {
    config.search.check()?;
    if specs.is_empty() {
        return Err(TuneError::NoOptimizers);
    }
    if config.score == Score::Distance && landscape.minima().is_empty() {
        return Err(TuneError::NoMinima(landscape.formula().to_string()));
    }
    let (x, y) = config.start;
    let (gx, gy) = landscape.gradient(x, y);
    if ![x, y, landscape.value(x, y), gx, gy]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err(TuneError::BadStart { x, y });
    }
    let keys: Vec<String> = specs
        .iter()
        .map(|s| rate_key(s, config.convention))
        .collect::<Result<_, _>>()?;

    let sweep =
        |jobs: Vec<(usize, f64)>, refined: bool| -> Result<Vec<(usize, Trial)>, TuneError> {
            jobs.into_par_iter()
                .map(|(i, lr)| {
                    let t = trial(landscape, &specs[i], &keys[i], lr, refined, config);
                    progress();
                    t.map(|t| (i, t))
                })
                .collect()
        };
    let coarse = config.search.coarse_rates();
    let jobs = (0..specs.len())
        .flat_map(|i| coarse.iter().map(move |&lr| (i, lr)))
        .collect();
    let mut trials: Vec<Vec<Trial>> = vec![Vec::new(); specs.len()];
    for (i, t) in sweep(jobs, false)? {
        trials[i].push(t);
    }
    let first_best: Vec<usize> = trials.iter().map(|t| best_index(t)).collect();
    let jobs = (0..specs.len())
        .flat_map(|i| {
            let best = trials[i][first_best[i]].lr;
            config
                .search
                .refine_rates(best)
                .into_iter()
                .map(move |lr| (i, lr))
        })
        .collect();
    for (i, t) in sweep(jobs, true)? {
        trials[i].push(t);
    }

    let results = specs
        .iter()
        .zip(keys)
        .zip(trials)
        .zip(first_best)
        .map(|(((spec, key), mut trials), first)| {
            trials.sort_by(|a, b| a.lr.total_cmp(&b.lr));
            Tuned {
                spec: spec.clone(),
                key,
                best: best_index(&trials),
                trials,
                at_edge: first == 0 || first + 1 == config.search.coarse,
            }
        })
        .collect();
    Ok(Tuning {
        formula: landscape.formula().to_string(),
        config: config.clone(),
        results,
    })
}

/// Every trial as CSV: `optimizer,lr,score,final_x,final_y,final_loss,final_distance,
/// diverged_at,outside,best`, the optimizer as [`Tuned::label`], an empty field where
/// there is no value.
pub fn tuning_csv(tuning: &Tuning) -> String {
    let mut out = String::from(
        "optimizer,lr,score,final_x,final_y,final_loss,final_distance,diverged_at,outside,best\n",
    );
    for tuned in &tuning.results {
        // The label may hold commas (rmsprop:lr=...,decay_rate=...): quoted.
        let label = tuned.label();
        let label = if label.contains(',') {
            format!("\"{label}\"")
        } else {
            label
        };
        for (i, t) in tuned.trials.iter().enumerate() {
            let _ = writeln!(
                out,
                "{label},{},{},{},{},{},{},{},{},{}",
                shortest(t.lr),
                shortest(t.score),
                shortest(t.last.x),
                shortest(t.last.y),
                shortest(t.last.loss),
                t.distance.map(shortest).unwrap_or_default(),
                t.diverged_at.map(|k| k.to_string()).unwrap_or_default(),
                t.outside,
                i == tuned.best
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::{article, builtin};
    use crate::race::Race;

    fn specs(names: &[&str]) -> Vec<Spec> {
        names.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn ranges_too_narrow_to_search_are_refused() {
        for (lo, hi) in [
            (1.0, 1.0000000000000002),
            (1e-4, 1.0001e-4),
            (1e10, 1.001e10),
        ] {
            let search = Search {
                lr_min: lo,
                lr_max: hi,
                ..Search::default()
            };
            let e = search.check().unwrap_err().to_string();
            assert!(e.contains("too close to search between"), "{e}");
        }
        let ok = Search {
            lr_min: 1.0,
            lr_max: 1.01,
            ..Search::default()
        };
        assert!(ok.check().is_ok());
    }

    #[test]
    fn rates_are_log_spaced_and_refined_around_the_best() {
        let s = Search::default();
        let rates = s.coarse_rates();
        assert_eq!(rates.len(), 30);
        assert_eq!((rates[0], rates[29]), (1e-6, 10.0));
        for pair in rates.windows(2) {
            assert!((pair[1] / pair[0] / s.ratio() - 1.0).abs() < 1e-3);
        }
        assert_eq!(rates[1], 1.743e-6, "four significant digits");
        let fine = s.refine_rates(rates[10]);
        assert_eq!(fine.len(), 20);
        assert!(fine.windows(2).all(|p| p[0] < p[1]));
        assert!(fine[0] > rates[9] && fine[19] < rates[11]);
        assert!(!fine.contains(&rates[10]));
        let odd = Search { refine: 3, ..s }.refine_rates(1.0);
        assert_eq!(odd.len(), 3);
        assert!(odd[0] < 1.0 && odd[1] > 1.0 && odd[2] > odd[1]);
        assert!(Search { coarse: 1, ..s }.check().is_err());
        assert!(Search { lr_min: 0.0, ..s }.check().is_err());
        assert!(Search {
            lr_min: 1.0,
            lr_max: 1.0,
            ..s
        }
        .check()
        .is_err());
        assert!(Search {
            lr_max: f64::INFINITY,
            ..s
        }
        .check()
        .is_err());
        assert!(Search {
            refine: MAX_TRIALS,
            ..s
        }
        .check()
        .is_err());
    }

    /// SGD on x²/20 + y² from (−7, 2): a step scales y by (1 − 2·lr), so rates of 1 or
    /// more cannot shrink it, and the best rate balances x's slow decay (1 − lr/10)
    /// against y's.
    #[test]
    fn sgd_on_the_article_tunes_to_a_known_rate() {
        let f = article();
        let config = Tune {
            score: Score::Loss,
            ..Tune::new(&f, 30)
        };
        let counted = std::sync::atomic::AtomicUsize::new(0);
        let tuning = tune(&f, &specs(&["sgd", "adam:beta1=0.8"]), &config, &|| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(counted.into_inner(), 100);
        let sgd = &tuning.results[0];
        assert_eq!(sgd.trials.len(), 50);
        assert_eq!(sgd.key, "lr");
        assert!(sgd.trials.windows(2).all(|p| p[0].lr < p[1].lr));
        let best = sgd.best();
        // After 30 steps: x = −7(1 − lr/10)³⁰, y = 2(1 − 2lr)³⁰; the loss is lowest
        // near lr = 0.95, as the article chose.
        let loss = |lr: f64| {
            let x = -7.0 * (1.0 - lr / 10.0f64).powi(30);
            let y = 2.0 * (1.0 - 2.0 * lr).powi(30);
            x * x / 20.0 + y * y
        };
        assert!((best.last.loss - loss(best.lr)).abs() < 1e-12 * loss(best.lr));
        assert!((0.9..1.0).contains(&best.lr), "{}", best.lr);
        for t in &sgd.trials {
            assert!(t.score >= best.score);
            if t.diverged_at.is_none() {
                assert!((t.last.loss - loss(t.lr)).abs() <= 1e-9 * loss(t.lr).max(1e-300));
            }
        }
        // lr = 10 multiplies y by −19 each step: after 30 steps y ≈ 4e38, finite but
        // outside the window, a failure.
        let worst = sgd.trials.last().unwrap();
        assert!(worst.outside && worst.diverged_at.is_none() && worst.score == f64::INFINITY);
        assert!(!sgd.at_edge);
        assert_eq!(tuning.results[1].label(), "adam:beta1=0.8");
        assert_eq!(
            sgd.tuned_spec().to_string(),
            format!("sgd:lr={}", shortest(best.lr))
        );
    }

    /// On x² − y², unbounded below, the lowest loss would be the run thrown farthest:
    /// runs that end outside the window fail instead.
    #[test]
    fn on_a_saddle_the_best_run_stays_in_the_window() {
        let f = builtin("saddle").unwrap();
        let config = Tune::new(&f, 50);
        assert_eq!(config.score, Score::Loss);
        let tuning = tune(&f, &specs(&["sgd", "adam"]), &config, &|| {}).unwrap();
        for tuned in &tuning.results {
            let best = tuned.best();
            assert!(f.window().contains(best.last.x, best.last.y));
            assert_eq!(best.score, best.last.loss);
            assert!(best.last.loss < 0.0, "it escaped along y");
            let left = tuned.trials.iter().filter(|t| t.outside).count();
            assert!(left > 0, "{}: large rates leave the window", tuned.label());
            for t in tuned.trials.iter().filter(|t| t.outside) {
                assert!(!f.window().contains(t.last.x, t.last.y) && t.failed());
                assert_eq!(t.score, f64::INFINITY);
            }
        }
    }

    #[test]
    fn the_race_reproduces_the_tuned_trial() {
        let f = builtin("rosenbrock").unwrap();
        let config = Tune::new(&f, 200);
        assert_eq!(config.score, Score::Distance);
        let names = ["sgd", "momentum", "adam", "rmsprop:decay_rate=0.9"];
        let tuning = tune(&f, &specs(&names), &config, &|| {}).unwrap();
        let race = Race {
            start: config.start,
            steps: 200,
            optimizers: tuning.results.iter().map(Tuned::tuned_spec).collect(),
            convention: Convention::Article,
            wrapping: Default::default(),
        };
        let runs = race.run::<f64>(&f).unwrap();
        for (run, tuned) in runs.iter().zip(&tuning.results) {
            let best = tuned.best();
            assert_eq!(run.last(), best.last, "{}", tuned.label());
            assert_eq!(run.diverged_at, best.diverged_at);
            assert_eq!(
                best.distance,
                Some((best.last.x - 1.0).hypot(best.last.y - 1.0))
            );
            assert_eq!(best.score, best.distance.unwrap());
            // Tuned, each gets closer to (1, 1) than from where it started.
            assert!(
                best.score < (-2.0f64 - 1.0).hypot(2.0 - 1.0),
                "{}",
                tuned.label()
            );
        }
        assert_eq!(tuning.results[3].label(), "rmsprop:decay_rate=0.9");
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let f = builtin("beale").unwrap();
        let config = Tune::new(&f, 100);
        let names = specs(&["adagrad", "nesterov"]);
        let many = tune(&f, &names, &config, &|| {}).unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| tune(&f, &names, &config, &|| {}))
            .unwrap();
        assert_eq!(many, one);
    }

    #[test]
    fn ties_take_the_middle_and_divergence_never_wins() {
        let at = |lr: f64, score: f64| Trial {
            lr,
            score,
            last: Point {
                step: 0,
                x: 0.0,
                y: 0.0,
                loss: 0.0,
            },
            distance: None,
            diverged_at: score.is_infinite().then_some(3),
            outside: false,
            refined: false,
        };
        let trials = [
            at(0.1, 2.0),
            at(0.2, 0.0),
            at(0.3, 0.0),
            at(0.4, 0.0),
            at(0.5, f64::INFINITY),
        ];
        assert_eq!(best_index(&trials), 2);
        assert_eq!(best_index(&trials[..3]), 1);
        assert_eq!(
            best_index(&[at(1.0, f64::INFINITY), at(2.0, f64::INFINITY)]),
            0
        );
    }

    #[test]
    fn bad_requests_are_errors() {
        let saddle = builtin("saddle").unwrap();
        let config = Tune {
            score: Score::Distance,
            ..Tune::new(&saddle, 10)
        };
        assert_eq!(Score::default_for(&saddle), Score::Loss);
        let e = tune(&saddle, &specs(&["sgd"]), &config, &|| {}).unwrap_err();
        assert!(e.to_string().contains("no known minimum"), "{e}");
        let f = article();
        let config = Tune::new(&f, 10);
        let e = tune(&f, &specs(&["sgd", "adamm"]), &config, &|| {}).unwrap_err();
        assert!(e.to_string().contains("unknown optimizer 'adamm'"), "{e}");
        assert_eq!(
            tune(&f, &[], &config, &|| {}).unwrap_err(),
            TuneError::NoOptimizers
        );
        let far = Tune {
            start: (f64::NAN, 0.0),
            ..config
        };
        assert!(matches!(
            tune(&f, &specs(&["sgd"]), &far, &|| {}),
            Err(TuneError::BadStart { .. })
        ));
        assert_eq!("distance".parse(), Ok(Score::Distance));
        assert!("lost"
            .parse::<Score>()
            .unwrap_err()
            .contains("loss or distance"));
    }

    #[test]
    fn the_csv_has_a_row_per_trial() {
        let f = article();
        let config = Tune {
            search: Search {
                coarse: 4,
                refine: 2,
                ..Search::default()
            },
            ..Tune::new(&f, 5)
        };
        let tuning = tune(
            &f,
            &specs(&["sgd", "adam:beta1=0.8,beta2=0.99"]),
            &config,
            &|| {},
        )
        .unwrap();
        let csv = tuning_csv(&tuning);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 12);
        assert!(lines[1].starts_with("sgd,1e-6,"), "{}", lines[1]);
        assert!(lines[7].starts_with("\"adam:beta1=0.8,beta2=0.99\",1e-6,"));
        assert!(lines[2].starts_with("sgd,"), "sgd:lr=... is labelled sgd");
        assert_eq!(lines.iter().filter(|l| l.ends_with(",true")).count(), 2);
        // lr = 10 multiplies y by −19 each step: finite after 5 steps, but far outside
        // the window, so it fails (score +∞) with its distance still written.
        let last = lines[6].split(',').collect::<Vec<_>>();
        assert_eq!(last[1], "10.0");
        assert_eq!((last[2], last[7], last[8]), ("inf", "", "true"));
        assert!(last[6].parse::<f64>().unwrap() > 1e5);
    }
}
