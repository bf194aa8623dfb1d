//! torch.optim.SGD: plain, heavy-ball or Nesterov momentum, with L2 weight decay.

use crate::hyper::{out_of_range, variant, Range};
use crate::optim::weight_decay::WeightDecay;
use crate::registry::{boxed, Build};
use crate::{Error, Float, Lane, Optimizer, Rule};

crate::config! {
    /// torch.optim.SGD. Unlike the article's `momentum`, the buffer holds gradients
    /// (lr multiplies it afterwards) and starts as the first gradient.
    ///
    /// g ← g + weight_decay·p;
    /// b ← g at step 1, else momentum·b + (1 − dampening)·g;
    /// p ← p − lr·(g + momentum·b) with nesterov, p ← p − lr·b without,
    /// p ← p − lr·g when momentum = 0 (no buffer kept).
    ///
    /// Papers: H. Robbins and S. Monro, "A Stochastic Approximation Method", *Annals of
    /// Mathematical Statistics* 22(3), 1951; I. Sutskever, J. Martens, G. Dahl and
    /// G. Hinton, "On the importance of initialization and momentum in deep learning",
    /// ICML 2013 (torch's Nesterov form).
    pub struct Sgd {
        name: "sgd", convention: "pytorch",
        formula: "g ← g + weight_decay·p; b ← g at step 1, else momentum·b + (1 − dampening)·g; p ← p − lr·(g + momentum·b) if nesterov, else p − lr·b (p − lr·g if momentum = 0); unlike the article's momentum, b holds gradients and lr scales it afterwards",
        paper: "Robbins & Monro, A Stochastic Approximation Method (1951); Sutskever, Martens, Dahl & Hinton, On the importance of initialization and momentum in deep learning (ICML 2013)";
        check: |c| c.check_nesterov();
        /// Learning rate (torch's default 1e-3).
        lr: f64 = 1e-3, Range::Positive;
        /// Fraction of the buffer kept from one step to the next; 0 keeps no buffer.
        momentum: f64 = 0.0, Range::Unit;
        /// Fraction of each gradient left out of the buffer (after the first step).
        dampening: f64 = 0.0, Range::UnitClosed;
        /// L2 penalty: `weight_decay·p` is added to the gradient.
        weight_decay: f64 = 0.0, Range::NonNegative;
        /// Nesterov momentum; needs momentum > 0 and dampening = 0, as torch checks.
        nesterov: bool = false, Range::Any;
    }
}

impl Sgd {
    fn check_nesterov(&self) -> Result<(), Error> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(out_of_range(
                "sgd",
                "nesterov",
                true,
                format!(
                    "nesterov = true only with momentum > 0 and dampening = 0 (got momentum = {}, dampening = {})",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

impl Build for Sgd {
    fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
        if self.momentum == 0.0 {
            boxed(SgdPlain(self))
        } else if self.nesterov {
            boxed(SgdNesterov(self))
        } else {
            boxed(SgdMomentum(self))
        }
    }
}

variant! {
    /// torch's SGD with momentum = 0: no state.
    pub struct SgdPlain(pub Sgd);
}

variant! {
    /// torch's SGD with heavy-ball momentum: one buffer.
    pub struct SgdMomentum(pub Sgd);
}

variant! {
    /// torch's SGD with Nesterov momentum: one buffer.
    pub struct SgdNesterov(pub Sgd);
}

/// SGD's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct SgdStep<F> {
    lr: F,
    decay: WeightDecay<F>,
    momentum: F,
    /// 1 − dampening, or 1 at step 1, where the (zero) buffer becomes the gradient.
    gain: F,
}

impl Sgd {
    fn scalars<F: Float>(&self, t: u64) -> SgdStep<F> {
        SgdStep {
            lr: F::from_f64(self.lr),
            decay: WeightDecay::l2(self.weight_decay),
            momentum: F::from_f64(self.momentum),
            gain: F::from_f64(if t == 1 { 1.0 } else { 1.0 - self.dampening }),
        }
    }
}

impl<F: Float> Rule<F> for SgdPlain {
    type State<T: Copy> = [T; 0];
    type Step = SgdStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &[];

    fn step(&self, t: u64, _: &mut ()) -> SgdStep<F> {
        self.0.scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: SgdStep<F>, p: &mut T, g: T, _: &mut [T; 0]) {
        let g = k.decay.penalized(*p, g);
        *p = *p - g * k.lr;
    }
}

impl<F: Float> Rule<F> for SgdMomentum {
    type State<T: Copy> = [T; 1];
    type Step = SgdStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["momentum_buffer"];

    fn step(&self, t: u64, _: &mut ()) -> SgdStep<F> {
        self.0.scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: SgdStep<F>, p: &mut T, g: T, [b]: &mut [T; 1]) {
        let g = k.decay.penalized(*p, g);
        *b = *b * k.momentum + g * k.gain;
        *p = *p - *b * k.lr;
    }
}

impl<F: Float> Rule<F> for SgdNesterov {
    type State<T: Copy> = [T; 1];
    type Step = SgdStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["momentum_buffer"];

    fn step(&self, t: u64, _: &mut ()) -> SgdStep<F> {
        self.0.scalars(t)
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: SgdStep<F>, p: &mut T, g: T, [b]: &mut [T; 1]) {
        let g = k.decay.penalized(*p, g);
        *b = *b * k.momentum + g * k.gain;
        *p = *p - (g + *b * k.momentum) * k.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;
    use crate::{Params, Tensor};

    fn spec(text: &str) -> Result<Sgd, Error> {
        Sgd::from_spec(&text.parse()?)
    }

    #[test]
    fn keeps_a_buffer_only_with_momentum() {
        let mut plain = crate::Elementwise::<f64, _>::new(SgdPlain(Sgd::default())).unwrap();
        let mut params: Params<f64> = [("w", Tensor::vector(vec![1.0, -2.0]))]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("w", Tensor::vector(vec![0.5, 0.25]))]
            .into_iter()
            .collect();
        plain.update(&mut params, &grads).unwrap();
        assert!(plain.state().tensors[0].slots.is_empty());
        let momentum = Sgd {
            momentum: 0.9,
            ..Sgd::default()
        };
        let mut opt = crate::Elementwise::<f64, _>::new(SgdMomentum(momentum)).unwrap();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(opt.state().tensors[0].slots.len(), 1);
    }

    #[test]
    fn nesterov_needs_momentum_and_no_dampening() {
        let e = spec("sgd:nesterov=true").unwrap_err().to_string();
        assert_eq!(
            e,
            "sgd: nesterov = true is out of range; allowed: nesterov = true only with momentum > 0 and dampening = 0 (got momentum = 0, dampening = 0)"
        );
        let e = spec("sgd:nesterov=true,momentum=0.9,dampening=0.1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dampening = 0.1"), "{e}");
        assert!(spec("sgd:nesterov=true,momentum=0.9").is_ok());
        let e = spec("sgd:momentum=1").unwrap_err().to_string();
        assert_eq!(
            e,
            "sgd: momentum = 1 is out of range; allowed: 0 <= momentum < 1"
        );
        let e = spec("sgd:weight_decay=-1").unwrap_err().to_string();
        assert!(e.contains("weight_decay >= 0"), "{e}");
    }
}
