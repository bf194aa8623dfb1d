//! Learning-rate schedules with PyTorch's `lr_scheduler` semantics, and [`Scheduled`],
//! which applies one to any optimizer.
//!
//! A schedule gives the learning rate of each step from the optimizer's base learning
//! rate (its `lr` or `learning_rate` key). As in torch, the schedule is stepped once
//! after every optimizer step: step 1 uses the schedule's value at epoch 0, step k
//! its value at epoch k − 1.
//!
//! Schedules are written like optimizer specs, with torch's class names (any case)
//! and keyword names: `steplr:step_size=5,gamma=0.5`, `multisteplr:milestones=5/10`,
//! `exponentiallr:gamma=0.9`, `cosineannealinglr:T_max=25`,
//! `linearlr:start_factor=0.1,total_iters=5`, `onecyclelr:max_lr=0.1,total_steps=100`.
//! Any of them but `onecyclelr` (which has its own warm-up) may start with a linear
//! warm-up: `cosineannealinglr:T_max=20,warmup_steps=5,warmup_start_factor=0.1` is
//! torch's `SequentialLR([LinearLR(start_factor=0.1, total_iters=5),
//! CosineAnnealingLR(T_max=20)], milestones=[5])`.
//!
//! ```
//! use optimist::{registry, schedule::{Schedule, Scheduled}, Optimizer};
//!
//! let adam = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article)?;
//! let schedule: Schedule = "steplr:step_size=2,gamma=0.5".parse()?;
//! let opt = Scheduled::new(adam, schedule)?;
//! assert_eq!(opt.learning_rate(), Some(0.1));
//! # Ok::<(), optimist::Error>(())
//! ```

use crate::hyper::{Configurable, OptimizerInfo, Range, Spec, Value};
use crate::saved::{self, Reader, Writer};
use crate::{Error, Float, NonFinite, Optimizer, Param};
use std::f64::consts::PI;
use std::fmt;

crate::config! {
    /// torch.optim.lr_scheduler.StepLR: decays the learning rate by `gamma` every
    /// `step_size` epochs.
    ///
    /// lr = base_lr·gamma^⌊epoch/step_size⌋
    ///
    /// `step_size` has no sensible default: build with [`StepLr::new`] (the `Default`,
    /// 0, is out of range; a spec must give it).
    pub struct StepLr {
        name: "steplr", convention: "pytorch",
        formula: "lr = base_lr·gamma^⌊epoch/step_size⌋",
        paper: "torch.optim.lr_scheduler.StepLR";
        /// Epochs between two decays (required).
        step_size: u64 = 0, Range::AtLeast(1);
        /// Factor of each decay.
        gamma: f64 = 0.1, Range::NonNegative;
    }
}

crate::config! {
    /// torch.optim.lr_scheduler.MultiStepLR: decays the learning rate by `gamma` at
    /// each milestone epoch. The milestones, required, are given in a spec as
    /// `milestones=5/10/20` (whole numbers, any order, repeats decaying twice).
    ///
    /// lr = base_lr·gamma^(number of milestones <= epoch)
    pub struct MultiStepLr {
        name: "multisteplr", convention: "pytorch",
        formula: "lr = base_lr·gamma^(number of milestones <= epoch)",
        paper: "torch.optim.lr_scheduler.MultiStepLR";
        /// Factor of each decay.
        gamma: f64 = 0.1, Range::NonNegative;
    }
}

crate::config! {
    /// torch.optim.lr_scheduler.ExponentialLR: decays the learning rate by `gamma`
    /// every epoch.
    ///
    /// lr = base_lr·gamma^epoch
    ///
    /// `gamma` has no sensible default: build with [`ExponentialLr::new`] (the
    /// `Default`, 0, is out of range; a spec must give it).
    pub struct ExponentialLr {
        name: "exponentiallr", convention: "pytorch",
        formula: "lr = base_lr·gamma^epoch",
        paper: "torch.optim.lr_scheduler.ExponentialLR";
        /// Factor of each decay (required).
        gamma: f64 = 0.0, Range::Positive;
    }
}

crate::config! {
    /// torch.optim.lr_scheduler.CosineAnnealingLR: half a cosine from the base learning
    /// rate down to `eta_min` over `T_max` epochs, then back up (period 2·T_max), as
    /// torch's recursive form does without restarts.
    ///
    /// lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch/T_max))/2
    ///
    /// Paper: I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    /// Restarts", ICLR 2017 (arXiv:1608.03983). `T_max` has no sensible default: build
    /// with [`CosineAnnealingLr::new`] (the `Default`, 0, is out of range; a spec must
    /// give it).
    #[allow(non_snake_case)]
    pub struct CosineAnnealingLr {
        name: "cosineannealinglr", convention: "pytorch",
        formula: "lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch/T_max))/2",
        paper: "Loshchilov & Hutter, SGDR: Stochastic Gradient Descent with Warm Restarts (ICLR 2017, arXiv:1608.03983)";
        /// Epochs from the base learning rate down to eta_min (required).
        T_max: u64 = 0, Range::AtLeast(1);
        /// The smallest learning rate.
        eta_min: f64 = 0.0, Range::NonNegative;
    }
}

crate::config! {
    /// torch.optim.lr_scheduler.LinearLR: scales the base learning rate by a factor
    /// going linearly from `start_factor` to `end_factor` over `total_iters` epochs,
    /// then kept.
    ///
    /// lr = base_lr·(start_factor + (end_factor − start_factor)·min(epoch, total_iters)/total_iters)
    pub struct LinearLr {
        name: "linearlr", convention: "pytorch",
        formula: "lr = base_lr·(start_factor + (end_factor − start_factor)·min(epoch, total_iters)/total_iters)",
        paper: "torch.optim.lr_scheduler.LinearLR";
        /// Factor of the first epoch.
        start_factor: f64 = 1.0 / 3.0, Range::Between { lo: 0.0, lo_incl: false, hi: 1.0, hi_incl: true };
        /// Factor from epoch `total_iters` on.
        end_factor: f64 = 1.0, Range::UnitClosed;
        /// Epochs of the linear change.
        total_iters: u64 = 5, Range::AtLeast(1);
    }
}

