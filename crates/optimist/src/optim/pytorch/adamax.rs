//! torch.optim.Adamax.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Float, Lane, Rule};

crate::config! {
    /// torch.optim.Adamax: Adam with the infinity norm in place of the second moment.
    ///
    /// g ← g + weight_decay·p;  m ← m + (1 − beta1)·(g − m);
    /// u ← max(beta2·u, |g| + eps);  p ← p − lr/(1 − beta1^t) · m/u
    ///
    /// Paper: D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    /// ICLR 2015 (arXiv:1412.6980), section 7.1.
    pub struct Adamax {
        name: "adamax", convention: "pytorch",
        formula: "g ← g + weight_decay·p; m ← m + (1 − beta1)(g − m); u ← max(beta2·u, |g| + eps); p ← p − lr/(1 − beta1^t)·m/u",
        paper: "Kingma & Ba, Adam: A Method for Stochastic Optimization (ICLR 2015, arXiv:1412.6980), section 7.1";
        /// Learning rate.
        lr: f64 = 2e-3, Range::Positive;
        /// Decays of the first moment and of the infinity norm.
        betas: (f64, f64) = (0.9, 0.999), Range::Unit;
        /// Added to |g| so that u is never zero.
        eps: f64 = 1e-8, Range::Positive;
        /// L2 penalty: `weight_decay·p` is added to the gradient.
        weight_decay: f64 = 0.0, Range::NonNegative;
    }
}

/// Adamax's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdamaxStep<F> {
    /// lr / (1 − beta1^t).
    clr: F,
    one_minus_beta1: F,
    beta2: F,
    eps: F,
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for Adamax {
    type State<T: Copy> = [T; 2];
    type Step = AdamaxStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_inf"];

    fn step(&self, t: u64, _: &mut ()) -> AdamaxStep<F> {
        let (beta1, beta2) = self.betas;
        AdamaxStep {
            clr: F::from_f64(self.lr / (1.0 - beta1.powf(t as f64))),
            one_minus_beta1: F::from_f64(1.0 - beta1),
            beta2: F::from_f64(beta2),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::l2(self.weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamaxStep<F>, p: &mut T, g: T, [m, u]: &mut [T; 2]) {
        let g = k.decay.penalized(*p, g);
        *m = *m + (g - *m) * k.one_minus_beta1;
        *u = (*u * k.beta2).max(g.abs() + k.eps);
        *p = *p - *m / *u * k.clr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = Adamax::from_spec(&"adamax:betas=0.9/1.5".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adamax: betas = 0.9/1.5 is out of range; allowed: 0 <= betas < 1"
        );
    }
}
