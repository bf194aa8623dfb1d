//! optax.contrib.schedule_free_adamw.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{CarryState, Float, Lane, Rule};

crate::config! {
    /// optax.contrib.schedule_free_adamw: AdamW without momentum takes the steps of a
    /// sequence z; the parameters y given to the gradient interpolate between z and x,
    /// a running average of z weighted by the largest learning rate so far, so that no
    /// decaying schedule is needed.
    ///
    /// v ← b2·v + (1 − b2)·g²;  z' = z − lr·(g/(√(v/(1 − b2^t)) + eps) + weight_decay·y);
    /// x = (y − (1 − b1)·z)/b1;  c = w_t/Σw with w_t = (max lr so far)^weight_lr_power;
    /// x' = (1 − c)·x + c·z';  y ← b1·x' + (1 − b1)·z';  z ← z'  (z starts at y)
    ///
    /// Paper: A. Defazio et al., "The Road Less Scheduled", NeurIPS 2024
    /// (arXiv:2405.15682). With `warmup_steps`, lr warms up linearly from 0 as in
    /// optax's warmup_constant_schedule (the average reads it at step t, the AdamW step
    /// at t − 1, as optax does).
    pub struct ScheduleFreeAdamW {
        name: "schedule_free_adamw", convention: "optax",
        formula: "v ← b2·v + (1 − b2)g²; z' = z − lr·(g/(√v̂ + eps) + weight_decay·y); x = (y − (1 − b1)z)/b1; c = w_t/Σw, w_t = max_lr^weight_lr_power; y ← b1·((1 − c)x + c·z') + (1 − b1)z'; z ← z'",
        paper: "Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, The Road Less Scheduled (NeurIPS 2024, arXiv:2405.15682)";
        /// Peak learning rate of the AdamW steps on z.
        learning_rate: f64 = 0.0025, Range::Positive;
        /// Linear warmup from 0 over this many steps; 0 for none (optax's `None`).
        warmup_steps: u64 = 0, Range::AtLeast(0);
        /// Interpolation between the average x and the iterate z at which gradients are
        /// taken (must be > 0).
        b1: f64 = 0.9, Range::Between { lo: 0.0, lo_incl: false, hi: 1.0, hi_incl: true };
        /// Decay of the second-moment estimate.
        b2: f64 = 0.999, Range::Unit;
        /// Added to √v̂, outside the square root.
        eps: f64 = 1e-8, Range::NonNegative;
        /// Decoupled weight decay, on y, scaled by the learning rate.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// Power of the largest learning rate so far that weighs each z in the average.
        weight_lr_power: f64 = 2.0, Range::NonNegative;
    }
}

impl ScheduleFreeAdamW {
    /// The learning rate at schedule count `count` (optax's warmup_constant_schedule).
    fn lr_at(&self, count: u64) -> f64 {
        let w = self.warmup_steps as f64;
        if w == 0.0 || count as f64 >= w {
            return self.learning_rate;
        }
        let frac = 1.0 - count as f64 / w;
        (0.0 - self.learning_rate) * frac + self.learning_rate
    }
}

/// Schedule-free AdamW's scalar state: the weights of the average so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScheduleFreeCarry {
    /// The largest learning rate seen.
    pub max_lr: f64,
    /// The sum of the weights of every z averaged so far.
    pub weight_sum: f64,
}

impl CarryState for ScheduleFreeCarry {
    const NAMES: &'static [&'static str] = &["max_lr", "weight_sum"];
    fn to_numbers(&self) -> Vec<f64> {
        vec![self.max_lr, self.weight_sum]
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        match *numbers {
            [max_lr, weight_sum]
                if max_lr.is_finite()
                    && max_lr >= 0.0
                    && weight_sum.is_finite()
                    && weight_sum >= 0.0 =>
            {
                Some(ScheduleFreeCarry { max_lr, weight_sum })
            }
            _ => None,
        }
    }
}