crate::config! {
    /// torch.optim.lr_scheduler.OneCycleLR: the 1cycle policy. The learning rate anneals
    /// from max_lr/div_factor up to `max_lr` over the first `pct_start` of the
    /// `total_steps`, then down to max_lr/(div_factor·final_div_factor) (with
    /// `three_phase`, back to max_lr/div_factor first); the base learning rate is not
    /// used. With `cycle_momentum`, the optimizer's `momentum` (or the first of its
    /// `betas`) goes inversely, between `max_momentum` and `base_momentum`.
    ///
    /// Each phase: lr = end + (start − end)·(1 + cos(π·pct))/2 with pct the fraction of
    /// the phase done (`anneal_strategy=linear`: lr = start + (end − start)·pct).
    ///
    /// Paper: L. N. Smith and N. Topin, "Super-Convergence: Very Fast Training of
    /// Neural Networks Using Large Learning Rates", 2017 (arXiv:1708.07120). `max_lr` and
    /// `total_steps` (or both `epochs` and `steps_per_epoch`) have no sensible default:
    /// build with [`OneCycleLr::new`] (the `Default`'s zeros are out of range; a spec
    /// must give them). `anneal_strategy` (`cos` or `linear`) is given in
    /// a spec like the other keys.
    pub struct OneCycleLr {
        name: "onecyclelr", convention: "pytorch",
        formula: "lr from max_lr/div_factor up to max_lr over pct_start of total_steps, then down to max_lr/(div_factor·final_div_factor), by cosine (or linear) annealing; momentum inversely",
        paper: "Smith & Topin, Super-Convergence: Very Fast Training of Neural Networks Using Large Learning Rates (arXiv:1708.07120)";
        check: |c| c.check_steps();
        /// The peak learning rate (required).
        max_lr: f64 = 0.0, Range::Positive;
        /// Steps of the whole cycle; 0 for epochs·steps_per_epoch.
        total_steps: u64 = 0, Range::AtLeast(0);
        /// Epochs, when total_steps is 0.
        epochs: u64 = 0, Range::AtLeast(0);
        /// Steps per epoch, when total_steps is 0.
        steps_per_epoch: u64 = 0, Range::AtLeast(0);
        /// Fraction of the cycle spent increasing the learning rate.
        pct_start: f64 = 0.3, Range::UnitClosed;
        /// Cycle the optimizer's momentum (or first beta) inversely to the learning rate.
        cycle_momentum: bool = true, Range::Any;
        /// Momentum at the peak learning rate.
        base_momentum: f64 = 0.85, Range::UnitClosed;
        /// Momentum at the start and end of the cycle.
        max_momentum: f64 = 0.95, Range::UnitClosed;
        /// initial lr = max_lr/div_factor.
        div_factor: f64 = 25.0, Range::Positive;
        /// min lr = initial lr/final_div_factor.
        final_div_factor: f64 = 1e4, Range::Positive;
        /// Three phases (up, down to the initial lr, down to the min lr) instead of two.
        three_phase: bool = false, Range::Any;
    }
}

impl StepLr {
    /// Decay by `gamma` (0.1 unless changed) every `step_size` epochs.
    pub fn new(step_size: u64) -> Self {
        StepLr {
            step_size,
            ..Default::default()
        }
    }
}

impl ExponentialLr {
    /// Decay by `gamma` every epoch.
    pub fn new(gamma: f64) -> Self {
        ExponentialLr { gamma }
    }
}

impl CosineAnnealingLr {
    /// Half a cosine down to `eta_min` (0 unless changed) over `t_max` epochs.
    pub fn new(t_max: u64) -> Self {
        CosineAnnealingLr {
            T_max: t_max,
            ..Default::default()
        }
    }
}

impl OneCycleLr {
    /// A cycle of `total_steps` steps peaking at `max_lr`, the other settings torch's
    /// defaults.
    pub fn new(max_lr: f64, total_steps: u64) -> Self {
        OneCycleLr {
            max_lr,
            total_steps,
            ..Default::default()
        }
    }

    fn check_steps(&self) -> Result<(), Error> {
        if self.total_steps != 0 {
            return Ok(());
        }
        if self.epochs == 0 || self.steps_per_epoch == 0 {
            return Err(Error::MissingKey {
                optimizer: "onecyclelr".to_string(),
                key: "total_steps".to_string(),
                allowed: "total_steps a whole number >= 1, or both epochs and steps_per_epoch"
                    .to_string(),
            });
        }
        if self.epochs.checked_mul(self.steps_per_epoch).is_none() {
            return Err(crate::hyper::out_of_range(
                "onecyclelr",
                "steps_per_epoch",
                self.steps_per_epoch,
                "epochs·steps_per_epoch a whole number below 2^64",
            ));
        }
        Ok(())
    }

    /// The steps of the cycle.
    pub fn steps(&self) -> f64 {
        if self.total_steps != 0 {
            self.total_steps as f64
        } else {
            self.epochs.saturating_mul(self.steps_per_epoch) as f64
        }
    }
}

crate::config! {
    /// A linear warm-up before another schedule: torch's `SequentialLR` of a
    /// `LinearLR(start_factor=warmup_start_factor, total_iters=warmup_steps)` and that
    /// schedule, with the milestone at `warmup_steps` (the schedule then starts at its
    /// own epoch 0).
    ///
    /// lr = base_lr·(warmup_start_factor + (1 − warmup_start_factor)·epoch/warmup_steps)
    /// for epoch < warmup_steps
    pub struct Warmup {
        name: "warmup", convention: "pytorch",
        formula: "lr = base_lr·(warmup_start_factor + (1 − warmup_start_factor)·epoch/warmup_steps) for epoch < warmup_steps, then the schedule at epoch − warmup_steps",
        paper: "torch.optim.lr_scheduler.SequentialLR of LinearLR and another schedule";
        /// Epochs of warm-up; 0 for none.
        warmup_steps: u64 = 0, Range::AtLeast(0);
        /// Factor of the first epoch.
        warmup_start_factor: f64 = 1.0 / 3.0, Range::Between { lo: 0.0, lo_incl: false, hi: 1.0, hi_incl: true };
    }
}

