//! Stochastic gradient descent.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// Stochastic gradient descent, the article's `SGD`:
    ///
    /// p ← p − lr·g
    ///
    /// Paper: H. Robbins and S. Monro, "A Stochastic Approximation Method",
    /// *Annals of Mathematical Statistics* 22(3), 1951.
    pub struct Sgd {
        name: "sgd", convention: "article",
        formula: "p ← p − lr·g",
        paper: "Robbins & Monro, A Stochastic Approximation Method (1951)";
        /// Learning rate.
        lr: f64 = 0.01, Range::Positive;
    }
}

impl<F: Float> Rule<F> for Sgd {
    type State<T: Copy> = [T; 0];
    type Step = F;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &[];

    fn step(&self, _t: u64, _: &mut ()) -> F {
        F::from_f64(self.lr)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(lr: F, p: &mut T, g: T, _: &mut [T; 0]) {
        *p = *p - g * lr;
    }
}
