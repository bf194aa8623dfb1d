//! Nesterov's accelerated gradient.

use crate::hyper::Range;
use crate::{Float, Lane, Rule};

crate::config! {
    /// Nesterov's accelerated gradient, the article's `Nesterov`, in the form of
    /// Bengio et al. that needs the gradient at the current point only:
    ///
    /// v ← momentum·v − lr·g;  p ← p + momentum²·v − (1 + momentum)·lr·g
    ///
    /// Papers: Y. Nesterov, "A method for solving the convex programming problem with
    /// convergence rate O(1/k²)", *Soviet Mathematics Doklady* 27, 1983; Y. Bengio,
    /// N. Boulanger-Lewandowski and R. Pascanu, "Advances in Optimizing Recurrent
    /// Networks", ICASSP 2013 (arXiv:1212.0901).
    pub struct Nesterov {
        name: "nesterov", convention: "article",
        formula: "v ← momentum·v − lr·g; p ← p + momentum²·v − (1 + momentum)·lr·g",
        paper: "Nesterov (1983); Bengio, Boulanger-Lewandowski & Pascanu, Advances in Optimizing Recurrent Networks (arXiv:1212.0901)";
        /// Learning rate.
        lr: f64 = 0.01, Range::Positive;
        /// Fraction of the velocity kept from one step to the next.
        momentum: f64 = 0.9, Range::Unit;
    }
}

/// Nesterov's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct NesterovStep<F> {
    lr: F,
    momentum: F,
    momentum_sq: F,
    lr_ahead: F,
}

impl<F: Float> Rule<F> for Nesterov {
    type State<T: Copy> = [T; 1];
    type Step = NesterovStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["velocity"];

    fn step(&self, _t: u64, _: &mut ()) -> NesterovStep<F> {
        NesterovStep {
            lr: F::from_f64(self.lr),
            momentum: F::from_f64(self.momentum),
            momentum_sq: F::from_f64(self.momentum * self.momentum),
            lr_ahead: F::from_f64((1.0 + self.momentum) * self.lr),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: NesterovStep<F>, p: &mut T, g: T, [v]: &mut [T; 1]) {
        *v = *v * k.momentum - g * k.lr;
        *p = *p + *v * k.momentum_sq;
        *p = *p - g * k.lr_ahead;
    }
}
