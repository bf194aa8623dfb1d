//! torch.optim.RMSprop: plain or centered, with or without momentum.

use crate::hyper::{variant, Range};
use crate::optim::weight_decay::WeightDecay;
use crate::registry::{boxed, Build};
use crate::{Error, Float, Lane, Optimizer, Rule};

crate::config! {
    /// torch.optim.RMSprop. Unlike the article's `rmsprop`: the decay is called alpha,
    /// eps = 1e-8, and there are centered and momentum forms.
    ///
    /// g ← g + weight_decay·p;  v ← alpha·v + (1 − alpha)·g²;
    /// centered: a ← a + (1 − alpha)·(g − a), d = √(v − a²) + eps; else d = √v + eps;
    /// momentum > 0: b ← momentum·b + g/d, p ← p − lr·b; else p ← p − lr·g/d.
    ///
    /// Sources: T. Tieleman and G. Hinton, "Lecture 6.5 — RMSprop", COURSERA: Neural
    /// Networks for Machine Learning, 2012; A. Graves, "Generating Sequences With
    /// Recurrent Neural Networks", arXiv:1308.0850, 2013 (the centered form).
    pub struct RmsProp {
        name: "rmsprop", convention: "pytorch",
        formula: "g ← g + weight_decay·p; v ← alpha·v + (1 − alpha)·g²; d = √(v − a²) + eps with a ← a + (1 − alpha)(g − a) if centered, else √v + eps; b ← momentum·b + g/d, p ← p − lr·b if momentum > 0, else p ← p − lr·g/d; unlike the article's rmsprop, decay_rate is alpha and eps = 1e-8",
        paper: "Tieleman & Hinton, Lecture 6.5 of Neural Networks for Machine Learning (Coursera 2012); Graves, Generating Sequences With Recurrent Neural Networks (arXiv:1308.0850), centered form";
        /// Learning rate.
        lr: f64 = 1e-2, Range::Positive;
        /// Fraction of the squared-gradient average kept from one step to the next.
        alpha: f64 = 0.99, Range::Unit;
        /// Added to the root so that the first steps do not divide by zero.
        eps: f64 = 1e-8, Range::Positive;
        /// L2 penalty: `weight_decay·p` is added to the gradient.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// Fraction of the step buffer kept; 0 keeps no buffer.
        momentum: f64 = 0.0, Range::Unit;
        /// Divide by the gradient's estimated standard deviation instead of its RMS
        /// (keeps a running mean of the gradient).
        centered: bool = false, Range::Any;
    }
}

impl Build for RmsProp {
    fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
        match (self.centered, self.momentum > 0.0) {
            (false, false) => boxed(RmsPropRule(self)),
            (true, false) => boxed(RmsPropCentered(self)),
            (false, true) => boxed(RmsPropMomentum(self)),
            (true, true) => boxed(RmsPropCenteredMomentum(self)),
        }
    }
}

variant! {
    /// torch's RMSprop, neither centered nor with momentum: one buffer.
    pub struct RmsPropRule(pub RmsProp);
}

variant! {
    /// torch's RMSprop, centered, without momentum: two buffers.
    pub struct RmsPropCentered(pub RmsProp);
}

variant! {
    /// torch's RMSprop with momentum, not centered: two buffers.
    pub struct RmsPropMomentum(pub RmsProp);
}

variant! {
    /// torch's RMSprop, centered and with momentum: three buffers.
    pub struct RmsPropCenteredMomentum(pub RmsProp);
}

/// RMSprop's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct RmsPropStep<F> {
    lr: F,
    alpha: F,
    one_minus_alpha: F,
    eps: F,
    decay: WeightDecay<F>,
    momentum: F,
}

impl RmsProp {
    fn scalars<F: Float>(&self) -> RmsPropStep<F> {
        RmsPropStep {
            lr: F::from_f64(self.lr),
            alpha: F::from_f64(self.alpha),
            one_minus_alpha: F::from_f64(1.0 - self.alpha),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::l2(self.weight_decay),
            momentum: F::from_f64(self.momentum),
        }
    }
}

/// The gradient with its L2 penalty, after updating the squared-gradient average `v`.
#[inline(always)]
fn square_avg<F: Float, T: Lane<F>>(k: RmsPropStep<F>, p: T, g: T, v: &mut T) -> T {
    let g = k.decay.penalized(p, g);
    *v = *v * k.alpha + g * g * k.one_minus_alpha;
    g
}

