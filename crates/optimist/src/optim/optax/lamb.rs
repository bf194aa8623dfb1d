//! optax.lamb.

use crate::engine::{TensorRule, TensorStep};
use crate::hyper::Range;
use crate::optim::weight_decay::WeightDecay;
use crate::{Error, Float};

crate::config! {
    /// optax.lamb: Adam's update plus decoupled weight decay, rescaled per tensor by the
    /// trust ratio ‖p‖/‖u‖ (1 when either norm is 0).
    ///
    /// m ← b1·m + (1 − b1)·g;  v ← b2·v + (1 − b2)·g²;
    /// u = (m/(1 − b1^t)) / (√(v/(1 − b2^t) + eps_root) + eps) + weight_decay·p;
    /// p ← p − learning_rate·(‖p‖/‖u‖)·u
    ///
    /// Paper: Y. You et al., "Large Batch Optimization for Deep Learning: Training BERT
    /// in 76 minutes", ICLR 2020 (arXiv:1904.00962).
    pub struct Lamb {
        name: "lamb", convention: "optax",
        formula: "m ← b1·m + (1 − b1)g; v ← b2·v + (1 − b2)g²; u = m̂/(√(v̂ + eps_root) + eps) + weight_decay·p; p ← p − learning_rate·(‖p‖/‖u‖)·u per tensor (ratio 1 if a norm is 0)",
        paper: "You et al., Large Batch Optimization for Deep Learning: Training BERT in 76 minutes (ICLR 2020, arXiv:1904.00962)";
        /// Learning rate (optax has no default; optimist uses 1e-3).
        learning_rate: f64 = 1e-3, Range::Positive;
        /// Decay of the first-moment estimate.
        b1: f64 = 0.9, Range::Unit;
        /// Decay of the second-moment estimate.
        b2: f64 = 0.999, Range::Unit;
        /// Added to √v̂, outside the square root.
        eps: f64 = 1e-6, Range::NonNegative;
        /// Added to v̂ inside the square root.
        eps_root: f64 = 0.0, Range::NonNegative;
        /// Decoupled weight decay, added to the update before the trust ratio.
        weight_decay: f64 = 0.0, Range::NonNegative;
    }
}

/// LAMB's per-step scalars.
#[derive(Debug, Clone, Copy)]
pub struct LambStep<F> {
    learning_rate: f64,
    b1: F,
    b2: F,
    bias1: F,
    bias2: F,
    eps: F,
    eps_root: F,
    decay: WeightDecay<F>,
}

impl<F: Float> TensorRule<F> for Lamb {
    type Step = LambStep<F>;
    type Carry = ();

    fn state_names(&self, _shape: &[usize]) -> Vec<&'static str> {
        vec!["mu", "nu"]
    }

    fn state_sizes(&self, _name: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        // First and second moments.
        let n = crate::engine::checked_len(shape)?;
        Ok(vec![n, n])
    }

    fn step(&self, t: u64, _: &mut ()) -> LambStep<F> {
        let t = t as f64;
        LambStep {
            learning_rate: self.learning_rate,
            b1: F::from_f64(self.b1),
            b2: F::from_f64(self.b2),
            bias1: F::from_f64(1.0 - self.b1.powf(t)),
            bias2: F::from_f64(1.0 - self.b2.powf(t)),
            eps: F::from_f64(self.eps),
            eps_root: F::from_f64(self.eps_root),
            decay: WeightDecay::l2(self.weight_decay),
        }
    }

    fn update(k: LambStep<F>, x: &mut TensorStep<'_, F>) {
        x.set_update(move |p, g, [m, v]| {
            *m = g * (F::ONE - k.b1) + *m * k.b1;
            *v = g * g * (F::ONE - k.b2) + *v * k.b2;
            k.decay.penalized(
                p,
                (*m / k.bias1) / ((*v / k.bias2 + k.eps_root).sqrt() + k.eps),
            )
        });
        let (p_norm, u_norm) = (x.value_norm(), x.update_norm());
        let ratio = if p_norm == 0.0 || u_norm == 0.0 {
            1.0
        } else {
            p_norm / u_norm
        };
        let step = F::from_f64(k.learning_rate * ratio);
        x.apply(move |p, u| p - u * step);
    }
}

#[cfg(test)]
mod tests {
    use crate::{registry, Convention, Optimizer, Params, Tensor};

    fn step(spec: &str, p: Vec<f64>, g: Vec<f64>) -> Vec<f64> {
        let mut opt: Box<dyn Optimizer<f64>> =
            registry::build_in(&spec.parse().unwrap(), Convention::Optax).unwrap();
        let mut params: Params<f64> = [("p", Tensor::vector(p))].into_iter().collect();
        let grads: Params<f64> = [("p", Tensor::vector(g))].into_iter().collect();
        opt.update(&mut params, &grads).unwrap();
        params.get("p").unwrap().data().to_vec()
    }

    #[test]
    fn first_step_is_adam_direction_rescaled_to_the_parameter_norm() {
        // t = 1: m̂ = g, v̂ = g², u = g/(|g| + eps); ratio ‖p‖/‖u‖.
        let (p, g) = (vec![3.0, 4.0], vec![0.5, -2.0]);
        let u: Vec<f64> = g.iter().map(|g: &f64| g / (g.abs() + 1e-6)).collect();
        let ratio = 5.0 / (u[0] * u[0] + u[1] * u[1]).sqrt();
        let got = step("lamb:learning_rate=0.1", p.clone(), g);
        for i in 0..2 {
            let want = p[i] - 0.1 * ratio * u[i];
            assert!((got[i] - want).abs() < 1e-15, "{i}: {} vs {want}", got[i]);
        }
    }

    #[test]
    fn zero_parameters_take_a_plain_step() {
        // ‖p‖ = 0: the trust ratio is 1, as in optax.
        let got = step(
            "lamb:learning_rate=0.1,eps=0",
            vec![0.0, 0.0],
            vec![1.0, -2.0],
        );
        assert_eq!(got, vec![-0.1, 0.1]);
    }
}