/// How OneCycleLR anneals within a phase (torch's `anneal_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anneal {
    /// Half a cosine (`cos`, the default).
    #[default]
    Cos,
    /// A straight line (`linear`).
    Linear,
}

impl Anneal {
    fn at(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Anneal::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

impl fmt::Display for Anneal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Anneal::Cos => "cos",
            Anneal::Linear => "linear",
        })
    }
}

/// Which schedule, with its configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ScheduleKind {
    /// [`StepLr`].
    StepLr(StepLr),
    /// [`MultiStepLr`] with its milestones (epochs).
    MultiStepLr(MultiStepLr, Vec<u64>),
    /// [`ExponentialLr`].
    ExponentialLr(ExponentialLr),
    /// [`CosineAnnealingLr`].
    CosineAnnealingLr(CosineAnnealingLr),
    /// [`LinearLr`].
    LinearLr(LinearLr),
    /// [`OneCycleLr`] with its annealing.
    OneCycleLr(OneCycleLr, Anneal),
}

/// The schedule names, as specs write them.
pub const NAMES: [&str; 6] = [
    "steplr",
    "multisteplr",
    "exponentiallr",
    "cosineannealinglr",
    "linearlr",
    "onecyclelr",
];

/// Every schedule (and the warm-up) with its keys, defaults, ranges and formula.
pub fn catalog() -> Vec<OptimizerInfo> {
    vec![
        StepLr::info(),
        MultiStepLr::info(),
        ExponentialLr::info(),
        CosineAnnealingLr::info(),
        LinearLr::info(),
        OneCycleLr::info(),
        Warmup::info(),
    ]
}

/// A learning-rate schedule: a [`ScheduleKind`] after an optional [`Warmup`].
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: ScheduleKind,
    warmup: Warmup,
}

impl Schedule {
    /// The schedule `kind` after `warmup` (none when `warmup_steps` is 0), checked.
    pub fn new(kind: ScheduleKind, warmup: Warmup) -> Result<Self, Error> {
        warmup.validate()?;
        match &kind {
            ScheduleKind::StepLr(c) => c.validate()?,
            ScheduleKind::MultiStepLr(c, milestones) => {
                c.validate()?;
                if milestones.is_empty() {
                    return Err(Error::MissingKey {
                        optimizer: "multisteplr".to_string(),
                        key: "milestones".to_string(),
                        allowed: MILESTONES.to_string(),
                    });
                }
            }
            ScheduleKind::ExponentialLr(c) => c.validate()?,
            ScheduleKind::CosineAnnealingLr(c) => c.validate()?,
            ScheduleKind::LinearLr(c) => c.validate()?,
            ScheduleKind::OneCycleLr(c, _) => {
                c.validate()?;
                if warmup.warmup_steps != 0 {
                    return Err(Error::Unsupported {
                        optimizer: "onecyclelr".to_string(),
                        why: format!(
                            "it warms up by itself (pct_start); warmup_steps = {} is allowed only with the other schedules",
                            warmup.warmup_steps
                        ),
                    });
                }
            }
        }
        Ok(Schedule { kind, warmup })
    }

    /// The schedule a spec names: its name (torch's class name, any case), keys and
    /// the optional `warmup_steps` and `warmup_start_factor`.
    pub fn from_spec(spec: &Spec) -> Result<Self, Error> {
        let name = spec.name.to_ascii_lowercase();
        let (warmup, own): (Vec<_>, Vec<_>) = spec
            .values
            .iter()
            .cloned()
            .partition(|(k, _)| k.starts_with("warmup_"));
        let warmup = Warmup::from_spec(&Spec {
            name: "warmup".to_string(),
            values: warmup,
        })?;
        let mut own = Spec {
            name: name.clone(),
            values: own,
        };
        let kind = match name.as_str() {
            "steplr" => ScheduleKind::StepLr(configure(&own, &["step_size"], &[])?),
            "multisteplr" => {
                let milestones = take(&mut own, "milestones")
                    .ok_or_else(|| Error::MissingKey {
                        optimizer: name.clone(),
                        key: "milestones".to_string(),
                        allowed: MILESTONES.to_string(),
                    })
                    .and_then(|text| parse_milestones(&text))?;
                ScheduleKind::MultiStepLr(configure(&own, &[], &["milestones"])?, milestones)
            }
            "exponentiallr" => ScheduleKind::ExponentialLr(configure(&own, &["gamma"], &[])?),
            "cosineannealinglr" => {
                ScheduleKind::CosineAnnealingLr(configure(&own, &["T_max"], &[])?)
            }
            "linearlr" => ScheduleKind::LinearLr(configure(&own, &[], &[])?),
            "onecyclelr" => {
                let anneal = match take(&mut own, "anneal_strategy").as_deref() {
                    None | Some("cos") => Anneal::Cos,
                    Some("linear") => Anneal::Linear,
                    Some(other) => {
                        return Err(Error::BadValue {
                            optimizer: name,
                            key: "anneal_strategy".to_string(),
                            value: other.to_string(),
                            expected: "cos or linear".to_string(),
                        })
                    }
                };
                let config = configure(&own, &["max_lr"], &["anneal_strategy"])?;
                ScheduleKind::OneCycleLr(config, anneal)
            }
            _ => {
                return Err(Error::UnknownSchedule {
                    name: spec.name.clone(),
                    known: NAMES.iter().map(|n| n.to_string()).collect(),
                })
            }
        };
        Schedule::new(kind, warmup)
    }

    /// The schedule's kind and configuration.
    pub fn kind(&self) -> &ScheduleKind {
        &self.kind
    }

    /// The warm-up before it.
    pub fn warmup(&self) -> &Warmup {
        &self.warmup
    }

