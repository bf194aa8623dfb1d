//! torch's decaying schedules: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR
//! and LinearLR, each with its learning rate at an epoch.

use crate::hyper::Range;
use std::f64::consts::PI;

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

impl StepLr {
    /// Decay by `gamma` (0.1 unless changed) every `step_size` epochs.
    pub fn new(step_size: u64) -> Self {
        StepLr {
            step_size,
            ..Default::default()
        }
    }
}

impl StepLr {
    /// The learning rate at `epoch` from `base_lr`.
    pub(super) fn lr(&self, base_lr: f64, epoch: f64) -> f64 {
        base_lr * self.gamma.powf((epoch / self.step_size as f64).floor())
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

impl MultiStepLr {
    /// The learning rate at `epoch` from `base_lr`, with these `milestones`.
    pub(super) fn lr(&self, milestones: &[u64], base_lr: f64, epoch: f64) -> f64 {
        let passed = milestones.iter().filter(|&&m| m as f64 <= epoch).count();
        base_lr * self.gamma.powf(passed as f64)
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

impl ExponentialLr {
    /// Decay by `gamma` every epoch.
    pub fn new(gamma: f64) -> Self {
        ExponentialLr { gamma }
    }
}

impl ExponentialLr {
    /// The learning rate at `epoch` from `base_lr`.
    pub(super) fn lr(&self, base_lr: f64, epoch: f64) -> f64 {
        base_lr * self.gamma.powf(epoch)
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

impl CosineAnnealingLr {
    /// Half a cosine down to `eta_min` (0 unless changed) over `t_max` epochs.
    pub fn new(t_max: u64) -> Self {
        CosineAnnealingLr {
            T_max: t_max,
            ..Default::default()
        }
    }
}

impl CosineAnnealingLr {
    /// The learning rate at `epoch` from `base_lr`.
    pub(super) fn lr(&self, base_lr: f64, epoch: f64) -> f64 {
        self.eta_min
            + (base_lr - self.eta_min) * (1.0 + (PI * epoch / self.T_max as f64).cos()) / 2.0
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

impl LinearLr {
    /// The learning rate at `epoch` from `base_lr`.
    pub(super) fn lr(&self, base_lr: f64, epoch: f64) -> f64 {
        let n = self.total_iters as f64;
        let done = epoch.min(n) / n;
        base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)
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

impl Warmup {
    /// The learning rate at `epoch` from `base_lr` while warming up (`epoch <
    /// warmup_steps`), else `None`.
    pub(super) fn lr(&self, base_lr: f64, epoch: f64) -> Option<f64> {
        let w = self.warmup_steps as f64;
        let s = self.warmup_start_factor;
        (epoch < w).then(|| base_lr * (s + (1.0 - s) * epoch / w))
    }
}
