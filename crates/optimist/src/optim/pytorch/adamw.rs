//! torch.optim.AdamW: torch's Adam with decoupled weight decay.

use super::adam::{Adam, AdamRule, AdamStep, AmsGrad};
use crate::hyper::{variant, Range};
use crate::registry::{boxed, Build};
use crate::{Error, Float, Lane, Optimizer, Rule};

crate::config! {
    /// torch.optim.AdamW: [`Adam`] with `decoupled_weight_decay = true` and a default
    /// weight decay of 1e-2.
    ///
    /// p ← (1 − lr·weight_decay)·p;  m ← m + (1 − beta1)·(g − m);
    /// v ← beta2·v + (1 − beta2)·g²;  amsgrad: v̂ ← max(v̂, v), else v̂ = v;
    /// p ← p − lr/(1 − beta1^t) · m / (√v̂/√(1 − beta2^t) + eps)
    ///
    /// Paper: I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization",
    /// ICLR 2019 (arXiv:1711.05101).
    pub struct AdamW {
        name: "adamw", convention: "pytorch",
        formula: "p ← (1 − lr·weight_decay)·p; m ← m + (1 − beta1)(g − m); v ← beta2·v + (1 − beta2)·g²; v̂ ← max(v̂, v) if amsgrad, else v; p ← p − lr/(1 − beta1^t)·m/(√v̂/√(1 − beta2^t) + eps)",
        paper: "Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019, arXiv:1711.05101)";
        /// Learning rate.
        lr: f64 = 1e-3, Range::Positive;
        /// Decays of the first-moment (mean) and second-moment estimates.
        betas: (f64, f64) = (0.9, 0.999), Range::Unit;
        /// Added to the bias-corrected √v so that the first steps do not divide by zero.
        eps: f64 = 1e-8, Range::Positive;
        /// Each step shrinks p by the fraction lr·weight_decay.
        weight_decay: f64 = 1e-2, Range::NonNegative;
        /// AMSGrad: divide by the largest second moment seen (keeps a third buffer).
        amsgrad: bool = false, Range::Any;
    }
}

impl AdamW {
    /// The same optimizer as a torch Adam configuration.
    pub fn adam(&self) -> Adam {
        Adam {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            decoupled_weight_decay: true,
        }
    }
}

impl Build for AdamW {
    fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
        if self.amsgrad {
            boxed(AmsGradW(self))
        } else {
            boxed(AdamWRule(self))
        }
    }
}

variant! {
    /// torch's AdamW without AMSGrad: Adam's rule under AdamW's name; two buffers.
    pub struct AdamWRule(pub AdamW);
}

variant! {
    /// torch's AdamW with AMSGrad: Adam's AMSGrad rule under AdamW's name; three buffers.
    pub struct AmsGradW(pub AdamW);
}

impl<F: Float> Rule<F> for AdamWRule {
    type State<T: Copy> = [T; 2];
    type Step = AdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> AdamStep<F> {
        self.0.adam().scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, state: &mut [T; 2]) {
        <AdamRule as Rule<F>>::apply(k, p, g, state);
    }
}

impl<F: Float> Rule<F> for AmsGradW {
    type State<T: Copy> = [T; 3];
    type Step = AdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> AdamStep<F> {
        self.0.adam().scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, state: &mut [T; 3]) {
        <AmsGrad as Rule<F>>::apply(k, p, g, state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = AdamW::from_spec(&"adamw:weight_decay=-0.01".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adamw: weight_decay = -0.01 is out of range; allowed: weight_decay >= 0 and finite"
        );
        let e = AdamW::from_spec(&"adamw:betas=-0.1/0.999".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("0 <= betas < 1"), "{e}");
    }
}
