//! torch.optim.Adafactor.

use crate::engine::{TensorRule, TensorStep};
use crate::hyper::Range;
use crate::{Error, Float};

crate::config! {
    /// torch.optim.Adafactor: Adam without momentum whose second moment, for a matrix
    /// (or a batch of them, over the last two axes), is kept as one row factor R and one
    /// column factor C, with relative step sizes and update clipping.
    ///
    /// t ← t + 1;  β̂₂ = 1 − t^beta2_decay;  ρ = min(lr, 1/√t);
    /// α = max(eps2, RMS(p))·ρ;  p ← (1 − lr·weight_decay)·p;
    /// matrices: R ← β̂₂R + (1 − β̂₂)·mean_cols(g²), C ← β̂₂C + (1 − β̂₂)·mean_rows(g²),
    /// V = R·C / max(mean(R), eps1); vectors: V ← β̂₂V + (1 − β̂₂)·g²;
    /// u = g / √max(V, eps1²);  p ← p − α·u / max(1, RMS(u)/d)
    ///
    /// Paper: N. Shazeer and M. Stern, "Adafactor: Adaptive Learning Rates with
    /// Sublinear Memory Cost", ICML 2018 (arXiv:1804.04235), with torch's use of `lr`
    /// (as the cap of ρ and for weight decay) and of eps1.
    pub struct Adafactor {
        name: "adafactor", convention: "pytorch",
        formula: "β̂₂ = 1 − t^beta2_decay; ρ = min(lr, 1/√t); α = max(eps2, RMS(p))·ρ; p ← (1 − lr·weight_decay)·p; V = R·C/max(mean R, eps1) with R, C moving averages of g²'s row and column means (matrices), or V ← β̂₂V + (1 − β̂₂)g² (vectors); u = g/√max(V, eps1²); p ← p − α·u/max(1, RMS(u)/d)",
        paper: "Shazeer & Stern, Adafactor: Adaptive Learning Rates with Sublinear Memory Cost (ICML 2018, arXiv:1804.04235)";
        /// Cap of the relative step size ρ = min(lr, 1/√t), and the scale of weight
        /// decay (torch's default 1e-2).
        lr: f64 = 1e-2, Range::Positive;
        /// Exponent of the second-moment decay: 1 − β̂₂ = t^beta2_decay.
        beta2_decay: f64 = -0.8, Range::Between { lo: f64::NEG_INFINITY, lo_incl: false, hi: 0.0, hi_incl: true };
        /// (eps1, eps2): eps1 floors the variance estimate and its row mean (0, the
        /// default, stands for torch's `None`: the element type's machine epsilon);
        /// eps2 floors RMS(p) in the step size.
        eps: (f64, f64) = (0.0, 1e-3), Range::NonNegative;
        /// Update clipping threshold: u is scaled down when RMS(u) > d.
        d: f64 = 1.0, Range::Between { lo: 1.0, lo_incl: true, hi: f64::INFINITY, hi_incl: false };
        /// Decoupled weight decay: p ← (1 − lr·weight_decay)·p.
        weight_decay: f64 = 0.0, Range::NonNegative;
    }
}

/// Adafactor's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct AdafactorStep<F> {
    one_minus_beta2: F,
    rho: f64,
    eps1: F,
    eps2: f64,
    decay: F,
    d: f64,
}

impl<F: Float> TensorRule<F> for Adafactor {
    type Step = AdafactorStep<F>;
    type Carry = ();

    fn state_sizes(&self, _name: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        Ok(match *shape {
            // Row factor R and column factor C.
            [ref batch @ .., rows, cols] => {
                let batch: usize = batch.iter().product();
                vec![batch * rows, batch * cols]
            }
            // The full second moment V.
            _ => vec![shape.iter().product()],
        })
    }

    fn step(&self, t: u64, _: &mut ()) -> AdafactorStep<F> {
        let t = t as f64;
        let eps1 = if self.eps.0 == 0.0 {
            F::EPSILON
        } else {
            F::from_f64(self.eps.0)
        };
        AdafactorStep {
            one_minus_beta2: F::from_f64(t.powf(self.beta2_decay)),
            rho: self.lr.min(1.0 / t.sqrt()),
            eps1,
            eps2: self.eps.1,
            decay: F::from_f64(1.0 - self.lr * self.weight_decay),
            d: self.d,
        }
    }

    fn update(k: AdafactorStep<F>, x: &mut TensorStep<'_, F>) {
        if x.is_empty() {
            return;
        }
        let sqrt_n = (x.len() as f64).sqrt();
        let alpha = k.eps2.max(x.value_norm() / sqrt_n) * k.rho;
        x.map_value(|p| p * k.decay);
        let floor = k.eps1 * k.eps1;
        match x.matrix_dims() {
            Some((_, rows, _)) => {
                let (row_means, col_means) = x.grad_row_col_means(|g| g * g);
                x.lerp_state(0, &row_means, k.one_minus_beta2);
                x.lerp_state(1, &col_means, k.one_minus_beta2);
                // V = R·C / max(mean(R), eps1): the division folded into R, per matrix.
                let r: Vec<F> = x.state_mut()[0]
                    .chunks(rows)
                    .flat_map(|r| {
                        let mean = r.iter().fold(F::ZERO, |s, &v| s + v) / F::from_f64(rows as f64);
                        let mean = mean.max(k.eps1);
                        r.iter().map(move |&v| v / mean)
                    })
                    .collect();
                let c = x.state_mut()[1].clone();
                x.set_update_factored(&r, &c, |g, r, c| g / (r * c).max(floor).sqrt());
            }
            None => x.set_update(|_, g, [v]| {
                *v = *v + (g * g - *v) * k.one_minus_beta2;
                g / v.max(floor).sqrt()
            }),
        }
        let rms_u = x.update_norm() / sqrt_n;
        let step = F::from_f64(alpha / (rms_u / k.d).max(1.0));
        x.apply(|p, u| p - u * step);
    }
}
