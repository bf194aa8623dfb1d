//! torch.optim.Adagrad.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Float, Lane, Rule};

crate::config! {
    /// torch.optim.Adagrad. Unlike the article's `adagrad`: a decaying learning rate,
    /// an accumulator that may start above zero, and eps = 1e-10.
    ///
    /// clr = lr / (1 + (t − 1)·lr_decay);  g ← g + weight_decay·p;
    /// h ← h + g² (h starts at initial_accumulator_value);  p ← p − clr·g / (√h + eps)
    ///
    /// Paper: J. Duchi, E. Hazan and Y. Singer, "Adaptive Subgradient Methods for Online
    /// Learning and Stochastic Optimization", *JMLR* 12, 2011.
    pub struct Adagrad {
        name: "adagrad", convention: "pytorch",
        formula: "clr = lr/(1 + (t − 1)·lr_decay); g ← g + weight_decay·p; h ← h + g² (h₀ = initial_accumulator_value); p ← p − clr·g/(√h + eps); unlike the article's adagrad, lr decays and eps = 1e-10",
        paper: "Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and Stochastic Optimization (JMLR 2011)";
        /// Learning rate at step 1.
        lr: f64 = 1e-2, Range::Positive;
        /// Step t uses lr / (1 + (t − 1)·lr_decay).
        lr_decay: f64 = 0.0, Range::NonNegative;
        /// L2 penalty: `weight_decay·p` is added to the gradient.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// The sum of squared gradients starts at this value.
        initial_accumulator_value: f64 = 0.0, Range::NonNegative;
        /// Added to √h so that the first steps do not divide by zero.
        eps: f64 = 1e-10, Range::Positive;
    }
}

/// Adagrad's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdagradStep<F> {
    clr: F,
    decay: WeightDecay<F>,
    /// initial_accumulator_value at step 1 (the engine's state starts at zero), else 0.
    init: F,
    eps: F,
}

impl<F: Float> Rule<F> for Adagrad {
    type State<T: Copy> = [T; 1];
    type Step = AdagradStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["sum"];

    fn step(&self, t: u64, _: &mut ()) -> AdagradStep<F> {
        AdagradStep {
            clr: F::from_f64(self.lr / (1.0 + (t - 1) as f64 * self.lr_decay)),
            decay: WeightDecay::l2(self.weight_decay),
            init: F::from_f64(if t == 1 {
                self.initial_accumulator_value
            } else {
                0.0
            }),
            eps: F::from_f64(self.eps),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdagradStep<F>, p: &mut T, g: T, [h]: &mut [T; 1]) {
        let g = k.decay.penalized(*p, g);
        *h = *h + k.init + g * g;
        *p = *p - g / (h.sqrt() + k.eps) * k.clr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = Adagrad::from_spec(&"adagrad:eps=0".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adagrad: eps = 0 is out of range; allowed: eps > 0 and finite"
        );
        let e = Adagrad::from_spec(&"adagrad:lr_decay=-0.1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adagrad: lr_decay = -0.1 is out of range; allowed: lr_decay >= 0 and finite"
        );
    }
}
