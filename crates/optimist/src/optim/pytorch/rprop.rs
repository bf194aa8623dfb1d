//! torch.optim.Rprop.

use crate::hyper::{out_of_range, Range};
use crate::{Error, Float, Lane, Rule};

crate::config! {
    /// torch.optim.Rprop: each element moves by its own step size, against the sign of
    /// its gradient; the step grows while the sign holds and shrinks when it flips
    /// (and then the element rests for one step). The gradient's size is ignored.
    ///
    /// s = sign(g·g_prev);  η = eta+ if s > 0, eta− if s < 0, else 1;
    /// Δ ← clamp(η·Δ, step_min, step_max) (Δ starts at lr);
    /// g ← 0 where s < 0;  p ← p − sign(g)·Δ;  g_prev ← g
    ///
    /// Paper: M. Riedmiller and H. Braun, "A direct adaptive method for faster
    /// backpropagation learning: the RPROP algorithm", IEEE ICNN 1993.
    pub struct Rprop {
        name: "rprop", convention: "pytorch",
        formula: "s = sign(g·g_prev); η = etas[1] if s > 0, etas[0] if s < 0, else 1; Δ ← clamp(η·Δ, step_sizes[0], step_sizes[1]) with Δ₀ = lr; g ← 0 where s < 0; p ← p − sign(g)·Δ; g_prev ← g",
        paper: "Riedmiller & Braun, A direct adaptive method for faster backpropagation learning: the RPROP algorithm (IEEE ICNN 1993)";
        check: |c| c.check_pairs();
        /// Every element's first step size.
        lr: f64 = 1e-2, Range::Positive;
        /// (eta−, eta+): factors shrinking and growing the step sizes;
        /// 0 < eta− < 1 < eta+.
        etas: (f64, f64) = (0.5, 1.2), Range::Positive;
        /// (min, max): bounds of the step sizes; 0 <= min <= max, max > 0.
        step_sizes: (f64, f64) = (1e-6, 50.0), Range::NonNegative;
    }
}

impl Rprop {
    fn check_pairs(&self) -> Result<(), Error> {
        let (minus, plus) = self.etas;
        if !(minus < 1.0 && 1.0 < plus) {
            return Err(out_of_range(
                "rprop",
                "etas",
                format!("{minus}/{plus}"),
                "0 < etas[0] < 1 < etas[1]",
            ));
        }
        let (min, max) = self.step_sizes;
        if !(min <= max && max > 0.0) {
            return Err(out_of_range(
                "rprop",
                "step_sizes",
                format!("{min}/{max}"),
                "0 <= step_sizes[0] <= step_sizes[1], step_sizes[1] > 0",
            ));
        }
        Ok(())
    }
}

/// Rprop's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct RpropStep<F> {
    eta_minus: F,
    eta_plus: F,
    step_min: F,
    step_max: F,
    /// lr at step 1 (the engine's state starts at zero), else 0.
    init: F,
}

impl<F: Float> Rule<F> for Rprop {
    /// The previous (masked) gradient and the step size.
    type State<T: Copy> = [T; 2];
    type Step = RpropStep<F>;
    type Carry = ();
    const SLOT_NAMES: &'static [&'static str] = &["prev", "step_size"];

    fn step(&self, t: u64, _: &mut ()) -> RpropStep<F> {
        RpropStep {
            eta_minus: F::from_f64(self.etas.0),
            eta_plus: F::from_f64(self.etas.1),
            step_min: F::from_f64(self.step_sizes.0),
            step_max: F::from_f64(self.step_sizes.1),
            init: F::from_f64(if t == 1 { self.lr } else { 0.0 }),
        }
    }

    #[inline(always)]
    fn apply<T: Lane<F>>(k: RpropStep<F>, p: &mut T, g: T, [prev, size]: &mut [T; 2]) {
        let s = g * *prev;
        let one = T::splat(F::ONE);
        let eta = s.if_positive(
            T::splat(k.eta_plus),
            s.if_negative(T::splat(k.eta_minus), one),
        );
        *size = ((*size + k.init) * eta)
            .max(T::splat(k.step_min))
            .min(T::splat(k.step_max));
        // After a sign flip the element rests, and the next step does not count the flip.
        let g = s.if_negative(T::splat(F::ZERO), g);
        *p = *p - g.sign() * *size;
        *prev = g;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Configurable;
    use crate::{Elementwise, Optimizer, Params, Tensor};

    fn spec(text: &str) -> Result<Rprop, Error> {
        Rprop::from_spec(&text.parse()?)
    }

    #[test]
    fn rejects_out_of_range_values() {
        let e = spec("rprop:etas=0.5/0.9").unwrap_err().to_string();
        assert_eq!(
            e,
            "rprop: etas = 0.5/0.9 is out of range; allowed: 0 < etas[0] < 1 < etas[1]"
        );
        let e = spec("rprop:etas=0/1.2").unwrap_err().to_string();
        assert_eq!(
            e,
            "rprop: etas = 0/1.2 is out of range; allowed: etas > 0 and finite"
        );
        let e = spec("rprop:etas=1/1.2").unwrap_err().to_string();
        assert!(e.contains("0 < etas[0] < 1 < etas[1]"), "{e}");
        let e = spec("rprop:step_sizes=1/0.5").unwrap_err().to_string();
        assert_eq!(
            e,
            "rprop: step_sizes = 1/0.5 is out of range; allowed: 0 <= step_sizes[0] <= step_sizes[1], step_sizes[1] > 0"
        );
        assert!(spec("rprop:step_sizes=0/1").is_ok());
    }

    /// Steps of lr, then lr·eta+ while the sign holds; a flip shrinks the step and
    /// skips the move; the step after a flip keeps the size.
    #[test]
    fn grows_shrinks_and_rests() {
        let mut opt = Elementwise::<f64, _>::new(Rprop::default()).unwrap();
        let mut params: Params<f64> = [("w", Tensor::scalar(0.0))].into_iter().collect();
        let mut moves = Vec::new();
        for g in [1.0, 2.0, -1.0, -1.0, -1.0] {
            let grads: Params<f64> = [("w", Tensor::scalar(g))].into_iter().collect();
            let before = params.get("w").unwrap().data()[0];
            opt.update(&mut params, &grads).unwrap();
            moves.push(params.get("w").unwrap().data()[0] - before);
        }
        let want = [-0.01, -0.012, 0.0, 0.006, 0.0072];
        for (got, want) in moves.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{moves:?}");
        }
    }
}
