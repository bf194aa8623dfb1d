//! torch.optim.NAdam.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{CarryState, Float, Lane, Rule};

crate::config! {
    /// torch.optim.NAdam: Adam with Nesterov momentum, whose momentum coefficient μ_t
    /// warms up with momentum_decay.
    ///
    /// μ_t = beta1·(1 − ½·0.96^(t·momentum_decay));  Π_t = μ_1···μ_t;
    /// g ← g + weight_decay·p (or p ← (1 − lr·weight_decay)·p if decoupled);
    /// m ← m + (1 − beta1)·(g − m);  v ← beta2·v + (1 − beta2)·g²;
    /// d = √(v/(1 − beta2^t)) + eps;
    /// p ← p − lr·(1 − μ_t)/(1 − Π_t) · g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d
    ///
    /// Paper: T. Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    pub struct NAdam {
        name: "nadam", convention: "pytorch",
        formula: "μ_t = beta1·(1 − 0.5·0.96^(t·momentum_decay)), Π_t = μ_1···μ_t; g ← g + weight_decay·p (p ← (1 − lr·weight_decay)·p if decoupled_weight_decay); m ← m + (1 − beta1)(g − m); v ← beta2·v + (1 − beta2)·g²; d = √(v/(1 − beta2^t)) + eps; p ← p − lr(1 − μ_t)/(1 − Π_t)·g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1})·m/d",
        paper: "Dozat, Incorporating Nesterov Momentum into Adam (ICLR 2016 workshop)";
        /// Learning rate.
        lr: f64 = 2e-3, Range::Positive;
        /// Decays of the first-moment (mean) and second-moment estimates.
        betas: (f64, f64) = (0.9, 0.999), Range::Unit;
        /// Added to the bias-corrected √v so that the first steps do not divide by zero.
        eps: f64 = 1e-8, Range::Positive;
        /// Weight decay: an L2 penalty added to the gradient, or with
        /// decoupled_weight_decay a shrinking of p by lr·weight_decay.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// How fast μ_t warms up from beta1/2 to beta1.
        momentum_decay: f64 = 4e-3, Range::NonNegative;
        /// Shrink p directly instead of adding an L2 penalty to the gradient.
        decoupled_weight_decay: bool = false, Range::Any;
    }
}

/// NAdam's scalar state: the running product Π_t of the momentum coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NAdamCarry {
    /// μ_1···μ_t after step t; 1 before the first step.
    pub mu_product: f64,
}

impl Default for NAdamCarry {
    fn default() -> Self {
        NAdamCarry { mu_product: 1.0 }
    }
}

impl CarryState for NAdamCarry {
    const NAMES: &'static [&'static str] = &["mu_product"];
    fn to_numbers(&self) -> Vec<f64> {
        vec![self.mu_product]
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        match *numbers {
            // A product of coefficients in [0, 1).
            [mu_product] if (0.0..=1.0).contains(&mu_product) => Some(NAdamCarry { mu_product }),
            _ => None,
        }
    }
}

/// NAdam's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct NAdamStep<F> {
    /// lr·(1 − μ_t)/(1 − Π_t), the weight of the gradient.
    grad_step: F,
    /// lr·μ_{t+1}/(1 − Π_t·μ_{t+1}), the weight of the first moment.
    moment_step: F,
    /// 1 − beta2^t.
    bias_correction2: F,
    one_minus_beta1: F,
    beta2: F,
    one_minus_beta2: F,
    eps: F,
    /// L2 or decoupled weight decay.
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for NAdam {
    type State<T: Copy> = [T; 2];
    type Step = NAdamStep<F>;
    type Carry = NAdamCarry;
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn step(&self, t: u64, carry: &mut NAdamCarry) -> NAdamStep<F> {
        let (beta1, beta2) = self.betas;
        let t = t as f64;
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        carry.mu_product *= mu;
        let mu_product_next = carry.mu_product * mu_next;
        NAdamStep {
            grad_step: F::from_f64(self.lr * (1.0 - mu) / (1.0 - carry.mu_product)),
            moment_step: F::from_f64(self.lr * mu_next / (1.0 - mu_product_next)),
            bias_correction2: F::from_f64(1.0 - beta2.powf(t)),
            one_minus_beta1: F::from_f64(1.0 - beta1),
            beta2: F::from_f64(beta2),
            one_minus_beta2: F::from_f64(1.0 - beta2),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::either(self.lr, self.weight_decay, self.decoupled_weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: NAdamStep<F>, p: &mut T, g: T, [m, v]: &mut [T; 2]) {
        let g = k.decay.apply(p, g);
        *m = *m + (g - *m) * k.one_minus_beta1;
        *v = *v * k.beta2 + g * g * k.one_minus_beta2;
        let d = (*v / k.bias_correction2).sqrt() + k.eps;
        *p = *p - g / d * k.grad_step;
        *p = *p - *m / d * k.moment_step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;
    use crate::{Elementwise, Optimizer, Params, Tensor};

    #[test]
    fn rejects_out_of_range_values() {
        let e = NAdam::from_spec(&"nadam:momentum_decay=-1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "nadam: momentum_decay = -1 is out of range; allowed: momentum_decay >= 0 and finite"
        );
    }

    #[test]
    fn carries_the_product_of_momentum_coefficients_and_resets_it() {
        let mut opt = Elementwise::<f64, _>::new(NAdam::default()).unwrap();
        let mut params: Params<f64> = [("w", Tensor::scalar(1.0))].into_iter().collect();
        let grads = params.clone();
        let mu = |t: f64| 0.9 * (1.0 - 0.5 * 0.96f64.powf(t * 4e-3));
        opt.update(&mut params, &grads).unwrap();
        opt.update(&mut params, &grads).unwrap();
        let carry = opt.state().tensors[0].carry;
        assert!((carry.mu_product - mu(1.0) * mu(2.0)).abs() < 1e-15);
        opt.reset();
        assert!(opt.state().tensors.is_empty());
    }
}