/// The centered denominator √(v − a²) + eps, after updating the gradient mean `a`.
#[inline(always)]
fn centered_denom<F: Float, T: Lane<F>>(k: RmsPropStep<F>, g: T, v: T, a: &mut T) -> T {
    *a = *a + (g - *a) * k.one_minus_alpha;
    (v - *a * *a).sqrt() + k.eps
}

impl<F: Float> Rule<F> for RmsPropRule {
    type State<T: Copy> = [T; 1];
    type Step = RmsPropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg"];

    fn step(&self, _t: u64, _: &mut ()) -> RmsPropStep<F> {
        self.0.scalars()
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RmsPropStep<F>, p: &mut T, g: T, [v]: &mut [T; 1]) {
        let g = square_avg(k, *p, g, v);
        *p = *p - g / (v.sqrt() + k.eps) * k.lr;
    }
}

impl<F: Float> Rule<F> for RmsPropCentered {
    type State<T: Copy> = [T; 2];
    type Step = RmsPropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg", "grad_avg"];

    fn step(&self, _t: u64, _: &mut ()) -> RmsPropStep<F> {
        self.0.scalars()
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RmsPropStep<F>, p: &mut T, g: T, [v, a]: &mut [T; 2]) {
        let g = square_avg(k, *p, g, v);
        let d = centered_denom(k, g, *v, a);
        *p = *p - g / d * k.lr;
    }
}

impl<F: Float> Rule<F> for RmsPropMomentum {
    type State<T: Copy> = [T; 2];
    type Step = RmsPropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg", "momentum_buffer"];

    fn step(&self, _t: u64, _: &mut ()) -> RmsPropStep<F> {
        self.0.scalars()
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RmsPropStep<F>, p: &mut T, g: T, [v, b]: &mut [T; 2]) {
        let g = square_avg(k, *p, g, v);
        *b = *b * k.momentum + g / (v.sqrt() + k.eps);
        *p = *p - *b * k.lr;
    }
}

impl<F: Float> Rule<F> for RmsPropCenteredMomentum {
    type State<T: Copy> = [T; 3];
    type Step = RmsPropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["square_avg", "grad_avg", "momentum_buffer"];

    fn step(&self, _t: u64, _: &mut ()) -> RmsPropStep<F> {
        self.0.scalars()
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RmsPropStep<F>, p: &mut T, g: T, [v, a, b]: &mut [T; 3]) {
        let g = square_avg(k, *p, g, v);
        let d = centered_denom(k, g, *v, a);
        *b = *b * k.momentum + g / d;
        *p = *p - *b * k.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = RmsProp::from_spec(&"rmsprop:alpha=1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "rmsprop: alpha = 1 is out of range; allowed: 0 <= alpha < 1"
        );
        let e = RmsProp::from_spec(&"rmsprop:eps=-1e-8".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("eps > 0"), "{e}");
    }

    /// Two steps of each form from p = 1 with g = 0.5, against the formula by hand.
    #[test]
    fn each_form_follows_its_formula() {
        use crate::{Params, Tensor};
        let (lr, eps) = (0.01, 1e-8);
        let (v1, v2) = (0.01 * 0.25, 0.99 * 0.0025 + 0.01 * 0.25);
        let (a1, a2) = (0.01 * 0.5, 0.005 + 0.01 * (0.5 - 0.005));
        let plain = |v: f64| 0.5 / (v.sqrt() + eps);
        let centered = |v: f64, a: f64| 0.5 / ((v - a * a).sqrt() + eps);
        let cases = [
            (false, 0.0, 1.0 - lr * plain(v1) - lr * plain(v2)),
            (
                true,
                0.0,
                1.0 - lr * centered(v1, a1) - lr * centered(v2, a2),
            ),
            (false, 0.5, {
                let b1 = plain(v1);
                1.0 - lr * b1 - lr * (0.5 * b1 + plain(v2))
            }),
            (true, 0.5, {
                let b1 = centered(v1, a1);
                1.0 - lr * b1 - lr * (0.5 * b1 + centered(v2, a2))
            }),
        ];
        for (centered, momentum, want) in cases {
            let config = RmsProp {
                centered,
                momentum,
                ..RmsProp::default()
            };
            let mut opt = config.build::<f64>().unwrap();
            let mut params: Params<f64> = [("w", Tensor::scalar(1.0))].into_iter().collect();
            let grads: Params<f64> = [("w", Tensor::scalar(0.5))].into_iter().collect();
            opt.update(&mut params, &grads).unwrap();
            opt.update(&mut params, &grads).unwrap();
            let got = params.get("w").unwrap().data()[0];
            assert!(
                (got - want).abs() < 1e-14,
                "centered={centered}, momentum={momentum}: {got} vs {want}"
            );
        }
    }
}