    /// The learning rate at `epoch` (0 for the first step) for the base learning rate
    /// `base_lr`; an error past the end of a OneCycleLR cycle, as in torch.
    pub fn lr(&self, base_lr: f64, epoch: u64) -> Result<f64, Error> {
        let w = self.warmup.warmup_steps as f64;
        let e = epoch as f64;
        if e < w {
            let s = self.warmup.warmup_start_factor;
            return Ok(base_lr * (s + (1.0 - s) * e / w));
        }
        let e = e - w;
        Ok(match &self.kind {
            ScheduleKind::StepLr(c) => base_lr * c.gamma.powf((e / c.step_size as f64).floor()),
            ScheduleKind::MultiStepLr(c, milestones) => {
                let passed = milestones.iter().filter(|&&m| m as f64 <= e).count();
                base_lr * c.gamma.powf(passed as f64)
            }
            ScheduleKind::ExponentialLr(c) => base_lr * c.gamma.powf(e),
            ScheduleKind::CosineAnnealingLr(c) => {
                c.eta_min + (base_lr - c.eta_min) * (1.0 + (PI * e / c.T_max as f64).cos()) / 2.0
            }
            ScheduleKind::LinearLr(c) => {
                let n = c.total_iters as f64;
                let done = e.min(n) / n;
                base_lr * (c.start_factor + (c.end_factor - c.start_factor) * done)
            }
            ScheduleKind::OneCycleLr(c, anneal) => one_cycle(c, *anneal, e)?.0,
        })
    }

    /// The momentum that OneCycleLR with `cycle_momentum` sets at `epoch`; `None` for
    /// the other schedules, or past the end of the cycle.
    pub fn momentum(&self, epoch: u64) -> Option<f64> {
        match &self.kind {
            ScheduleKind::OneCycleLr(c, anneal) if c.cycle_momentum => {
                one_cycle(c, *anneal, epoch as f64).ok().map(|(_, m)| m)
            }
            _ => None,
        }
    }
}

const MILESTONES: &str = "milestones whole numbers >= 0 written A/B/..., e.g. milestones=5/10";

/// Removes `key` from `spec`, returning its text.
fn take(spec: &mut Spec, key: &str) -> Option<String> {
    let i = spec.values.iter().position(|(k, _)| k == key)?;
    Some(spec.values.remove(i).1)
}

fn parse_milestones(text: &str) -> Result<Vec<u64>, Error> {
    let mut milestones = text
        .split('/')
        .map(|m| m.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::BadValue {
            optimizer: "multisteplr".to_string(),
            key: "milestones".to_string(),
            value: text.to_string(),
            expected: "whole numbers >= 0 written A/B/..., e.g. 5/10".to_string(),
        })?;
    milestones.sort_unstable();
    Ok(milestones)
}

/// A schedule's configuration from `spec`: `required` keys must be given, and
/// `extra` keys (read elsewhere) are listed with the others in an unknown-key error.
fn configure<C: Configurable>(spec: &Spec, required: &[&str], extra: &[&str]) -> Result<C, Error> {
    let info = C::info();
    for &key in required {
        if !spec.values.iter().any(|(k, _)| k == key) {
            let allowed = info
                .keys
                .iter()
                .find(|k| k.name == key)
                .map_or_else(String::new, |k| k.range.describe(key));
            return Err(Error::MissingKey {
                optimizer: info.name.to_string(),
                key: key.to_string(),
                allowed,
            });
        }
    }
    C::from_spec(spec).map_err(|e| match e {
        Error::UnknownKey {
            optimizer,
            key,
            mut known,
            elsewhere,
        } => {
            known.extend(extra.iter().map(|k| k.to_string()));
            known.extend(Warmup::info().keys.iter().map(|k| k.name.to_string()));
            Error::UnknownKey {
                optimizer,
                key,
                known,
                elsewhere,
            }
        }
        other => other,
    })
}

/// OneCycleLR's learning rate and momentum at `step` (torch's `get_lr`).
fn one_cycle(c: &OneCycleLr, anneal: Anneal, step: f64) -> Result<(f64, f64), Error> {
    let total = c.steps();
    if step > total {
        return Err(Error::Unsupported {
            optimizer: "onecyclelr".to_string(),
            why: format!(
                "step {step} is past the end of the cycle; allowed: at most total_steps = {total} steps after the first"
            ),
        });
    }
    let initial = c.max_lr / c.div_factor;
    let min = initial / c.final_div_factor;
    let (max_m, base_m) = (c.max_momentum, c.base_momentum);
    let up = c.pct_start * total - 1.0;
    // (end step, start lr, end lr, start momentum, end momentum) of each phase.
    let phases: Vec<(f64, f64, f64, f64, f64)> = if c.three_phase {
        vec![
            (up, initial, c.max_lr, max_m, base_m),
            (
                2.0 * c.pct_start * total - 2.0,
                c.max_lr,
                initial,
                base_m,
                max_m,
            ),
            (total - 1.0, initial, min, max_m, max_m),
        ]
    } else {
        vec![
            (up, initial, c.max_lr, max_m, base_m),
            (total - 1.0, c.max_lr, min, base_m, max_m),
        ]
    };
    let mut start = 0.0;
    for (i, &(end, lr0, lr1, m0, m1)) in phases.iter().enumerate() {
        if step <= end || i == phases.len() - 1 {
            let pct = (step - start) / (end - start);
            return Ok((anneal.at(lr0, lr1, pct), anneal.at(m0, m1, pct)));
        }
        start = end;
    }
    unreachable!("the last phase always matches")
}

impl std::str::FromStr for Schedule {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Schedule::from_spec(&text.parse()?)
    }
}

impl fmt::Display for Schedule {
    /// The schedule as a spec, every key written: it parses back to the same schedule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, mut values, extra) = match &self.kind {
            ScheduleKind::StepLr(c) => ("steplr", c.values(), None),
            ScheduleKind::MultiStepLr(c, ms) => {
                let ms: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
                (
                    "multisteplr",
                    c.values(),
                    Some(("milestones", ms.join("/"))),
                )
            }
            ScheduleKind::ExponentialLr(c) => ("exponentiallr", c.values(), None),
            ScheduleKind::CosineAnnealingLr(c) => ("cosineannealinglr", c.values(), None),
            ScheduleKind::LinearLr(c) => ("linearlr", c.values(), None),
            ScheduleKind::OneCycleLr(c, a) => (
                "onecyclelr",
                c.values(),
                Some(("anneal_strategy", a.to_string())),
            ),
        };
        if self.warmup.warmup_steps != 0 {
            values.extend(self.warmup.values());
        }
        let mut items: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some((k, v)) = extra {
            items.insert(0, format!("{k}={v}"));
        }
        write!(f, "{name}:{}", items.join(","))
    }
}

