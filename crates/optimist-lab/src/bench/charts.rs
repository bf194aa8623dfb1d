//! The report's figures: learning curves with a min–max band over seeds, the
//! sensitivity to the learning rate, and the performance profile across problems.

use super::jobs::Plan;
use super::problems::{Goal, Problem};
use super::stats::{median, Cell, Row};
use crate::figure::{BandChart, BandSeries};
use crate::output::shortest;
use std::fmt::Write as _;

pub(super) fn curves(plan: &Plan, problem: &Problem, done: &[(usize, &Cell)]) -> BandChart {
    let series = done
        .iter()
        .map(|&(o, cell)| {
            let steps = problem.steps();
            let mut points = Vec::new();
            let mut band = Vec::new();
            for (k, &s) in steps.iter().enumerate() {
                let v: Vec<f64> = cell
                    .seeds
                    .iter()
                    .filter_map(|r| r.curve.metric.get(k).copied())
                    .collect();
                if v.is_empty() {
                    break;
                }
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                points.push((s as f64, median(&v)));
                band.push((s as f64, lo, hi));
            }
            BandSeries {
                name: plan.label(o),
                detail: format!("{}={}", plan.keys[o], shortest(cell.lr)),
                points,
                band,
                dots: false,
                best: None,
            }
        })
        .collect();
    BandChart {
        title: problem.spec.clone(),
        subtitle: format!(
            "median and min–max over {} seeds at the tuned rate",
            plan.suite.seeds
        ),
        x_title: "step".into(),
        y_title: problem.metric().into(),
        log_x: false,
        log_y: problem.goal() == Goal::Minimize,
        series,
    }
}

pub(super) fn sensitivity(plan: &Plan, problem: &Problem, done: &[(usize, &Cell)]) -> BandChart {
    let series = done
        .iter()
        .map(|&(o, cell)| {
            let points = cell
                .tuning
                .iter()
                .map(|r| (r.lr, r.curve.final_metric().unwrap_or(f64::NAN)))
                .collect();
            let best = cell
                .tuning
                .iter()
                .find(|r| r.lr == cell.lr)
                .and_then(|r| r.curve.final_metric())
                .map(|v| (cell.lr, v));
            BandSeries {
                name: plan.label(o),
                detail: format!("best {}={}", plan.keys[o], shortest(cell.lr)),
                points,
                band: Vec::new(),
                dots: true,
                best,
            }
        })
        .collect();
    BandChart {
        title: problem.spec.clone(),
        subtitle: format!("final metric on seed 0 after {} steps", problem.budget),
        x_title: "learning rate (log scale); a gap: the run diverged".into(),
        y_title: problem.metric().into(),
        log_x: true,
        log_y: problem.goal() == Goal::Minimize,
        series,
    }
}

/// The performance profile (Dolan & Moré, 2002) over steps to target: for each
/// optimizer, the fraction of problems it solves within τ times the best optimizer's
/// steps. Returns the table lines and the figure (none without a complete problem).
pub(super) fn profile(plan: &Plan, tables: &[(String, Vec<Row>)]) -> (String, Option<BandChart>) {
    let complete: Vec<&Vec<Row>> = tables
        .iter()
        .map(|(_, rows)| rows)
        .filter(|rows| rows.len() == plan.specs.len())
        .collect();
    if complete.is_empty() {
        return (String::new(), None);
    }
    let ratios: Vec<Vec<f64>> = (0..plan.specs.len())
        .map(|o| {
            let label = plan.label(o);
            complete
                .iter()
                .map(|rows| {
                    let best = rows
                        .iter()
                        .map(|r| r.steps_to_target)
                        .fold(f64::INFINITY, f64::min);
                    let mine = rows.iter().find(|r| r.optimizer == label);
                    // A run that is at the target at step 0 took no steps: ratio 1.
                    match mine.map(|r| r.steps_to_target) {
                        Some(t) if t.is_finite() => t.max(1.0) / best.max(1.0),
                        _ => f64::INFINITY,
                    }
                })
                .collect()
        })
        .collect();
    let n = complete.len() as f64;
    let finite_max = ratios
        .iter()
        .flatten()
        .copied()
        .filter(|r| r.is_finite())
        .fold(1.0, f64::max);
    let tau_max = (finite_max * 2.0).max(4.0);
    let mut table = String::from(
        "| optimizer | ρ(1): fastest | ρ(2) | ρ(4) | solved |\n|---|---:|---:|---:|---:|\n",
    );
    let series = ratios
        .iter()
        .enumerate()
        .map(|(o, r)| {
            let rho = |tau: f64| r.iter().filter(|&&x| x <= tau).count() as f64 / n;
            let _ = writeln!(
                table,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                plan.label(o),
                rho(1.0),
                rho(2.0),
                rho(4.0),
                rho(f64::MAX)
            );
            let mut taus: Vec<f64> = r.iter().copied().filter(|x| x.is_finite()).collect();
            taus.push(1.0);
            taus.push(tau_max);
            taus.sort_by(f64::total_cmp);
            taus.dedup();
            let mut points = Vec::new();
            let mut last = None;
            for &t in &taus {
                if let Some(prev) = last {
                    points.push((t, prev));
                }
                points.push((t, rho(t)));
                last = Some(rho(t));
            }
            BandSeries {
                name: plan.label(o),
                detail: format!(
                    "fastest on {:.0}%, solves {:.0}%",
                    100.0 * rho(1.0),
                    100.0 * rho(f64::MAX)
                ),
                points,
                band: Vec::new(),
                dots: false,
                best: None,
            }
        })
        .collect();
    let chart = BandChart {
        title: "performance profile".into(),
        subtitle: format!("steps to target over {} problems", complete.len()),
        x_title: "τ: within this factor of the fastest optimizer's steps (log scale)".into(),
        y_title: "fraction of problems".into(),
        log_x: true,
        log_y: false,
        series,
    };
    (table, Some(chart))
}
