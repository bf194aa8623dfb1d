//! SGD with (heavy-ball) momentum.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// Momentum SGD, the article's `Momentum`: a velocity accumulates past steps.
    ///
    /// v ← momentum·v − lr·g;  p ← p + v
    ///
    /// Paper: B. T. Polyak, "Some methods of speeding up the convergence of iteration
    /// methods", *USSR Computational Mathematics and Mathematical Physics* 4(5), 1964.
    pub struct Momentum {
        name: "momentum", convention: "article",
        formula: "v ← momentum·v − lr·g; p ← p + v",
        paper: "Polyak, Some methods of speeding up the convergence of iteration methods (1964)";
        /// Learning rate.
        lr: f64 = 0.01, Range::Positive;
        /// Fraction of the velocity kept from one step to the next.
        momentum: f64 = 0.9, Range::Unit;
    }
}

/// Momentum's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct MomentumStep<F> {
    lr: F,
    momentum: F,
}

impl<F: Float> Rule<F> for Momentum {
    type State<T: Copy> = [T; 1];
    type Step = MomentumStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["velocity"];

    fn step(&self, _t: u64, _: &mut ()) -> MomentumStep<F> {
        MomentumStep {
            lr: F::from_f64(self.lr),
            momentum: F::from_f64(self.momentum),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: MomentumStep<F>, p: &mut T, g: T, [v]: &mut [T; 1]) {
        *v = *v * k.momentum - g * k.lr;
        *p = *p + *v;
    }
}
