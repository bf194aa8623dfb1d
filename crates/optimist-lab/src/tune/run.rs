//! The trials: each optimizer run from the start at every rate of the sweep, in
//! parallel, scored, and the best kept.

use super::error::TuneError;
use super::search::{round_rate, Score, Search};
use crate::landscape::Landscape;
use crate::output::shortest;
use crate::race::{drive, split_label, Point, Wrapping};
use crate::text::number;
use optimist::engine::LEARNING_RATE_KEYS;
use optimist::hyper::Value;
use optimist::{registry, Convention, Spec};
use rayon::prelude::*;

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

    /// When the first sweep's best was at an end of `search`'s range, a note saying
    /// so, with the best rate found and a range shifted two decades that way to try.
    pub fn edge_note(&self, search: &Search) -> Option<String> {
        if !self.at_edge || self.all_failed() {
            return None;
        }
        let lr = self.best().lr;
        let high = lr * lr > search.lr_min * search.lr_max;
        let (side, factor) = if high {
            ("top", 100.0)
        } else {
            ("bottom", 0.01)
        };
        Some(format!(
            "best rate {} at the {side} of the range {} to {}{}; try --lr-range {},{}",
            number(lr),
            number(search.lr_min),
            number(search.lr_max),
            if lr > search.lr_max || lr < search.lr_min {
                ", outside it"
            } else {
                ""
            },
            number(round_rate(search.lr_min * factor)),
            number(round_rate(search.lr_max * factor))
        ))
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
    /// The lowest loss at the landscape's known minima, if it has any.
    pub min_loss: Option<f64>,
}

/// How far apart two metrics must be, as a ratio of excess over the minimum, for the
/// table to say that distance and loss disagree.
pub const DISAGREEMENT_RATIO: f64 = 10.0;

impl Tuning {
    /// Per optimizer, a note when the score ranks it above another optimizer whose
    /// other metric is far better (by [`DISAGREEMENT_RATIO`]): with distance scoring,
    /// an SGD that ends on a ridge of Rastrigin near the minimum (f = 28.8) beats an
    /// AdaGrad in a shallow pit farther off (f = 0.995). Only where minima are known
    /// (distance is then measured).
    pub fn disagreements(&self) -> Vec<Option<String>> {
        let metrics: Vec<Option<(f64, f64)>> = self
            .results
            .iter()
            .map(|t| {
                let best = t.best();
                let loss = best.last.loss - self.min_loss?;
                (!t.all_failed() && loss.is_finite()).then_some((best.distance?, loss.max(0.0)))
            })
            .collect();
        let (scored, other) = match self.config.score {
            Score::Distance => ("closer to a minimum", "f − f*"),
            Score::Loss => ("lower in loss", "distance"),
        };
        let order = |(d, l): (f64, f64)| match self.config.score {
            Score::Distance => (d, l),
            Score::Loss => (l, d),
        };
        metrics
            .iter()
            .map(|m| {
                let (primary, secondary) = order((*m)?);
                let (j, (_, theirs)) = metrics
                    .iter()
                    .enumerate()
                    .filter_map(|(j, n)| Some((j, order((*n)?))))
                    .filter(|&(_, (p, s))| {
                        primary < p && secondary > DISAGREEMENT_RATIO * s + 1e-9
                    })
                    .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
                Some(format!(
                    "{scored} than {}, but its {other} is {} against {}'s {}; --score {} ranks them the other way",
                    self.results[j].label(),
                    number(round_rate(secondary)),
                    self.results[j].label(),
                    number(round_rate(theirs)),
                    match self.config.score {
                        Score::Distance => "loss",
                        Score::Loss => "distance",
                    }
                ))
            })
            .collect()
    }
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
    let opt = registry::build_in::<f64>(&split_label(spec)?.0, convention)?;
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
    let spec = split_label(&with_rate(spec, key, lr))?.0;
    let opt = registry::build_in::<f64>(&spec, config.convention)?;
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

/// The index of the best trial in `trials` (sorted by rate), chosen robustly: each
/// trial counts by the median score of itself and its neighbouring rates (the larger
/// of two at either end), so that one lucky rate among bad ones does not win; among
/// equal medians, the lowest own score; among those, the middle one.
fn best_index(trials: &[Trial]) -> usize {
    let score = |i: usize| trials[i].score;
    let smoothed: Vec<f64> = (0..trials.len())
        .map(|i| {
            let mut near: Vec<f64> = (i.saturating_sub(1)..(i + 2).min(trials.len()))
                .map(score)
                .collect();
            near.sort_by(f64::total_cmp);
            near[near.len() / 2]
        })
        .collect();
    let lowest = smoothed.iter().copied().fold(f64::INFINITY, f64::min);
    let candidates: Vec<usize> = (0..trials.len())
        .filter(|&i| smoothed[i] == lowest)
        .collect();
    let own = candidates
        .iter()
        .map(|&i| score(i))
        .fold(f64::INFINITY, f64::min);
    let tied: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| score(i) == own)
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
    let min_loss = landscape
        .minima()
        .iter()
        .map(|&(x, y)| landscape.value(x, y))
        .reduce(f64::min);
    Ok(Tuning {
        formula: landscape.formula().to_string(),
        config: config.clone(),
        results,
        min_loss,
    })
}

#[cfg(test)]
mod tests;
