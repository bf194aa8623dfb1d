//! RMSprop.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// RMSprop, the article's `RMSprop`: AdaGrad with a decaying average of squared
    /// gradients instead of their sum.
    ///
    /// h ← decay_rate·h + (1 − decay_rate)·g²;  p ← p − lr·g / (√h + eps)
    ///
    /// Source: T. Tieleman and G. Hinton, "Lecture 6.5 — RMSprop: Divide the gradient by
    /// a running average of its recent magnitude", COURSERA: Neural Networks for Machine
    /// Learning, 2012.
    pub struct RmsProp {
        name: "rmsprop", convention: "article",
        formula: "h ← decay_rate·h + (1 − decay_rate)·g²; p ← p − lr·g / (√h + eps)",
        paper: "Tieleman & Hinton, Lecture 6.5 of Neural Networks for Machine Learning (Coursera 2012)";
        /// Learning rate.
        lr: f64 = 0.01, Range::Positive;
        /// Fraction of the squared-gradient average kept from one step to the next.
        decay_rate: f64 = 0.99, Range::Unit;
        /// Added to √h so that the first steps do not divide by zero (the article's 1e-7).
        eps: f64 = 1e-7, Range::Positive;
    }
}

/// RMSprop's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct RmsPropStep<F> {
    lr: F,
    decay_rate: F,
    one_minus_decay: F,
    eps: F,
}

impl<F: Float> Rule<F> for RmsProp {
    type State<T: Copy> = [T; 1];
    type Step = RmsPropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg"];

    fn step(&self, _t: u64, _: &mut ()) -> RmsPropStep<F> {
        RmsPropStep {
            lr: F::from_f64(self.lr),
            decay_rate: F::from_f64(self.decay_rate),
            one_minus_decay: F::from_f64(1.0 - self.decay_rate),
            eps: F::from_f64(self.eps),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RmsPropStep<F>, p: &mut T, g: T, [h]: &mut [T; 1]) {
        *h = *h * k.decay_rate + g * k.one_minus_decay * g;
        *p = *p - g * k.lr / (h.sqrt() + k.eps);
    }
}
