//! torch.optim.Adafactor.

use crate::engine::{checked_len, TensorRule, TensorStep};
use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
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
    decay: WeightDecay<F>,
    d: f64,
}

impl<F: Float> TensorRule<F> for Adafactor {
    type Step = AdafactorStep<F>;
    type Carry = ();

    fn state_names(&self, shape: &[usize]) -> Vec<&'static str> {
        match shape.len() {
            0 | 1 => vec!["variance"],
            _ => vec!["row_var", "col_var"],
        }
    }

    fn state_sizes(&self, _name: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        Ok(match *shape {
            // Row factor R and column factor C.
            [ref batch @ .., rows, cols] => {
                let batch = checked_len(batch)?;
                let (r, c) = (batch.checked_mul(rows), batch.checked_mul(cols));
                match (r, c) {
                    (Some(r), Some(c)) => vec![r, c],
                    _ => {
                        return Err(Error::ShapeOverflow {
                            shape: shape.to_vec(),
                        })
                    }
                }
            }
            // The full second moment V.
            _ => vec![checked_len(shape)?],
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
            decay: WeightDecay::decoupled(self.lr, self.weight_decay),
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
            move |p: F, u: F| k.decay.shrunk(p) - u * step
        };
        match x.matrix_dims() {
            Some((_, rows, cols)) => factored(k, x, (rows, cols), apply),
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

/// The update of a batch of matrices: R and C from g²'s row and column means, and
/// `apply(RMS(u))` with u = g/√max(R·C/m, eps1²), m = max(mean(R), eps1) per matrix.
fn factored<F: Float, A: Fn(F, F) -> F + Copy + Sync>(
    k: AdafactorStep<F>,
    x: &mut TensorStep<'_, F>,
    (rows, cols): (usize, usize),
    apply: impl Fn(f64) -> A,
) {
    let floor = k.eps1 * k.eps1;
    let lerp = move |s: F, x: F| s + (x - s) * k.one_minus_beta2;
    // The pass that takes the means also sums Σ_i g²/R_i for each column, with R's new
    // values as lerp_state computes them below: RMS(u) without another pass (see below).
    let r_old = x.state_mut()[0].clone();
    let r_old = &r_old;
    let inv_r = move |i: usize, mean: F| {
        let r = lerp(r_old[i], mean);
        if r > F::ZERO {
            1.0 / r.to_f64()
        } else {
            0.0
        }
    };
    let (row_means, col_means, g2_over_r) = x.grad_row_col_means_weighted(move |g| g * g, inv_r);
    x.lerp_state(0, &row_means, k.one_minus_beta2);
    x.lerp_state(1, &col_means, k.one_minus_beta2);
    let c = x.state_mut()[1].clone();
    let big_r = &x.state_mut()[0];
    let m: Vec<F> = big_r
        .chunks(rows)
        .map(|r| (r.iter().fold(F::ZERO, |s, &v| s + v) / F::from_f64(rows as f64)).max(k.eps1))
        .collect();
    // V = R·C/m = r·C: the division folded into r.
    let r: Vec<F> = big_r
        .chunks(rows)
        .zip(&m)
        .flat_map(|(r, &m)| r.iter().map(move |&v| v / m))
        .collect();
    // u = g/√max(V, eps1²), computed where it is applied. Where the floor does not
    // bind, 1/√(r·C) = (1/√r)·(1/√C): a root and a division per row and per column
    // instead of per element.
    let inv_sqrt = |v: &[F]| -> Vec<F> { v.iter().map(|&v| F::ONE / v.sqrt()).collect() };
    let (rs, cs) = (inv_sqrt(&r), inv_sqrt(&c));
    let at_floor = F::ONE / floor.sqrt();
    let u = move |g: F, [r, rs]: [F; 2], [c, cs]: [F; 2]| {
        g * if r * c >= floor { rs * cs } else { at_floor }
    };
    // Where the floor binds nowhere, Σu² = Σ g²/(r·C) = Σ_matrices m·Σ_j (Σ_i g²/R_i)/C_j,
    // from the sums taken with the means; otherwise from another pass over g.
    let lowest = |v: &[F]| v.iter().copied().fold(v[0], |a, b| a.min(b));
    let (low_r, low_c) = (lowest(&r), lowest(&c));
    let sum_u2 = m
        .iter()
        .zip(g2_over_r.chunks(cols).zip(c.chunks(cols)))
        .map(|(m, (w, c))| m.to_f64() * w.iter().zip(c).fold(0.0, |s, (w, c)| s + w / c.to_f64()))
        .fold(0.0, |s, x| s + x);
    let floor_binds = !(low_r > F::ZERO && low_c > F::ZERO && low_r * low_c >= floor);
    let sum_u2 = if floor_binds || !sum_u2.is_finite() {
        x.factored_sum_squares([&r, &rs], [&c, &cs], u)
    } else {
        sum_u2
    };
    let rms_u = sum_u2.sqrt() / (x.len() as f64).sqrt();
    if floor_binds {
        x.apply_factored([&r, &rs], [&c, &cs], u, apply(rms_u));
    } else {
        // The same u without the floor's check: one column factor per element to read
        // instead of two, which then stay in the core's first-level cache.
        x.apply_factored([&rs], [&cs], |g, [rs], [cs]| g * (rs * cs), apply(rms_u));
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

    /// torch's `_single_tensor_adafactor` for one matrix in f64, in its order of
    /// operations; returns whether the update was clipped (RMS(u) > d).
    #[allow(clippy::too_many_arguments)]
    fn torch_step(
        p: &mut [f64],
        g: &[f64],
        (rv, cv): (&mut [f64], &mut [f64]),
        (rows, cols): (usize, usize),
        t: f64,
        (lr, eps1, eps2, d, wd): (f64, f64, f64, f64, f64),
    ) -> bool {
        let n = (rows * cols) as f64;
        let w = t.powf(-0.8);
        let rho = lr.min(1.0 / t.sqrt());
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let alpha = eps2.max(norm(p) / n.sqrt()) * rho;
        p.iter_mut().for_each(|p| *p *= 1.0 - lr * wd);
        for i in 0..rows {
            let mean = norm(&g[i * cols..(i + 1) * cols]).powi(2) / cols as f64;
            rv[i] += (mean - rv[i]) * w;
        }
        for j in 0..cols {
            let col: Vec<f64> = (0..rows).map(|i| g[i * cols + j]).collect();
            cv[j] += (norm(&col).powi(2) / rows as f64 - cv[j]) * w;
        }
        let mean_r = (rv.iter().sum::<f64>() / rows as f64).max(eps1);
        let u: Vec<f64> = (0..rows * cols)
            .map(|e| {
                let var = rv[e / cols] * cv[e % cols] / mean_r;
                g[e] / var.max(eps1 * eps1).sqrt()
            })
            .collect();
        let denom = (norm(&u) / (n.sqrt() * d)).max(1.0);
        for (p, u) in p.iter_mut().zip(&u) {
            *p += u * (-alpha / denom);
        }
        denom > 1.0
    }

    #[test]
    fn matches_torch_whether_or_not_the_floor_binds() {
        // RMS(u) comes from the sums of the means pass where eps1² binds nowhere, from
        // another pass over g otherwise; both must give torch's steps, with the update
        // clipped (so that RMS(u) matters). Ten rows, so that the means pass takes a
        // group of rows' sums while it adds the group before.
        let (rows, cols) = (10, 5);
        let wave = |k: f64| -> Vec<f64> {
            (0..rows * cols)
                .map(|i| ((i as f64 * 0.37 + k).sin() + 0.3 * (i as f64 * 1.7).cos()) * 0.5)
                .collect()
        };
        // (what, eps, the gradient of element i from the wave's value)
        type Case = (&'static str, (f64, f64), fn(usize, f64) -> f64);
        let cases: [Case; 3] = [
            ("every gradient nonzero", (0.0, 1e-3), |_, g| g),
            // A row of zeros (R = 0 there), and a spike that makes RMS(u) clip.
            ("a zero row", (0.0, 1e-3), |i, g| match i {
                10..15 => 0.0,
                7 => 6.0 * g,
                _ => g,
            }),
            // eps1 = 1e-3: V < eps1² for the rows scaled down.
            ("the floor binding", (1e-3, 1e-3), |i, g| match i {
                0..10 => g * 1e-4,
                20 => g * 6.0,
                _ => g,
            }),
        ];
        for (what, eps, shape_grad) in cases {
            let (lr, d, wd) = (0.05, 1.0, 0.1);
            let spec = format!(
                "adafactor:lr={lr},eps={}/{},d={d},weight_decay={wd}",
                eps.0, eps.1
            );
            let mut opt = adafactor(&spec);
            let mut params: Params<f64> = [("w", Tensor::new([rows, cols], wave(0.5)).unwrap())]
                .into_iter()
                .collect();
            let mut p = wave(0.5);
            let (mut rv, mut cv) = (vec![0.0; rows], vec![0.0; cols]);
            let eps1 = if eps.0 == 0.0 { f64::EPSILON } else { eps.0 };
            let mut clipped = false;
            for t in 1..=6 {
                let g: Vec<f64> = wave(t as f64)
                    .iter()
                    .enumerate()
                    .map(|(i, &g)| shape_grad(i, g))
                    .collect();
                let grads: Params<f64> = [("w", Tensor::new([rows, cols], g.clone()).unwrap())]
                    .into_iter()
                    .collect();
                opt.update(&mut params, &grads).unwrap();
                let hyper = (lr, eps1, eps.1, d, wd);
                clipped |= torch_step(
                    &mut p,
                    &g,
                    (&mut rv, &mut cv),
                    (rows, cols),
                    t as f64,
                    hyper,
                );
                for (i, (a, b)) in params.get("w").unwrap().data().iter().zip(&p).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1e-3),
                        "{what}, step {t}, element {i}: {a} vs torch's {b}"
                    );
                }
            }
            assert!(
                clipped,
                "{what}: no step clipped its update, so RMS(u) went untested"
            );
        }
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
