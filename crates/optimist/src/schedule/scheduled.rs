//! [`Scheduled`]: any optimizer with its learning rate following a [`Schedule`].

use super::Schedule;
use crate::hyper::Value;
use crate::saved::{self, Reader, Writer};
use crate::{Error, Float, Optimizer, Param};
use std::fmt;

/// An optimizer whose learning rate follows a [`Schedule`], like torch's optimizer with
/// an `lr_scheduler` stepped after every `optimizer.step()`.
///
/// The base learning rate is the optimizer's when wrapped; each step first sets the
/// optimizer's learning rate to the schedule's value at the number of steps taken so
/// far (and, for OneCycleLR with `cycle_momentum`, its `momentum` or first of
/// `betas`), then steps it. A step skipped for non-finite gradients
/// ([`NonFinite::Skip`](crate::NonFinite::Skip)) leaves the schedule where it was.
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

    crate::engine::forward_policy_and_state_to_inner!();

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
