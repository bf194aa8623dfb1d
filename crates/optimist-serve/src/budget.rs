//! The work a request asks for, counted before any is done, so that a request over
//! the budget is refused at once (400, saying the limit) instead of running until its
//! deadline. Work is counted in units of one operation of a formula (about 8 ns on
//! one core): a step costs what one evaluation of f and its gradient does (the
//! formula's operations: 5 for `x^2`, 673 for a sum of 40 terms `sin(x/k)*cos(y/k)`;
//! [`BUILTIN_COST`] for a built-in) plus [`UPDATE_COST`] for the optimizer's update
//! and the point recorded; drawing costs [`DRAW_COST`] per point of a PNG or SVG and
//! [`FRAME_COST`] per point and trail of an animation (each frame redraws every trail
//! under a new stretch). The animation's cost depends on where the trails go (long
//! jumps across the plot cost up to 50 times what a trail settling in a valley does);
//! it is counted for a typical race, and the deadline stops the rest.

use crate::ApiError;

/// What one evaluation of a built-in landscape's value and gradient costs.
pub const BUILTIN_COST: u64 = 5;

/// What one optimizer update, and recording its point, costs beside the landscape.
pub const UPDATE_COST: u64 = 25;

/// What one point of a PNG or SVG figure costs to draw.
pub const DRAW_COST: u64 = 200;

/// What one point of an animation costs to draw, per trail drawn.
pub const FRAME_COST: u64 = 500;

/// The default budget of a race or export, about 2.5 s of one core: the largest race
/// on a built-in ([`MAX_OPTIMIZERS`](crate::MAX_OPTIMIZERS) ×
/// [`MAX_STEPS`](crate::MAX_STEPS)) fits, its PNG and SVG up to half as many steps,
/// its animation up to 1,495 steps; on a 40-term formula, 400,000 updates in all.
pub const MAX_WORK: u64 = 300_000_000;

/// The default budget of one tuning, about 5 s of one core (tuning runs on every
/// core): 20 million updates on a built-in, as many as a search was allowed before
/// budgets, and 850,000 on a 40-term formula.
pub const MAX_TUNE_WORK: u64 = 600_000_000;

/// What a race's output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// The trajectories (JSON or CSV).
    Runs,
    /// An overlay figure.
    Figure,
    /// The animation.
    Animation,
}

/// Saturating products: a sum of parts, each described.
fn total(parts: &[(u64, String)]) -> u64 {
    parts.iter().fold(0u64, |a, (n, _)| a.saturating_add(*n))
}

/// What a race is: runs of so many steps, each step costing so much.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    /// Optimizers raced (or tuned).
    pub optimizers: usize,
    /// Updates per run.
    pub steps: usize,
    /// One evaluation of the landscape's value and gradient.
    pub step_cost: u64,
}

/// `(count, what)` for the steps of `runs` runs.
fn steps_part(size: Size, runs: u64) -> (u64, String) {
    let step = size.step_cost + UPDATE_COST;
    let steps = size.steps as u64;
    (
        runs.saturating_mul(steps).saturating_mul(step),
        format!(
            "{runs} run(s) × {steps} steps × {step} per step ({} for f and its gradient, {UPDATE_COST} for the update)",
            size.step_cost
        ),
    )
}

/// Refuses `parts` over `budget`.
fn refuse(what: &str, parts: &[(u64, String)], budget: u64, fewer: &str) -> Result<(), ApiError> {
    let work = total(parts);
    if work <= budget {
        return Ok(());
    }
    let list: Vec<&str> = parts.iter().map(|(_, s)| s.as_str()).collect();
    Err(ApiError::bad(format!(
        "{what} is {work} units of work ({}); at most {budget} here: ask for {fewer}",
        list.join(" + ")
    )))
}

/// Refuses a race, and its figure, over `budget`.
pub(crate) fn race(size: Size, output: Output, budget: u64) -> Result<(), ApiError> {
    let runs = size.optimizers as u64;
    let points = runs.saturating_mul(size.steps as u64 + 1);
    let mut parts = vec![steps_part(size, runs)];
    match output {
        Output::Runs => {}
        Output::Figure => parts.push((
            points.saturating_mul(DRAW_COST),
            format!("{points} points × {DRAW_COST} to draw"),
        )),
        Output::Animation => parts.push((
            points.saturating_mul(runs).saturating_mul(FRAME_COST),
            format!("{points} points × {runs} trail(s) × {FRAME_COST} to animate"),
        )),
    }
    let what = match output {
        Output::Runs => "this race",
        Output::Figure => "this figure",
        Output::Animation => "this animation",
    };
    refuse(
        what,
        &parts,
        budget,
        "fewer steps or optimizers, or a shorter formula",
    )
}

/// Refuses a tuning of `trials` rates per optimizer over `budget`.
pub(crate) fn tune(size: Size, trials: usize, budget: u64) -> Result<(), ApiError> {
    let runs = (size.optimizers as u64).saturating_mul(trials as u64);
    refuse(
        "this tuning",
        &[steps_part(size, runs)],
        budget,
        "fewer steps, trials or optimizers, or a shorter formula",
    )
}
