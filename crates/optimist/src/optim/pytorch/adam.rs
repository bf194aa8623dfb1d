//! torch.optim.Adam, with or without AMSGrad, L2 or decoupled weight decay.

use crate::hyper::{variant, Range};
use crate::optim::weight_decay::WeightDecay;
use crate::registry::{boxed, Build};
use crate::{Error, Float, Lane, Optimizer, Rule};

crate::config! {
    /// torch.optim.Adam. Unlike the article's `adam`, eps is added after the bias
    /// correction of √v (the article adds it before, to √v itself), and eps = 1e-8.
    ///
    /// g ← g + weight_decay·p (or p ← (1 − lr·weight_decay)·p if decoupled);
    /// m ← m + (1 − beta1)·(g − m);  v ← beta2·v + (1 − beta2)·g²;
    /// amsgrad: v̂ ← max(v̂, v), else v̂ = v;
    /// p ← p − lr/(1 − beta1^t) · m / (√v̂/√(1 − beta2^t) + eps)
    ///
    /// Papers: D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization",
    /// ICLR 2015 (arXiv:1412.6980); S. J. Reddi, S. Kale and S. Kumar, "On the
    /// Convergence of Adam and Beyond", ICLR 2018 (AMSGrad); I. Loshchilov and
    /// F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (decoupled decay).
    pub struct Adam {
        name: "adam", convention: "pytorch",
        formula: "g ← g + weight_decay·p (p ← (1 − lr·weight_decay)·p if decoupled_weight_decay); m ← m + (1 − beta1)(g − m); v ← beta2·v + (1 − beta2)·g²; v̂ ← max(v̂, v) if amsgrad, else v; p ← p − lr/(1 − beta1^t)·m/(√v̂/√(1 − beta2^t) + eps); eps is added after the bias correction of √v, the article's adam adds it before",
        paper: "Kingma & Ba, Adam: A Method for Stochastic Optimization (ICLR 2015, arXiv:1412.6980); Reddi, Kale & Kumar, On the Convergence of Adam and Beyond (ICLR 2018); Loshchilov & Hutter, Decoupled Weight Decay Regularization (ICLR 2019)";
        /// Learning rate.
        lr: f64 = 1e-3, Range::Positive;
        /// Decays of the first-moment (mean) and second-moment estimates.
        betas: (f64, f64) = (0.9, 0.999), Range::Unit;
        /// Added to the bias-corrected √v so that the first steps do not divide by zero.
        eps: f64 = 1e-8, Range::Positive;
        /// Weight decay: an L2 penalty added to the gradient, or with
        /// decoupled_weight_decay a shrinking of p by lr·weight_decay (AdamW).
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// AMSGrad: divide by the largest second moment seen (keeps a third buffer).
        amsgrad: bool = false, Range::Any;
        /// Shrink p directly instead of adding an L2 penalty to the gradient.
        decoupled_weight_decay: bool = false, Range::Any;
    }
}

impl Build for Adam {
    fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
        if self.amsgrad {
            boxed(AmsGrad(self))
        } else {
            boxed(AdamRule(self))
        }
    }
}

variant! {
    /// torch's Adam without AMSGrad: two buffers.
    pub struct AdamRule(pub Adam);
}

variant! {
    /// torch's Adam with AMSGrad: three buffers.
    pub struct AmsGrad(pub Adam);
}

/// Adam's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep<F> {
    /// lr / (1 − beta1^t).
    step_size: F,
    /// √(1 − beta2^t).
    bias_correction2_sqrt: F,
    one_minus_beta1: F,
    beta2: F,
    one_minus_beta2: F,
    eps: F,
    /// L2 or decoupled weight decay.
    decay: WeightDecay<F>,
}

impl Adam {
    /// The per-step scalars of step `t`; AdamW's rules use them too.
    pub(super) fn scalars<F: Float>(&self, t: u64) -> AdamStep<F> {
        let (beta1, beta2) = self.betas;
        let t = t as f64;
        AdamStep {
            step_size: F::from_f64(self.lr / (1.0 - beta1.powf(t))),
            bias_correction2_sqrt: F::from_f64((1.0 - beta2.powf(t)).sqrt()),
            one_minus_beta1: F::from_f64(1.0 - beta1),
            beta2: F::from_f64(beta2),
            one_minus_beta2: F::from_f64(1.0 - beta2),
            eps: F::from_f64(self.eps),
            decay: WeightDecay::either(self.lr, self.weight_decay, self.decoupled_weight_decay),
        }
    }
}

/// Weight decay, then the moment updates; returns nothing, leaves `p` shrunk.
#[inline(always)]
fn moments<F: Float, T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, m: &mut T, v: &mut T) {
    let g = k.decay.apply(p, g);
    *m = *m + (g - *m) * k.one_minus_beta1;
    *v = *v * k.beta2 + g * g * k.one_minus_beta2;
}

impl<F: Float> Rule<F> for AdamRule {
    type State<T: Copy> = [T; 2];
    type Step = AdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> AdamStep<F> {
        self.0.scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, [m, v]: &mut [T; 2]) {
        moments(k, p, g, m, v);
        *p = *p - *m / (v.sqrt() / k.bias_correction2_sqrt + k.eps) * k.step_size;
    }
}

impl<F: Float> Rule<F> for AmsGrad {
    type State<T: Copy> = [T; 3];
    type Step = AdamStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

    fn step(&self, t: u64, _: &mut ()) -> AdamStep<F> {
        self.0.scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: AdamStep<F>, p: &mut T, g: T, [m, v, v_max]: &mut [T; 3]) {
        moments(k, p, g, m, v);
        *v_max = v_max.max(*v);
        *p = *p - *m / (v_max.sqrt() / k.bias_correction2_sqrt + k.eps) * k.step_size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;

    #[test]
    fn rejects_out_of_range_values() {
        let e = Adam::from_spec(&"adam:betas=0.9/1".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adam: betas = 0.9/1 is out of range; allowed: 0 <= betas < 1"
        );
        let e = Adam::from_spec(&"adam:betas=0.9".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "adam: betas = '0.9' is not two finite numbers written A/B"
        );
        let e = Adam::from_spec(&"adam:eps=0".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("eps > 0"), "{e}");
    }

    /// Decoupled decay shrinks p by lr·weight_decay before the Adam step, which itself
    /// ignores the decay; the L2 form adds it to the gradient.
    #[test]
    fn weight_decay_is_decoupled_or_l2() {
        use crate::{Params, Tensor};
        let run = |decoupled: bool| {
            let config = Adam {
                lr: 0.1,
                weight_decay: 0.5,
                decoupled_weight_decay: decoupled,
                ..Adam::default()
            };
            let mut opt = config.build::<f64>().unwrap();
            let mut params: Params<f64> = [("w", Tensor::scalar(2.0))].into_iter().collect();
            let grads: Params<f64> = [("w", Tensor::scalar(0.25))].into_iter().collect();
            opt.update(&mut params, &grads).unwrap();
            params.get("w").unwrap().data()[0]
        };
        // Step 1 of Adam moves p by lr·g/(|g| + eps).
        let step = |g: f64| 0.1 * g / (g.abs() + 1e-8);
        assert!((run(true) - (2.0 * (1.0 - 0.1 * 0.5) - step(0.25))).abs() < 1e-12);
        assert!((run(false) - (2.0 - step(0.25 + 0.5 * 2.0))).abs() < 1e-12);
    }
}
