//! Adam.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// Adam, the article's `Adam`: momentum on the gradient and RMSprop's scaling, with
    /// the bias correction folded into the step size (eps outside the correction).
    ///
    /// t ← t + 1;  lr_t = lr·√(1 − beta2^t) / (1 − beta1^t);
    /// m ← m + (1 − beta1)·(g − m);  v ← v + (1 − beta2)·(g² − v);
    /// p ← p − lr_t·m / (√v + eps)
    ///
    /// Paper: D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    /// ICLR 2015 (arXiv:1412.6980).
    pub struct Adam {
        name: "adam", convention: "article",
        formula: "lr_t = lr·√(1 − beta2^t)/(1 − beta1^t); m ← m + (1 − beta1)(g − m); v ← v + (1 − beta2)(g² − v); p ← p − lr_t·m/(√v + eps)",
        paper: "Kingma & Ba, Adam: A Method for Stochastic Optimization (ICLR 2015, arXiv:1412.6980)";
        /// Learning rate.
        lr: f64 = 0.001, Range::Positive;
        /// Decay of the first-moment (mean) estimate.
        beta1: f64 = 0.9, Range::Unit;
        /// Decay of the second-moment (uncentered variance) estimate.
        beta2: f64 = 0.999, Range::Unit;
        /// Added to √v so that the first steps do not divide by zero (the article's 1e-7).
        eps: f64 = 1e-7, Range::Positive;
    }
}

/// Adam's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep<F> {
    lr_t: F,
    one_minus_beta1: F,
    one_minus_beta2: F,
    eps: F,
}

impl<F: Float> Rule<F> for Adam {
    type State<T: Copy> = [T; 2];
    type Step = AdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> AdamStep<F> {
        let t = t as f64;
        AdamStep {
            lr_t: F::from_f64(
                self.lr * (1.0 - self.beta2.powf(t)).sqrt() / (1.0 - self.beta1.powf(t)),
            ),
            one_minus_beta1: F::from_f64(1.0 - self.beta1),
            one_minus_beta2: F::from_f64(1.0 - self.beta2),
            eps: F::from_f64(self.eps),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, [m, v]: &mut [T; 2]) {
        *m = *m + (g - *m) * k.one_minus_beta1;
        *v = *v + (g * g - *v) * k.one_minus_beta2;
        *p = *p - *m * k.lr_t / (v.sqrt() + k.eps);
    }
}
