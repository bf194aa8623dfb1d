//! torch.optim.Adadelta.

use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Float, Lane, Rule};

crate::config! {
    /// torch.optim.Adadelta: each step is scaled by the ratio of the RMS of past steps
    /// to the RMS of past gradients, then by lr (1 in the paper).
    ///
    /// g ← g + weight_decay·p;  v ← rho·v + (1 − rho)·g²;
    /// Δ = √(u + eps) / √(v + eps) · g;  u ← rho·u + (1 − rho)·Δ²;  p ← p − lr·Δ
    ///
    /// Paper: M. D. Zeiler, "ADADELTA: An Adaptive Learning Rate Method",
    /// arXiv:1212.5701, 2012.
    pub struct Adadelta {
        name: "adadelta", convention: "pytorch",
        formula: "g ← g + weight_decay·p; v ← rho·v + (1 − rho)·g²; Δ = √(u + eps)/√(v + eps)·g; u ← rho·u + (1 − rho)·Δ²; p ← p − lr·Δ",
        paper: "Zeiler, ADADELTA: An Adaptive Learning Rate Method (arXiv:1212.5701, 2012)";
        /// Scales each step (the paper has none, i.e. 1).
        lr: f64 = 1.0, Range::Positive;
        /// Fraction of the squared-gradient and squared-step averages kept.
        rho: f64 = 0.9, Range::UnitClosed;
        /// Added inside both roots; also sets the size of the first steps.
        eps: f64 = 1e-6, Range::Positive;
        /// L2 penalty: `weight_decay·p` is added to the gradient.
        weight_decay: f64 = 0.0, Range::NonNegative;
    }
}

/// Adadelta's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdadeltaStep<F> {
    lr: F,
    rho: F,
    one_minus_rho: F,
    eps: F,
    decay: WeightDecay<F>,
}

impl<F: Float> Rule<F> for Adadelta {
    type State<T: Copy> = [T; 2];
    type Step = AdadeltaStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg", "acc_delta"];

    fn step(&self, _t: u64, _: &mut ()) -> AdadeltaStep<F> {
        AdadeltaStep {
            lr: F::from_f64(self.lr),
            rho: F::from_f64(self.rho),
            one_minus_rho: F::from_f64(1.0 - self.rho),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::l2(self.weight_decay),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdadeltaStep<F>, p: &mut T, g: T, [v, u]: &mut [T; 2]) {
        let g = k.decay.penalized(*p, g);
        *v = *v * k.rho + g * g * k.one_minus_rho;
        let delta = (*u + k.eps).sqrt() / (*v + k.eps).sqrt() * g;
        *u = *u * k.rho + delta * delta * k.one_minus_rho;
        *p = *p - delta * k.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = Adadelta::from_spec(&"adadelta:rho=1.1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adadelta: rho = 1.1 is out of range; allowed: 0 <= rho <= 1"
        );
        let e = Adadelta::from_spec(&"adadelta:eps=0".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("eps > 0"), "{e}");
    }
}
