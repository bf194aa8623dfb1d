//! torch.optim.Muon.

use crate::engine::linalg::Matrix;
use crate::engine::{TensorRule, TensorStep};
use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Error, Float};

/// The quintic Newton–Schulz coefficients (a, b, c) of torch and of K. Jordan's Muon.
const NS_COEFFICIENTS: (f64, f64, f64) = (3.4445, -4.7750, 2.0315);

crate::config! {
    /// torch.optim.Muon, for 2-D parameters only (others are an error): momentum SGD
    /// whose update is orthogonalized, by a quintic Newton–Schulz iteration, before it
    /// is applied.
    ///
    /// B ← momentum·B + (1 − momentum)·g;  U = (1 − momentum)·g + momentum·B with
    /// nesterov, U = B without;  X₀ = U/max(‖U‖_F, eps) (transposed if rows > cols);
    /// X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ, ns_steps times, (a, b, c) =
    /// (3.4445, −4.7750, 2.0315);  p ← (1 − lr·weight_decay)·p − lr'·X, where
    /// lr' = lr·√max(1, rows/cols), or lr·0.2·√max(rows, cols) with match_rms_adamw.
    ///
    /// Papers: K. Jordan et al., "Muon: An optimizer for hidden layers in neural
    /// networks", 2024 (kellerjordan.github.io/posts/muon); J. Liu et al., "Muon is
    /// Scalable for LLM Training", 2025 (arXiv:2502.16982). The iteration runs in the
    /// element type, where torch runs it in bfloat16.
    pub struct Muon {
        name: "muon", convention: "pytorch",
        formula: "B ← momentum·B + (1 − momentum)·g; U = (1 − momentum)·g + momentum·B (nesterov) or B; X = NewtonSchulz₅(U/max(‖U‖, eps)); p ← (1 − lr·weight_decay)·p − lr·√max(1, rows/cols)·X (or lr·0.2·√max(rows, cols)·X with match_rms_adamw); 2-D tensors only",
        paper: "Jordan et al., Muon: An optimizer for hidden layers in neural networks (2024); Liu et al., Muon is Scalable for LLM Training (arXiv:2502.16982)";
        /// Learning rate (torch's default 1e-3).
        lr: f64 = 1e-3, Range::Positive;
        /// Decoupled weight decay: p ← (1 − lr·weight_decay)·p.
        weight_decay: f64 = 0.1, Range::NonNegative;
        /// Fraction of the momentum buffer kept from one step to the next.
        momentum: f64 = 0.95, Range::Unit;
        /// Nesterov momentum: orthogonalize (1 − momentum)·g + momentum·B rather than B.
        nesterov: bool = true, Range::Any;
        /// Floor of the Frobenius norm that U is divided by.
        eps: f64 = 1e-7, Range::Positive;
        /// Newton–Schulz iterations, a whole number below 100.
        ns_steps: u64 = 5, Range::Between { lo: 0.0, lo_incl: true, hi: 100.0, hi_incl: false };
        /// torch's `adjust_lr_fn = "match_rms_adamw"` (Moonshot's lr·0.2·√max(rows, cols))
        /// when true; its default "original" (lr·√max(1, rows/cols)) when false.
        match_rms_adamw: bool = false, Range::Any;
    }
}

/// Muon's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct MuonStep<F> {
    lr: f64,
    decay: WeightDecay<F>,
    momentum: F,
    nesterov: bool,
    eps: f64,
    ns_steps: usize,
    match_rms_adamw: bool,
}

impl<F: Float> TensorRule<F> for Muon {
    type Step = MuonStep<F>;
    type Carry = ();

    fn state_names(&self, _shape: &[usize]) -> Vec<&'static str> {
        vec!["momentum_buffer"]
    }

    fn state_sizes(&self, name: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        match *shape {
            // The momentum buffer B.
            [_, _] => Ok(vec![crate::engine::checked_len(shape)?]),
            _ => Err(Error::Unsupported {
                optimizer: "muon".to_string(),
                why: format!(
                    "parameter '{name}' has shape {shape:?}; muon updates 2-D tensors only (use e.g. adamw for the others)"
                ),
            }),
        }
    }

    fn step(&self, _t: u64, _: &mut ()) -> MuonStep<F> {
        MuonStep {
            lr: self.lr,
            decay: WeightDecay::decoupled(self.lr, self.weight_decay),
            momentum: F::from_f64(self.momentum),
            nesterov: self.nesterov,
            eps: self.eps,
            ns_steps: self.ns_steps as usize,
            match_rms_adamw: self.match_rms_adamw,
        }
    }

    fn update(k: MuonStep<F>, x: &mut TensorStep<'_, F>) {
        let [rows, cols] = *x.shape() else {
            unreachable!("state_sizes admits 2-D tensors only")
        };
        x.set_update(move |_, g, [b]| {
            *b = *b + (g - *b) * (F::ONE - k.momentum);
            if k.nesterov {
                g + (*b - g) * k.momentum
            } else {
                *b
            }
        });
        let u = Matrix::new(rows, cols, x.update().to_vec());
        x.update_mut().copy_from_slice(newton_schulz(u, k).data());
        let (r, c) = (rows as f64, cols as f64);
        let lr = F::from_f64(if k.match_rms_adamw {
            k.lr * 0.2 * r.max(c).sqrt()
        } else {
            k.lr * (r / c).max(1.0).sqrt()
        });
        x.apply(move |p, o| k.decay.shrunk(p) - o * lr);
    }
}

