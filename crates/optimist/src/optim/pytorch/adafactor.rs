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
        let floor = k.eps1 * k.eps1;
        // The step for an update of RMS `rms_u`, with weight decay p ← p·decay folded
        // in (torch applies it first; nothing between reads p).
        let apply = move |rms_u: f64| {
            let step = F::from_f64(alpha / (rms_u / k.d).max(1.0));
            move |p: F, u: F| p * k.decay - u * step
        };
        match x.matrix_dims() {
            Some((_, rows, _)) => {
                let (row_means, col_means) = x.grad_row_col_means(move |g| g * g);
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
                // u = g/√max(V, eps1²), computed where it is applied.
                let u = move |g: F, r: F, c: F| g / (r * c).max(floor).sqrt();
                let rms_u = x.factored_sum_squares(&r, &c, u).sqrt() / sqrt_n;
                x.apply_factored(&r, &c, u, apply(rms_u));
            }
            None => {
                x.set_update(move |_, g, [v]| {
                    *v = *v + (g * g - *v) * k.one_minus_beta2;
                    g / v.max(floor).sqrt()
                });
                let rms_u = x.update_norm() / sqrt_n;
                x.apply(apply(rms_u));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{registry, Convention, Optimizer, Params, Tensor};

    fn adafactor(spec: &str) -> Box<dyn Optimizer<f64>> {
        registry::build_in(&spec.parse().unwrap(), Convention::PyTorch).unwrap()
    }

    fn run(
        opt: &mut dyn Optimizer<f64>,
        shape: &[usize],
        p: &[f64],
        grads: &[Vec<f64>],
    ) -> Vec<f64> {
        let mut params: Params<f64> = [("p", Tensor::new(shape, p.to_vec()).unwrap())]
            .into_iter()
            .collect();
        for g in grads {
            let grads: Params<f64> = [("p", Tensor::new(shape, g.clone()).unwrap())]
                .into_iter()
                .collect();
            opt.update(&mut params, &grads).unwrap();
        }
        params.get("p").unwrap().data().to_vec()
    }

    #[test]
    fn first_step_of_one_element_moves_by_lr_times_its_size() {
        // t = 1: 1 − β̂₂ = 1, so V = g² whether factored or not; u = sign(g), RMS(u) = 1,
        // α = max(eps2, |p|)·min(lr, 1).
        for shape in [&[1usize, 1][..], &[1][..], &[][..]] {
            let mut opt = adafactor("adafactor:lr=0.01");
            let p = run(opt.as_mut(), shape, &[2.0], &[vec![-3.0]]);
            assert!((p[0] - 2.02).abs() < 1e-15, "{shape:?}: {p:?}");
        }
    }

    #[test]
    fn factors_the_last_two_axes_of_each_matrix_in_a_batch() {
        let mut opt = adafactor("adafactor:lr=0.05,weight_decay=0.1");
        let p: Vec<f64> = (0..12).map(|i| (i as f64 * 0.7).sin()).collect();
        let g = |k: f64| -> Vec<f64> { (0..12).map(|i| (i as f64 * 1.3 + k).cos()).collect() };
        let grads = [g(0.0), g(1.0), g(2.0)];
        let single = run(opt.as_mut(), &[3, 4], &p, &grads);

        // The same matrix twice in a batch: same RMS(p) and RMS(u), so each copy moves
        // as the single matrix did, with one row and one column factor per copy.
        let twice = |v: &[f64]| [v, v].concat();
        let mut opt = adafactor("adafactor:lr=0.05,weight_decay=0.1");
        let grads2: Vec<Vec<f64>> = grads.iter().map(|g| twice(g)).collect();
        let batched = run(opt.as_mut(), &[2, 3, 4], &twice(&p), &grads2);
        for (i, (a, b)) in batched.iter().zip(twice(&single)).enumerate() {
            assert!((a - b).abs() < 1e-14, "element {i}: {a} vs {b}");
        }
        assert_ne!(single, p);
    }

    #[test]
    fn state_is_factored_for_matrices_only() {
        let mut opt = crate::Tensorwise::<f64, super::Adafactor>::new(Default::default()).unwrap();
        let mut params: Params<f64> = [("w", Tensor::zeros([2, 3, 4])), ("b", Tensor::zeros([5]))]
            .into_iter()
            .collect();
        let grads = params.zeros_like();
        opt.update(&mut params, &grads).unwrap();
        let sizes: Vec<Vec<usize>> = opt
            .state()
            .tensors
            .iter()
            .map(|t| t.slots.iter().map(|s| s.len()).collect())
            .collect();
        assert_eq!(sizes, vec![vec![6, 8], vec![5]]);
    }

    #[test]
    fn rejects_out_of_range_hyperparameters() {
        let err = |spec: &str| {
            registry::build_in::<f64>(&spec.parse().unwrap(), Convention::PyTorch)
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            err("adafactor:d=0.5"),
            "adafactor: d = 0.5 is out of range; allowed: 1 <= d < inf"
        );
        assert_eq!(
            err("adafactor:beta2_decay=0.5"),
            "adafactor: beta2_decay = 0.5 is out of range; allowed: -inf < beta2_decay <= 0"
        );
        assert_eq!(
            err("adafactor:eps=-1/0.001"),
            "adafactor: eps = -1/0.001 is out of range; allowed: eps >= 0 and finite"
        );
    }
}
