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
//!
//! Files: `decay.rs` holds the decaying schedules and the warm-up, `one_cycle.rs`
//! OneCycleLR, `scheduled.rs` the optimizer that follows a schedule.

use crate::hyper::{Configurable, OptimizerInfo, Spec};
use crate::Error;
use std::fmt;

mod decay;
mod one_cycle;
mod scheduled;
#[cfg(test)]
mod tests;

pub use decay::{CosineAnnealingLr, ExponentialLr, LinearLr, MultiStepLr, StepLr, Warmup};
pub use one_cycle::{Anneal, OneCycleLr};
pub use scheduled::Scheduled;

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
        let e = epoch as f64;
        if let Some(lr) = self.warmup.lr(base_lr, e) {
            return Ok(lr);
        }
        let e = e - self.warmup.warmup_steps as f64;
        Ok(match &self.kind {
            ScheduleKind::StepLr(c) => c.lr(base_lr, e),
            ScheduleKind::MultiStepLr(c, milestones) => c.lr(milestones, base_lr, e),
            ScheduleKind::ExponentialLr(c) => c.lr(base_lr, e),
            ScheduleKind::CosineAnnealingLr(c) => c.lr(base_lr, e),
            ScheduleKind::LinearLr(c) => c.lr(base_lr, e),
            ScheduleKind::OneCycleLr(c, anneal) => c.at(*anneal, e)?.0,
        })
    }

    /// The momentum that OneCycleLR with `cycle_momentum` sets at `epoch`; `None` for
    /// the other schedules, or past the end of the cycle.
    pub fn momentum(&self, epoch: u64) -> Option<f64> {
        match &self.kind {
            ScheduleKind::OneCycleLr(c, anneal) if c.cycle_momentum => {
                c.at(*anneal, epoch as f64).ok().map(|(_, m)| m)
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