/// The quintic Newton–Schulz iteration: an approximate orthogonalization U·V'ᵀ of
/// U = U·S·Vᵀ (singular values pushed towards 1), run on the wide orientation.
fn newton_schulz<F: Float>(u: Matrix<F>, k: MuonStep<F>) -> Matrix<F> {
    let (a, b, c) = NS_COEFFICIENTS;
    let (a, b, c) = (F::from_f64(a), F::from_f64(b), F::from_f64(c));
    let tall = u.rows() > u.cols();
    let u = if tall { u.t() } else { u };
    let scale = F::from_f64(1.0 / u.norm().max(k.eps));
    let mut x = u.scale(scale);
    for _ in 0..k.ns_steps {
        let gram = x.gram();
        let poly = gram.matmul(&gram).combine(c, &gram, b);
        x = poly.matmul(&x).combine(F::ONE, &x, a);
    }
    if tall {
        x.t()
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use crate::{registry, Convention, Optimizer, Params, Tensor};

    fn muon(spec: &str) -> Box<dyn Optimizer<f64>> {
        registry::build_in(&spec.parse().unwrap(), Convention::PyTorch).unwrap()
    }

    #[test]
    fn a_single_row_is_scaled_by_the_iteration_polynomial() {
        // One row X = s·U/‖U‖ has the single singular value s, starting at 1: each
        // iteration maps it to a·s + b·s³ + c·s⁵.
        let (a, b, c) = super::NS_COEFFICIENTS;
        let shrink = (0..5).fold(1.0f64, |s, _| a * s + b * s.powi(3) + c * s.powi(5));
        let g = [3.0, -4.0, 12.0];
        for (shape, adjust) in [([1usize, 3usize], 1.0), ([3, 1], 3f64.sqrt())] {
            let mut opt = muon("muon:lr=0.02,weight_decay=0.1");
            let mut params: Params<f64> =
                [("w", Tensor::new(shape, vec![1.0, 2.0, -1.0]).unwrap())]
                    .into_iter()
                    .collect();
            let grads: Params<f64> = [("w", Tensor::new(shape, g.to_vec()).unwrap())]
                .into_iter()
                .collect();
            opt.update(&mut params, &grads).unwrap();
            for (i, (&p, &p0)) in params
                .get("w")
                .unwrap()
                .data()
                .iter()
                .zip(&[1.0, 2.0, -1.0])
                .enumerate()
            {
                let want = p0 * (1.0 - 0.02 * 0.1) - 0.02 * adjust * shrink * g[i] / 13.0;
                assert!((p - want).abs() < 1e-14, "{shape:?}[{i}]: {p} vs {want}");
            }
        }
    }

    #[test]
    fn other_shapes_are_an_error_before_anything_changes() {
        let mut opt = muon("muon");
        let mut params: Params<f64> = [
            ("w", Tensor::new([2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap()),
            ("b", Tensor::vector(vec![1.0, 2.0])),
        ]
        .into_iter()
        .collect();
        let before = params.clone();
        let grads = before.clone();
        let e = opt.update(&mut params, &grads).unwrap_err().to_string();
        assert_eq!(
            e,
            "muon: parameter 'b' has shape [2]; muon updates 2-D tensors only (use e.g. adamw for the others)"
        );
        assert_eq!(params, before);
        assert_eq!(opt.steps(), 0);
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
            err("muon:ns_steps=2.5"),
            "muon: ns_steps = '2.5' is not a whole number"
        );
        assert_eq!(
            err("muon:ns_steps=100"),
            "muon: ns_steps = 100 is out of range; allowed: 0 <= ns_steps < 100"
        );
        assert_eq!(
            err("muon:momentum=1"),
            "muon: momentum = 1 is out of range; allowed: 0 <= momentum < 1"
        );
    }
}
