//! torch's OneCycleLR: the 1cycle policy, its phases and their annealing.

use crate::hyper::Range;
use crate::Error;
use std::f64::consts::PI;
use std::fmt;

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

impl OneCycleLr {
    /// The learning rate and momentum at `step` (torch's `get_lr`).
    pub(super) fn at(&self, anneal: Anneal, step: f64) -> Result<(f64, f64), Error> {
        let c = self;
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
}
