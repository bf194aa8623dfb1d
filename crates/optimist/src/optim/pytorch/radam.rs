//! torch.optim.RAdam.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Float, Lane, Rule};

crate::config! {
    /// torch.optim.RAdam: Adam whose adaptive step is switched on, and scaled by a
    /// rectification term r_t, only once the variance of the adaptive rate is tractable
    /// (ρ_t > 5); before that, momentum SGD with a bias-corrected mean.
    ///
    /// g ← g + weight_decay·p (or p ← (1 − lr·weight_decay)·p if decoupled);
    /// m ← m + (1 − beta1)·(g − m);  v ← beta2·v + (1 − beta2)·g²;
    /// ρ_∞ = 2/(1 − beta2) − 1;  ρ_t = ρ_∞ − 2t·beta2^t/(1 − beta2^t);
    /// ρ_t > 5: r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)),
    /// p ← p − lr·m/(1 − beta1^t) · r_t·√(1 − beta2^t)/(√v + eps);
    /// else p ← p − lr·m/(1 − beta1^t)
    ///
    /// Paper: L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao and J. Han, "On the
    /// Variance of the Adaptive Learning Rate and Beyond", ICLR 2020 (arXiv:1908.03265).
    pub struct RAdam {
        name: "radam", convention: "pytorch",
        formula: "g ← g + weight_decay·p (p ← (1 − lr·weight_decay)·p if decoupled_weight_decay); m ← m + (1 − beta1)(g − m); v ← beta2·v + (1 − beta2)·g²; ρ∞ = 2/(1 − beta2) − 1, ρ_t = ρ∞ − 2t·beta2^t/(1 − beta2^t); if ρ_t > 5: r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρ_t)), p ← p − lr·m/(1 − beta1^t)·r_t·√(1 − beta2^t)/(√v + eps); else p ← p − lr·m/(1 − beta1^t)",
        paper: "Liu et al., On the Variance of the Adaptive Learning Rate and Beyond (ICLR 2020, arXiv:1908.03265)";
        /// Learning rate.
        lr: f64 = 1e-3, Range::Positive;
        /// Decays of the first-moment (mean) and second-moment estimates.
        betas: (f64, f64) = (0.9, 0.999), Range::Unit;
        /// Added to √v so that the adaptive steps do not divide by zero.
        eps: f64 = 1e-8, Range::Positive;
        /// Weight decay: an L2 penalty added to the gradient, or with
        /// decoupled_weight_decay a shrinking of p by lr·weight_decay.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// Shrink p directly instead of adding an L2 penalty to the gradient.
        decoupled_weight_decay: bool = false, Range::Any;
    }
}

/// RAdam's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct RAdamStep<F> {
    /// Whether ρ_t > 5: the same for every element of a step.
    rectified: bool,
    /// lr / (1 − beta1^t).
    step_size: F,
    /// r_t·√(1 − beta2^t), used when rectified.
    adaptive: F,
    one_minus_beta1: F,
    beta2: F,
    one_minus_beta2: F,
    eps: F,
    /// L2 or decoupled weight decay.
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for RAdam {
    type State<T: Copy> = [T; 2];
    type Step = RAdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> RAdamStep<F> {
        let (beta1, beta2) = self.betas;
        let t = t as f64;
        let bias_correction2 = 1.0 - beta2.powf(t);
        // In torch's order of operations: the threshold test must fall the same way.
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = if rectified {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt()
        } else {
            0.0
        };
        RAdamStep {
            rectified,
            step_size: F::from_f64(self.lr / (1.0 - beta1.powf(t))),
            adaptive: F::from_f64(rect * bias_correction2.sqrt()),
            one_minus_beta1: F::from_f64(1.0 - beta1),
            beta2: F::from_f64(beta2),
            one_minus_beta2: F::from_f64(1.0 - beta2),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::either(self.lr, self.weight_decay, self.decoupled_weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RAdamStep<F>, p: &mut T, g: T, [m, v]: &mut [T; 2]) {
        let g = k.decay.apply(p, g);
        *m = *m + (g - *m) * k.one_minus_beta1;
        *v = *v * k.beta2 + g * g * k.one_minus_beta2;
        if k.rectified {
            *p = *p - *m * k.step_size * k.adaptive / (v.sqrt() + k.eps);
        } else {
            *p = *p - *m * k.step_size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;
    use crate::{Elementwise, Optimizer, Params, Tensor};

    #[test]
    fn rejects_out_of_range_values() {
        let e = RAdam::from_spec(&"radam:betas=1/0.999".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "radam: betas = 1/0.999 is out of range; allowed: 0 <= betas < 1"
        );
    }

    /// With beta2 = 0.999, ρ_t first exceeds 5 at step 6: before that the step is
    /// lr times the bias-corrected mean, which for a constant gradient is the gradient.
    #[test]
    fn switches_on_the_adaptive_step_after_five_steps() {
        let config = RAdam {
            lr: 0.1,
            ..RAdam::default()
        };
        let mut opt = Elementwise::<f64, _>::new(config).unwrap();
        let mut params: Params<f64> = [("w", Tensor::scalar(1.0))].into_iter().collect();
        let grads: Params<f64> = [("w", Tensor::scalar(0.5))].into_iter().collect();
        for t in 1..=6 {
            let before = params.get("w").unwrap().data()[0];
            opt.update(&mut params, &grads).unwrap();
            let moved = before - params.get("w").unwrap().data()[0];
            let plain = 0.1 * 0.5;
            if t <= 5 {
                assert!((moved - plain).abs() < 1e-14, "step {t}: {moved}");
            } else {
                assert!((moved - plain).abs() > 1e-3, "step {t}: {moved}");
            }
        }
    }
}
