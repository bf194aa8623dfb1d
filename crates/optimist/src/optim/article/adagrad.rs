//! AdaGrad.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// AdaGrad, the article's `AdaGrad`: each element's step shrinks with the sum of its
    /// squared gradients.
    ///
    /// h ← h + g²;  p ← p − lr·g / (√h + eps)
    ///
    /// Paper: J. Duchi, E. Hazan and Y. Singer, "Adaptive Subgradient Methods for Online
    /// Learning and Stochastic Optimization", *JMLR* 12, 2011.
    pub struct AdaGrad {
        name: "adagrad", convention: "article",
        formula: "h ← h + g²; p ← p − lr·g / (√h + eps)",
        paper: "Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and Stochastic Optimization (JMLR 2011)";
        /// Learning rate.
        lr: f64 = 0.01, Range::Positive;
        /// Added to √h so that the first steps do not divide by zero (the article's 1e-7).
        eps: f64 = 1e-7, Range::Positive;
    }
}

/// AdaGrad's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdaGradStep<F> {
    lr: F,
    eps: F,
}

impl<F: Float> Rule<F> for AdaGrad {
    type State<T: Copy> = [T; 1];
    type Step = AdaGradStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["sum"];

    fn step(&self, _t: u64, _: &mut ()) -> AdaGradStep<F> {
        AdaGradStep {
            lr: F::from_f64(self.lr),
            eps: F::from_f64(self.eps),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdaGradStep<F>, p: &mut T, g: T, [h]: &mut [T; 1]) {
        *h = *h + g * g;
        *p = *p - g * k.lr / (h.sqrt() + k.eps);
    }
}
