//! optax.lion.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Float, Lane, Rule};

crate::config! {
    /// optax.lion (EvoLved Sign Momentum): every element moves by ±learning_rate, in
    /// the direction of the sign of an interpolation between the gradient and its
    /// momentum, plus decoupled weight decay.
    ///
    /// u = sign((1 − b1)·g + b1·m);  m ← (1 − b2)·g + b2·m;
    /// p ← p − learning_rate·(u + weight_decay·p)
    ///
    /// Paper: X. Chen, C. Liang, D. Huang, E. Real, K. Wang, Y. Liu, H. Pham, X. Dong,
    /// T. Luong, C.-J. Hsieh, Y. Lu and Q. V. Le, "Symbolic Discovery of Optimization
    /// Algorithms", NeurIPS 2023 (arXiv:2302.06675).
    pub struct Lion {
        name: "lion", convention: "optax",
        formula: "u = sign((1 − b1)·g + b1·m); m ← (1 − b2)·g + b2·m; p ← p − learning_rate·(u + weight_decay·p)",
        paper: "Chen et al., Symbolic Discovery of Optimization Algorithms (NeurIPS 2023, arXiv:2302.06675)";
        /// Learning rate. optax has no default; 1e-4 follows the paper's advice of a
        /// rate 3–10× below AdamW's.
        learning_rate: f64 = 1e-4, Range::Positive;
        /// Weight of the momentum in the interpolation whose sign is the step.
        b1: f64 = 0.9, Range::Unit;
        /// Decay of the momentum.
        b2: f64 = 0.99, Range::Unit;
        /// Decoupled weight decay, scaled by the learning rate (optax's default 1e-3).
        weight_decay: f64 = 1e-3, Range::NonNegative;
    }
}

/// Lion's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct LionStep<F> {
    learning_rate: F,
    b1: F,
    one_minus_b1: F,
    b2: F,
    one_minus_b2: F,
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for Lion {
    type State<T: Copy> = [T; 1];
    type Step = LionStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["mu"];

    fn step(&self, _t: u64, _: &mut ()) -> LionStep<F> {
        LionStep {
            learning_rate: F::from_f64(self.learning_rate),
            b1: F::from_f64(self.b1),
            one_minus_b1: F::from_f64(1.0 - self.b1),
            b2: F::from_f64(self.b2),
            one_minus_b2: F::from_f64(1.0 - self.b2),
            decay: WeightDecay::l2(self.weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: LionStep<F>, p: &mut T, g: T, [m]: &mut [T; 1]) {
        let u = (g * k.one_minus_b1 + *m * k.b1).sign();
        *m = g * k.one_minus_b2 + *m * k.b2;
        *p = *p - k.decay.penalized(*p, u) * k.learning_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = Lion::from_spec(&"lion:b2=1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "lion: b2 = 1 is out of range; allowed: 0 <= b2 < 1");
        let e = Lion::from_spec(&"lion:learning_rate=0".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("learning_rate > 0"), "{e}");
    }
}
