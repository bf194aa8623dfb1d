//! A cell's results over seeds: mean ± sd, median, steps to target, rank.

use super::jobs::{Plan, Record};
use super::problems::{Goal, Problem};

/// One optimizer's results on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The optimizer, without its rate.
    pub optimizer: String,
    /// The tuned rate.
    pub lr: f64,
    /// The final metric's mean over the seeds that did not diverge.
    pub mean: f64,
    /// Its sample standard deviation (0 for one seed).
    pub sd: f64,
    /// The median over every seed, a diverged one counting as worst.
    pub median: f64,
    /// The median over seeds of the first recorded step that reached the target
    /// (+∞ when half or more did not).
    pub steps_to_target: f64,
    /// Seeds that reached the target.
    pub reached: usize,
    /// Seeds that diverged.
    pub diverged: usize,
    /// 1 for the best median.
    pub rank: usize,
}

/// A cell's stored results.
pub(super) struct Cell {
    /// Seed 0 at every rate, by rate.
    pub tuning: Vec<Record>,
    /// Every seed at the tuned rate.
    pub seeds: Vec<Record>,
    /// The tuned rate.
    pub lr: f64,
}

pub(super) fn row(plan: &Plan, problem: &Problem, o: usize, cell: &Cell) -> Row {
    let goal = problem.goal();
    let worst = if goal == Goal::Maximize {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let finals: Vec<f64> = cell
        .seeds
        .iter()
        .filter_map(|r| r.curve.final_metric())
        .collect();
    let n = finals.len() as f64;
    let mean = finals.iter().sum::<f64>() / n;
    let sd = if finals.len() > 1 {
        (finals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let all: Vec<f64> = cell
        .seeds
        .iter()
        .map(|r| r.curve.final_metric().unwrap_or(worst))
        .collect();
    let hits: Vec<f64> = cell
        .seeds
        .iter()
        .map(|r| {
            r.curve
                .steps
                .iter()
                .zip(&r.curve.metric)
                .find(|(_, &v)| goal.reaches(v, problem.target))
                .map_or(f64::INFINITY, |(&s, _)| s as f64)
        })
        .collect();
    Row {
        optimizer: plan.label(o),
        lr: cell.lr,
        mean: if finals.is_empty() { f64::NAN } else { mean },
        sd: if finals.is_empty() { f64::NAN } else { sd },
        median: median(&all),
        steps_to_target: median(&hits),
        reached: hits.iter().filter(|h| h.is_finite()).count(),
        diverged: cell.seeds.len() - finals.len(),
        rank: 0,
    }
}

/// The lower median of `values` (no averaging, so ±∞ stay ±∞).
pub(super) fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Ranks rows by median (best first; equal medians share a rank), then by mean.
pub(super) fn rank(goal: Goal, mut rows: Vec<Row>) -> Vec<Row> {
    let key = |r: &Row| match goal {
        Goal::Minimize => r.median,
        Goal::Maximize => -r.median,
    };
    rows.sort_by(|a, b| key(a).total_cmp(&key(b)));
    for i in 0..rows.len() {
        rows[i].rank = if i > 0 && key(&rows[i]) == key(&rows[i - 1]) {
            rows[i - 1].rank
        } else {
            i + 1
        };
    }
    rows
}

/// A number to four significant digits, for tables.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}