/// An optimizer whose learning rate follows a [`Schedule`], like torch's optimizer with
/// an `lr_scheduler` stepped after every `optimizer.step()`.
///
/// The base learning rate is the optimizer's when wrapped; each step first sets the
/// optimizer's learning rate to the schedule's value at the number of steps taken so
/// far (and, for OneCycleLR with `cycle_momentum`, its `momentum` or first of
/// `betas`), then steps it. A step skipped for non-finite gradients
/// ([`NonFinite::Skip`]) leaves the schedule where it was.
pub struct Scheduled<F: Float> {
    inner: Box<dyn Optimizer<F>>,
    schedule: Schedule,
    base_lr: f64,
    epoch: u64,
    momentum_key: Option<&'static str>,
}

impl<F: Float> fmt::Debug for Scheduled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduled")
            .field("inner", &self.inner.label())
            .field("schedule", &self.schedule)
            .field("base_lr", &self.base_lr)
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl<F: Float> Scheduled<F> {
    /// `inner` with its learning rate following `schedule` from its current one.
    ///
    /// Errors if `inner` has no learning rate, or if the schedule cycles momentum and
    /// `inner` has neither `momentum` (> 0) nor `betas`.
    pub fn new(inner: Box<dyn Optimizer<F>>, schedule: Schedule) -> Result<Self, Error> {
        let base_lr = inner.learning_rate().ok_or_else(|| Error::Unsupported {
            optimizer: inner.name().to_string(),
            why: "it has no learning rate ('lr' or 'learning_rate') to schedule".to_string(),
        })?;
        let mut momentum_key = None;
        if schedule.momentum(0).is_some() {
            let hp = inner.hyperparameters();
            momentum_key = Some(match hp.iter().find(|(k, _)| *k == "momentum" || *k == "betas") {
                // A momentum of 0 may have been built without a buffer.
                Some(("momentum", Value::Num(m))) if *m > 0.0 => "momentum",
                Some(("betas", Value::Pair(..))) => "betas",
                _ => {
                    return Err(Error::Unsupported {
                        optimizer: "onecyclelr".to_string(),
                        why: format!(
                            "cycle_momentum needs an optimizer with momentum > 0 or betas, and {} has neither; set cycle_momentum=false",
                            inner.label()
                        ),
                    })
                }
            });
        }
        let mut scheduled = Scheduled {
            inner,
            schedule,
            base_lr,
            epoch: 0,
            momentum_key,
        };
        scheduled.apply()?;
        Ok(scheduled)
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The optimizer scheduled.
    pub fn inner(&self) -> &dyn Optimizer<F> {
        self.inner.as_ref()
    }

    /// The base learning rate the schedule scales.
    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }

    /// Sets the optimizer's learning rate (and momentum) for the current epoch.
    fn apply(&mut self) -> Result<(), Error> {
        let lr = self.schedule.lr(self.base_lr, self.epoch)?;
        self.inner.set_learning_rate(lr)?;
        if let (Some(key), Some(m)) = (self.momentum_key, self.schedule.momentum(self.epoch)) {
            let value = match key {
                "betas" => match self.inner.hyperparameters().iter().find(|(k, _)| *k == key) {
                    Some(&(_, Value::Pair(_, beta2))) => Value::Pair(m, beta2),
                    _ => unreachable!("betas was found when wrapped"),
                },
                _ => Value::Num(m),
            };
            self.inner.set_hyperparameter(key, value)?;
        }
        Ok(())
    }

    /// Sets the optimizer's learning rate (and momentum) as [`Optimizer::step`] leaves
    /// them at this epoch: the epoch's, or once a OneCycleLR cycle is over, the last
    /// epoch's.
    fn settle(&mut self) -> Result<(), Error> {
        match self.apply() {
            Err(_) if self.epoch > 0 => {
                self.epoch -= 1;
                let applied = self.apply();
                self.epoch += 1;
                applied
            }
            applied => applied,
        }
    }
}