/// Schedule-free AdamW's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleFreeAdamWStep<F> {
    first: bool,
    lr: F,
    c: F,
    one_minus_c: F,
    b1: F,
    one_minus_b1: F,
    b2: F,
    one_minus_b2: F,
    bias2: F,
    eps: F,
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for ScheduleFreeAdamW {
    /// z (the AdamW iterate) and v (the second moment).
    type State<T: Copy> = [T; 2];
    type Step = ScheduleFreeAdamWStep<F>;
    type Carry = ScheduleFreeCarry;
    const SLOT_NAMES: &'static [&'static str] = &["z", "nu"];

    fn step(&self, t: u64, carry: &mut ScheduleFreeCarry) -> ScheduleFreeAdamWStep<F> {
        carry.max_lr = carry.max_lr.max(self.lr_at(t));
        let weight = carry.max_lr.powf(self.weight_lr_power);
        carry.weight_sum += weight;
        let c = if carry.weight_sum == 0.0 {
            0.0
        } else {
            weight / carry.weight_sum
        };
        ScheduleFreeAdamWStep {
            first: t == 1,
            lr: F::from_f64(self.lr_at(t - 1)),
            c: F::from_f64(c),
            one_minus_c: F::from_f64(1.0 - c),
            b1: F::from_f64(self.b1),
            one_minus_b1: F::from_f64(1.0 - self.b1),
            b2: F::from_f64(self.b2),
            one_minus_b2: F::from_f64(1.0 - self.b2),
            bias2: F::from_f64(1.0 - self.b2.powf(t as f64)),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::l2(self.weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: ScheduleFreeAdamWStep<F>, y: &mut T, g: T, [z, v]: &mut [T; 2]) {
        if k.first {
            *z = *y;
        }
        *v = g * g * k.one_minus_b2 + *v * k.b2;
        let u = k.decay.penalized(*y, g / ((*v / k.bias2).sqrt() + k.eps));
        let z_next = *z - u * k.lr;
        let x = (*y - *z * k.one_minus_b1) / k.b1;
        let x = x * k.one_minus_c + z_next * k.c;
        *y = x * k.b1 + z_next * k.one_minus_b1;
        *z = z_next;
    }
}

#[cfg(test)]
mod tests {
    use crate::{registry, Convention, Optimizer, Params, Tensor};

    fn grad(y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(i, &y)| (0.2 + 0.3 * i as f64) * y + 0.3 * (3.0 * y).cos())
            .collect()
    }

    /// optax's schedule_free_adamw written out as optax composes it: scale_by_rms
    /// (bias-corrected, eps outside the root), add_decayed_weights on y, the learning
    /// rate schedule (count from 0), then the schedule-free average (count from 1).
    fn optax_reference(y0: &[f64], steps: usize, lr: f64, warmup: f64, wd: f64) -> Vec<f64> {
        let (b1, b2, eps, power) = (0.9, 0.999, 1e-8, 2.0);
        let sched = |count: f64| {
            if warmup == 0.0 || count >= warmup {
                lr
            } else {
                (0.0 - lr) * (1.0 - count / warmup) + lr
            }
        };
        let (mut y, mut z) = (y0.to_vec(), y0.to_vec());
        let mut nu = vec![0.0; y.len()];
        let (mut weight_sum, mut max_lr) = (0.0f64, 0.0f64);
        for t in 1..=steps {
            let g = grad(&y);
            max_lr = max_lr.max(sched(t as f64));
            let weight = max_lr.powf(power);
            let total = weight_sum + weight;
            let ck = if total == 0.0 { 0.0 } else { weight / total };
            for i in 0..y.len() {
                nu[i] = (1.0 - b2) * g[i] * g[i] + b2 * nu[i];
                let nu_hat = nu[i] / (1.0 - b2.powf(t as f64));
                let u = (1.0 / (nu_hat.sqrt() + eps)) * g[i] + wd * y[i];
                let z_next = z[i] + -sched((t - 1) as f64) * u;
                let prev_x = (y[i] - (1.0 - b1) * z[i]) / b1;
                let x = (1.0 - ck) * prev_x + ck * z_next;
                let y_next = b1 * x + (1.0 - b1) * z_next;
                y[i] += y_next - y[i];
                z[i] = z_next;
            }
            weight_sum = total;
        }
        y
    }

    fn run(spec: &str, y0: &[f64], steps: usize) -> Vec<f64> {
        let mut opt: Box<dyn Optimizer<f64>> =
            registry::build_in(&spec.parse().unwrap(), Convention::Optax).unwrap();
        let mut params: Params<f64> = [("y", Tensor::vector(y0.to_vec()))].into_iter().collect();
        for _ in 0..steps {
            let g = grad(params.get("y").unwrap().data());
            let grads: Params<f64> = [("y", Tensor::vector(g))].into_iter().collect();
            opt.update(&mut params, &grads).unwrap();
        }
        params.get("y").unwrap().data().to_vec()
    }

    #[test]
    fn matches_optax_composition_with_warmup_and_weight_decay() {
        let y0 = [0.4, -1.2, 0.9, 1.5];
        for (spec, lr, warmup, wd) in [
            ("schedule_free_adamw:learning_rate=0.05", 0.05, 0.0, 0.0),
            (
                "schedule_free_adamw:learning_rate=0.05,warmup_steps=4,weight_decay=0.1",
                0.05,
                4.0,
                0.1,
            ),
        ] {
            let got = run(spec, &y0, 12);
            let want = optax_reference(&y0, 12, lr, warmup, wd);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-13, "{spec} [{i}]: {g} vs {w}");
            }
        }
        // With warm-up the first AdamW step has lr 0 and the average weight 1: no move.
        let first = run("schedule_free_adamw:warmup_steps=3", &y0, 1);
        assert_eq!(first, y0.to_vec());
    }

    #[test]
    fn rejects_out_of_range_hyperparameters() {
        let err = |spec: &str| {
            registry::build_in::<f64>(&spec.parse().unwrap(), Convention::Optax)
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            err("schedule_free_adamw:b1=0"),
            "schedule_free_adamw: b1 = 0 is out of range; allowed: 0 < b1 <= 1"
        );
        assert_eq!(
            err("schedule_free_adamw:warmup_steps=2.5"),
            "schedule_free_adamw: warmup_steps = '2.5' is not a whole number"
        );
    }
}