impl<F: Float> Optimizer<F> for Scheduled<F> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.inner.hyperparameters()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        self.apply()?;
        let before = self.inner.steps();
        self.inner.step(params)?;
        // A skipped step, or one without tensors, leaves the schedule where it was.
        if self.inner.steps() == before {
            return Ok(());
        }
        self.epoch += 1;
        // Set now, as torch's scheduler.step() does, so that the optimizer shows the
        // next step's values; a failure (past a OneCycleLR cycle) is reported by the
        // next step, before it changes anything.
        let _ = self.apply();
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.inner.steps()
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.epoch = 0;
        // Worked when built with this base; the next step re-applies and reports.
        let _ = self.apply();
    }

    fn learning_rate(&self) -> Option<f64> {
        self.schedule.lr(self.base_lr, self.epoch).ok()
    }

    /// Sets the base learning rate that the schedule scales.
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        let old = self.base_lr;
        self.base_lr = lr;
        let applied = self.apply();
        if applied.is_err() {
            self.base_lr = old;
        }
        applied
    }

    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        match value {
            Value::Num(lr) if crate::engine::LEARNING_RATE_KEYS.contains(&key) => {
                self.set_learning_rate(lr)
            }
            _ => self.inner.set_hyperparameter(key, value),
        }
    }

    fn set_nonfinite(&mut self, policy: NonFinite) -> Result<(), Error> {
        self.inner.set_nonfinite(policy)
    }

    fn nonfinite(&self) -> NonFinite {
        self.inner.nonfinite()
    }

    fn skipped_steps(&self) -> u64 {
        self.inner.skipped_steps()
    }

    fn state_tensors(&self) -> Vec<String> {
        self.inner.state_tensors()
    }

    fn state_of(&self, tensor: &str) -> Option<crate::engine::NamedState<F>> {
        self.inner.state_of(tensor)
    }

    fn load_tensor_state(
        &mut self,
        tensor: &str,
        state: crate::engine::NamedState<F>,
    ) -> Result<(), Error> {
        self.inner.load_tensor_state(tensor, state)
    }

    fn save_state(&self) -> Result<Vec<u8>, Error> {
        let inner = self.inner.save_state()?;
        let mut w = Writer::new(saved::SCHEDULED);
        w.str(&self.schedule.to_string());
        w.f64(self.base_lr);
        w.u64(self.epoch);
        w.bytes(&inner);
        Ok(w.finish())
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut r = Reader::open(bytes, saved::SCHEDULED)?;
        let (schedule, base_lr) = (r.str()?, r.f64()?);
        let epoch = saved::count_of(&mut r, "schedule position")?;
        let inner = r.bytes()?;
        r.finish()?;
        if schedule != self.schedule.to_string() {
            return Err(saved::bad(format!(
                "its schedule is {schedule}, and this optimizer's {}",
                self.schedule
            )));
        }
        if base_lr.to_bits() != self.base_lr.to_bits() {
            return Err(saved::bad(format!(
                "its schedule scales the base learning rate {base_lr}, and this one {}",
                self.base_lr
            )));
        }
        let old = self.epoch;
        self.epoch = epoch;
        // The optimizer's learning rate as saved, so that its hyperparameters compare.
        let loaded = self
            .settle()
            .map_err(|e| {
                saved::bad(format!(
                    "its schedule position {epoch} is out of range: {e}"
                ))
            })
            .and_then(|()| self.inner.load_state(inner));
        if loaded.is_err() {
            self.epoch = old;
            // Settled at this epoch before, so it settles again.
            let _ = self.settle();
        }
        loaded
    }

    fn label(&self) -> String {
        format!("{} with {}", self.inner.label(), self.schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{registry, Params, Tensor};

    fn parse(text: &str) -> Schedule {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn lrs(s: &Schedule, base: f64, epochs: u64) -> Vec<f64> {
        (0..epochs).map(|e| s.lr(base, e).unwrap()).collect()
    }

    fn assert_close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (e, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol * w.abs().max(1e-300),
                "epoch {e}: got {g}, want {w}"
            );
        }
    }

    /// torch's chainable `get_lr` for the schedules that have one: the learning rate
    /// of epoch e from that of epoch e − 1 (epoch 0 from the initial step).
    fn torch_chain(s: &Schedule, base: f64, epochs: u64) -> Vec<f64> {
        let mut lr = base;
        let mut out = Vec::new();
        for e in 0..epochs {
            let ef = e as f64;
            lr = match s.kind() {
                ScheduleKind::StepLr(c) => {
                    if e == 0 || e % c.step_size != 0 {
                        lr
                    } else {
                        lr * c.gamma
                    }
                }
                ScheduleKind::MultiStepLr(c, ms) => {
                    lr * c.gamma.powi(ms.iter().filter(|&&m| m == e).count() as i32)
                }
                ScheduleKind::ExponentialLr(c) => {
                    if e == 0 {
                        lr
                    } else {
                        lr * c.gamma
                    }
                }
                ScheduleKind::CosineAnnealingLr(c) => {
                    let (t, eta) = (c.T_max as f64, c.eta_min);
                    if e == 0 {
                        lr
                    } else if (e as i64 - 1 - t as i64).rem_euclid(2 * t as i64) == 0 {
                        lr + (base - eta) * (1.0 - (PI / t).cos()) / 2.0
                    } else {
                        (1.0 + (PI * ef / t).cos()) / (1.0 + (PI * (ef - 1.0) / t).cos())
                            * (lr - eta)
                            + eta
                    }
                }
                ScheduleKind::LinearLr(c) => {
                    let (s0, s1, n) = (c.start_factor, c.end_factor, c.total_iters as f64);
                    if e == 0 {
                        lr * s0
                    } else if ef > n {
                        lr
                    } else {
                        lr * (1.0 + (s1 - s0) / (n * s0 + (ef - 1.0) * (s1 - s0)))
                    }
                }
                ScheduleKind::OneCycleLr(..) => unreachable!("not chainable"),
            };
            out.push(lr);
        }
        out
    }

    #[test]
    fn step_lr_decays_every_step_size_epochs() {
        let s = parse("StepLR:step_size=3,gamma=0.5");
        let want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025];
        assert_close(&lrs(&s, 0.1, 8), &want, 1e-15);
        assert_close(&lrs(&s, 0.1, 40), &torch_chain(&s, 0.1, 40), 1e-12);
    }

    #[test]
    fn multistep_lr_decays_at_each_milestone_and_twice_at_repeats() {
        let s = parse("multisteplr:milestones=5/2/5,gamma=0.1");
        let want = [1.0, 1.0, 0.1, 0.1, 0.1, 0.001, 0.001];
        assert_close(&lrs(&s, 1.0, 7), &want, 1e-14);
        assert_close(&lrs(&s, 1.0, 12), &torch_chain(&s, 1.0, 12), 1e-12);
    }

    #[test]
    fn exponential_lr_decays_every_epoch() {
        let s = parse("exponentiallr:gamma=0.9");
        assert_close(&lrs(&s, 2.0, 4), &[2.0, 1.8, 1.62, 1.458], 1e-14);
        assert_close(&lrs(&s, 2.0, 50), &torch_chain(&s, 2.0, 50), 1e-12);
    }

    #[test]
    fn cosine_annealing_matches_torch_recursion_past_t_max() {
        let s = parse("cosineannealinglr:T_max=10,eta_min=0.01");
        let got = lrs(&s, 0.5, 45);
        assert_eq!(got[0], 0.5);
        assert!((got[5] - (0.01 + 0.49 * 0.5)).abs() < 1e-15);
        assert!((got[10] - 0.01).abs() < 1e-15);
        assert!((got[20] - 0.5).abs() < 1e-15, "back up after 2·T_max");
        assert_close(&got, &torch_chain(&s, 0.5, 45), 1e-12);
    }

    #[test]
    fn linear_lr_goes_from_start_to_end_factor() {
        let s = parse("linearlr:start_factor=0.25,end_factor=1,total_iters=4");
        let want = [0.25, 0.4375, 0.625, 0.8125, 1.0, 1.0];
        assert_close(&lrs(&s, 1.0, 6), &want, 1e-15);
        let s = parse("linearlr:start_factor=1,end_factor=0,total_iters=3");
        assert_close(&lrs(&s, 0.3, 3), &[0.3, 0.2, 0.1], 1e-14);
        assert_eq!(s.lr(0.3, 3).unwrap(), 0.0);
        let s = parse("linearlr");
        assert_close(&lrs(&s, 3.0, 9), &torch_chain(&s, 3.0, 9), 1e-12);
    }

    #[test]
    fn one_cycle_phases_and_momentum() {
        // max 1, total 10: up over epochs 0..=2 (end step 0.3·10 − 1), down over 2..=9.
        let s = parse("onecyclelr:max_lr=1,total_steps=10");
        let (initial, min) = (1.0 / 25.0, 1.0 / 25.0 / 1e4);
        let down = |pct: f64| min + (1.0 - min) / 2.0 * ((PI * pct).cos() + 1.0);
        let want = [
            initial,
            1.0 + (initial - 1.0) / 2.0, // half-way up: cos(π/2) = 0
            1.0,
            down(1.0 / 7.0),
            down(2.0 / 7.0),
        ];
        assert_close(&lrs(&s, 123.0, 5), &want, 1e-14);
        assert!((s.lr(0.5, 9).unwrap() - min).abs() < 1e-15);
        assert!((s.lr(0.5, 10).unwrap() - down(8.0 / 7.0)).abs() < 1e-15);
        let e = s.lr(0.5, 11).unwrap_err().to_string();
        assert!(
            e.contains("past the end of the cycle") && e.contains("10"),
            "{e}"
        );
        assert_eq!(s.momentum(0), Some(0.95));
        assert!((s.momentum(2).unwrap() - 0.85).abs() < 1e-15);
        assert!((s.momentum(9).unwrap() - 0.95).abs() < 1e-15);

        let s = parse("onecyclelr:max_lr=1,epochs=2,steps_per_epoch=5,three_phase=true,anneal_strategy=linear");
        // Up over 0..=2, down to the initial lr over 2..=4, then to min over 4..=9.
        let want = [
            initial,
            (1.0 + initial) / 2.0,
            1.0,
            (1.0 + initial) / 2.0,
            initial,
        ];
        assert_close(&lrs(&s, 1.0, 5), &want, 1e-14);
        assert!((s.lr(1.0, 9).unwrap() - min).abs() < 1e-15);
        assert_eq!(s.momentum(6), Some(0.95));
    }

    #[test]
    fn warmup_then_any_schedule_is_torch_sequential_lr() {
        let s = parse("cosineannealinglr:T_max=4,warmup_steps=3,warmup_start_factor=0.1");
        let cos = |e: f64| (1.0 + (PI * e / 4.0).cos()) / 2.0;
        let want = [0.1, 0.4, 0.7, 1.0, cos(1.0), cos(2.0), cos(3.0), 0.0];
        assert_close(&lrs(&s, 1.0, 7), &want[..7], 1e-14);
        assert!(s.lr(1.0, 7).unwrap().abs() < 1e-16);
        let s = parse("steplr:step_size=2,gamma=0.5,warmup_steps=2");
        assert_close(&lrs(&s, 3.0, 6), &[1.0, 2.0, 3.0, 3.0, 1.5, 1.5], 1e-14);
    }

    #[test]
    fn display_parses_back_to_the_same_schedule() {
        for text in [
            "steplr:step_size=5,gamma=0.5",
            "multisteplr:milestones=3/8,gamma=0.2,warmup_steps=2",
            "exponentiallr:gamma=0.95",
            "cosineannealinglr:T_max=25,eta_min=0.001,warmup_steps=5,warmup_start_factor=0.01",
            "linearlr:start_factor=0.5",
            "onecyclelr:max_lr=0.1,total_steps=100,anneal_strategy=linear",
        ] {
            let s = parse(text);
            assert_eq!(parse(&s.to_string()), s, "{text} → {s}");
        }
        assert_eq!(
            parse("StepLR:step_size=5").to_string(),
            "steplr:step_size=5,gamma=0.1"
        );
    }

    #[test]
    fn bad_specs_name_the_value_and_the_allowed_range() {
        let err = |text: &str| text.parse::<Schedule>().unwrap_err().to_string();
        let e = err("cosine:T_max=3");
        assert!(
            e.starts_with("unknown schedule 'cosine'; known schedules: steplr, multisteplr"),
            "{e}"
        );
        let e = err("steplr:step_size=3,gama=0.5");
        assert!(
            e.contains("steplr has no hyperparameter 'gama'")
                && e.contains("step_size, gamma, warmup_steps, warmup_start_factor"),
            "{e}"
        );
        assert_eq!(
            err("steplr:gamma=0.5"),
            "steplr: step_size is required; allowed: step_size a whole number >= 1"
        );
        assert_eq!(
            err("steplr:step_size=2.5"),
            "steplr: step_size = '2.5' is not a whole number"
        );
        assert_eq!(
            err("steplr:step_size=0"),
            "steplr: step_size = 0 is out of range; allowed: step_size a whole number >= 1"
        );
        assert_eq!(
            err("steplr:step_size=2,gamma=-1"),
            "steplr: gamma = -1 is out of range; allowed: gamma >= 0 and finite"
        );
        assert_eq!(
            err("exponentiallr"),
            "exponentiallr: gamma is required; allowed: gamma > 0 and finite"
        );
        assert_eq!(
            err("cosineannealinglr:T_max=0"),
            "cosineannealinglr: T_max = 0 is out of range; allowed: T_max a whole number >= 1"
        );
        assert_eq!(
            err("linearlr:start_factor=0"),
            "linearlr: start_factor = 0 is out of range; allowed: 0 < start_factor <= 1"
        );
        assert!(err("multisteplr:gamma=0.5").contains("milestones is required"));
        assert!(
            err("multisteplr:milestones=3/x").contains("milestones = '3/x' is not whole numbers")
        );
        assert!(err("onecyclelr:total_steps=10").contains("max_lr is required"));
        assert!(err("onecyclelr:max_lr=1").contains("total_steps is required"));
        assert!(
            err("onecyclelr:max_lr=1,total_steps=10,anneal_strategy=cosine")
                .contains("anneal_strategy = 'cosine' is not cos or linear")
        );
        assert!(err("onecyclelr:max_lr=1,total_steps=10,warmup_steps=2")
            .contains("warmup_steps = 2 is allowed only with the other schedules"));
        assert_eq!(
            err("linearlr:warmup_steps=1.5"),
            "warmup: warmup_steps = '1.5' is not a whole number"
        );
    }

    /// The settings without a sensible default are constructor arguments, and build the
    /// schedules their specs do.
    #[test]
    fn constructors_take_the_settings_without_defaults() {
        let none = Warmup::default();
        let same = |kind: ScheduleKind, spec: &str| {
            assert_eq!(Schedule::new(kind, none).unwrap(), parse(spec));
        };
        same(ScheduleKind::StepLr(StepLr::new(3)), "steplr:step_size=3");
        same(
            ScheduleKind::ExponentialLr(ExponentialLr::new(0.9)),
            "exponentiallr:gamma=0.9",
        );
        same(
            ScheduleKind::CosineAnnealingLr(CosineAnnealingLr::new(25)),
            "cosineannealinglr:T_max=25",
        );
        same(
            ScheduleKind::OneCycleLr(OneCycleLr::new(0.1, 100), Anneal::Cos),
            "onecyclelr:max_lr=0.1,total_steps=100",
        );
        assert!(Schedule::new(ScheduleKind::StepLr(StepLr::default()), none).is_err());
    }

    /// Steps `opt` with a gradient of 1 and returns the change of the parameter at
    /// each step: −lr for SGD.
    fn moves(opt: &mut dyn Optimizer<f64>, steps: usize) -> Vec<f64> {
        let mut params: Params<f64> = [("x", Tensor::scalar(0.0))].into_iter().collect();
        let grads: Params<f64> = [("x", Tensor::scalar(1.0))].into_iter().collect();
        let mut out = Vec::new();
        for _ in 0..steps {
            let before = params.get("x").unwrap().data()[0];
            opt.update(&mut params, &grads).unwrap();
            out.push(before - params.get("x").unwrap().data()[0]);
        }
        out
    }

    #[test]
    fn scheduled_steps_use_the_schedule_at_the_steps_taken() {
        let sgd = registry::parse::<f64>("sgd:lr=0.8", crate::Convention::Article).unwrap();
        let mut opt = Scheduled::new(sgd, parse("steplr:step_size=2,gamma=0.5")).unwrap();
        assert_close(&moves(&mut opt, 5), &[0.8, 0.8, 0.4, 0.4, 0.2], 1e-15);
        assert_eq!(opt.learning_rate(), Some(0.2));
        assert_eq!(opt.steps(), 5);
        opt.reset();
        assert_eq!(opt.learning_rate(), Some(0.8));
        assert_eq!(opt.inner().learning_rate(), Some(0.8));
        opt.set_learning_rate(0.4).unwrap();
        assert_close(&moves(&mut opt, 3), &[0.4, 0.4, 0.2], 1e-15);
        assert!(opt
            .label()
            .starts_with("sgd(lr=0.2) with steplr:step_size=2"));
    }

    #[test]
    fn scheduled_learning_rate_may_reach_zero() {
        // The article's sgd asks for lr > 0; cosine annealing reaches 0 at T_max.
        let sgd = registry::parse::<f64>("sgd:lr=1", crate::Convention::Article).unwrap();
        let mut opt = Scheduled::new(sgd, parse("cosineannealinglr:T_max=2")).unwrap();
        let m = moves(&mut opt, 4);
        assert_close(&[m[0], m[1], m[3]], &[1.0, 0.5, 0.5], 1e-15);
        assert_eq!(m[2], 0.0);
    }

    #[test]
    fn one_cycle_runs_total_steps_plus_one_then_stops_without_a_change() {
        let sgd = registry::parse::<f64>("sgd:lr=1", crate::Convention::Article).unwrap();
        let s = parse("onecyclelr:max_lr=1,total_steps=4,cycle_momentum=false");
        let mut opt = Scheduled::new(sgd, s.clone()).unwrap();
        let m = moves(&mut opt, 5);
        assert_close(&m, &lrs(&s, 1.0, 5), 1e-9);
        let mut params: Params<f64> = [("x", Tensor::scalar(7.0))].into_iter().collect();
        let grads: Params<f64> = [("x", Tensor::scalar(1.0))].into_iter().collect();
        let e = opt.update(&mut params, &grads).unwrap_err().to_string();
        assert!(e.contains("past the end of the cycle"), "{e}");
        assert_eq!(params.get("x").unwrap().data()[0], 7.0);
    }

    #[test]
    fn one_cycle_cycles_momentum_or_the_first_beta() {
        let adam =
            registry::build_in::<f64>(&"adam:lr=0.1".parse().unwrap(), crate::Convention::PyTorch)
                .unwrap();
        let mut opt = Scheduled::new(adam, parse("onecyclelr:max_lr=1,total_steps=10")).unwrap();
        let betas = |opt: &Scheduled<f64>| {
            opt.hyperparameters()
                .into_iter()
                .find(|(k, _)| *k == "betas")
                .unwrap()
                .1
        };
        assert_eq!(betas(&opt), Value::Pair(0.95, 0.999));
        moves(&mut opt, 2);
        assert_eq!(betas(&opt), Value::Pair(0.85, 0.999));

        let sgd = registry::build_in::<f64>(
            &"sgd:lr=0.1,momentum=0.9".parse().unwrap(),
            crate::Convention::PyTorch,
        )
        .unwrap();
        let opt = Scheduled::new(sgd, parse("onecyclelr:max_lr=1,total_steps=10")).unwrap();
        let momentum = opt
            .hyperparameters()
            .into_iter()
            .find(|(k, _)| *k == "momentum");
        assert_eq!(momentum, Some(("momentum", Value::Num(0.95))));

        for (spec, conv) in [
            ("adam", crate::Convention::Article),
            ("sgd", crate::Convention::PyTorch),
        ] {
            let opt = registry::build_in::<f64>(&spec.parse().unwrap(), conv).unwrap();
            let e = Scheduled::new(opt, parse("onecyclelr:max_lr=1,total_steps=10"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("cycle_momentum needs an optimizer with momentum > 0 or betas")
                    && e.contains("set cycle_momentum=false"),
                "{e}"
            );
        }
    }
}
