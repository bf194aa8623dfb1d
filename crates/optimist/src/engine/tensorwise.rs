//! Tensor-level rules: optimizers whose update of an element also depends on
//! reductions over its whole tensor (norms, row and column means) or on matrix
//! products, such as LAMB's trust ratio, Adafactor's factored second moment and Muon's
//! orthogonalization.
//!
//! A [`TensorRule`] states the passes of one tensor's update in order; the engine runs
//! every elementwise pass and reduction through [`TensorStep`], so that the rule's file
//! holds no loop over elements and reads like its formulas.
//!
//! Files: `step.rs` holds [`TensorStep`], the passes a rule calls; `reduce.rs` the
//! loops and reductions behind them.

use super::driver::{Driver, Runner};
use super::state::{CarryState, TensorState};
use crate::hyper::Configurable;
use crate::{Error, Float, Param};

mod reduce;
mod step;

pub use reduce::sum_squares;
pub use step::TensorStep;

/// An optimizer whose update of one tensor runs in passes: elementwise passes that
/// compute an update `u` and apply it, with per-tensor reductions between them.
///
/// State is explicit data: each tensor gets the buffers [`TensorRule::state_sizes`]
/// asks for, all zeros at the start, which the passes read and write.
pub trait TensorRule<F: Float>: Configurable + Send + Sync + 'static {
    /// Scalars computed once per step (learning rate, bias corrections).
    type Step: Copy + Send + Sync;

    /// Scalar state carried from one step to the next, starting at its `Default`.
    type Carry: CarryState;

    /// The name of each state buffer of a tensor of `shape`, in the order of
    /// [`TensorRule::state_sizes`]: torch's names, optax's for optax's rules.
    fn state_names(&self, shape: &[usize]) -> Vec<&'static str>;

    /// The lengths of the state buffers a tensor named `name` of `shape` needs, or an
    /// error if the rule cannot update such a tensor (checked on the first step,
    /// before any tensor changes).
    fn state_sizes(&self, name: &str, shape: &[usize]) -> Result<Vec<usize>, Error>;

    /// The per-step scalars of step `t` (1 for the first step), advancing `carry`.
    fn step(&self, t: u64, carry: &mut Self::Carry) -> Self::Step;

    /// Updates one tensor.
    fn update(k: Self::Step, x: &mut TensorStep<'_, F>);
}

/// Runs a [`TensorRule`] as an [`Optimizer`](crate::Optimizer).
pub type Tensorwise<F, R> = Driver<F, PerTensor<F, R>>;

/// The [`Runner`] of a [`TensorRule`]: each tensor in turn, its passes over the
/// engine's update buffer and scratch space (kept from step to step).
#[derive(Debug, Clone)]
pub struct PerTensor<F, R> {
    rule: R,
    update: Vec<F>,
    scratch: Vec<f64>,
}

impl<F: Float, R: TensorRule<F>> Driver<F, PerTensor<F, R>> {
    /// The optimizer for `rule`, after checking its hyperparameters.
    pub fn new(rule: R) -> Result<Self, Error> {
        Driver::with_runner(PerTensor {
            rule,
            update: Vec::new(),
            scratch: Vec::new(),
        })
    }
}

impl<F: Float, R: TensorRule<F>> Runner<F> for PerTensor<F, R> {
    type Config = R;
    type Step = R::Step;
    type Carry = R::Carry;

    fn config(&self) -> &R {
        &self.rule
    }

    fn config_mut(&mut self) -> &mut R {
        &mut self.rule
    }

    fn state_names(&self, shape: &[usize]) -> Vec<&'static str> {
        self.rule.state_names(shape)
    }

    fn state_sizes(&self, name: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        self.rule.state_sizes(name, shape)
    }

    fn step(&self, t: u64, carry: &mut R::Carry) -> R::Step {
        self.rule.step(t, carry)
    }

    fn run(
        &mut self,
        params: &mut [Param<'_, F>],
        index: &[usize],
        ks: Vec<R::Step>,
        tensors: &mut [TensorState<F, R::Carry>],
    ) {
        for ((p, &j), k) in params.iter_mut().zip(index).zip(ks) {
            let mut x = TensorStep::new(
                p.name,
                p.shape,
                &mut *p.value,
                p.grad,
                &mut self.update,
                &mut tensors[j].slots,
                &mut self.scratch,
            );
            R::update(k, &mut x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::{Range, Value};
    use crate::{registry, Convention, Optimizer, Params, Tensor};

    crate::config! {
        /// Normalized gradient descent with momentum, to exercise the hook:
        /// b ← momentum·b + g;  p ← p − lr·b/‖b‖.
        pub struct NormalizedSgd {
            name: "normalized_sgd", convention: "article",
            formula: "b ← momentum·b + g; p ← p − lr·b/‖b‖",
            paper: "none (a test rule)";
            /// Learning rate.
            lr: f64 = 0.1, Range::Positive;
            /// Momentum.
            momentum: f64 = 0.5, Range::Unit;
        }
    }

    impl TensorRule<f64> for NormalizedSgd {
        type Step = (f64, f64);
        type Carry = ();
        fn state_names(&self, _: &[usize]) -> Vec<&'static str> {
            vec!["momentum_buffer"]
        }
        fn state_sizes(&self, _: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
            Ok(vec![shape.iter().product()])
        }
        fn step(&self, _: u64, _: &mut ()) -> (f64, f64) {
            (self.lr, self.momentum)
        }
        fn update((lr, momentum): (f64, f64), x: &mut TensorStep<'_, f64>) {
            x.set_update(move |_, g, [b]| {
                *b = momentum * *b + g;
                *b
            });
            let step = lr / x.update_norm();
            x.apply(move |p, u| p - u * step);
        }
    }

    #[test]
    fn a_tensor_rule_runs_its_passes_per_tensor_with_its_state() {
        let mut opt = Tensorwise::new(NormalizedSgd::default()).unwrap();
        let mut params: Params<f64> = [
            ("w", Tensor::new([2, 2], vec![1.0, 1.0, 1.0, 1.0]).unwrap()),
            ("b", Tensor::vector(vec![0.0])),
        ]
        .into_iter()
        .collect();
        let grads: Params<f64> = [
            ("w", Tensor::new([2, 2], vec![3.0, 0.0, 0.0, 4.0]).unwrap()),
            ("b", Tensor::vector(vec![-2.0])),
        ]
        .into_iter()
        .collect();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(
            params.get("w").unwrap().data(),
            &[1.0 - 0.06, 1.0, 1.0, 1.0 - 0.08]
        );
        assert_eq!(params.get("b").unwrap().data(), &[0.1]);
        // b = 0.5·g + g: same direction, same step.
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(params.get("b").unwrap().data(), &[0.2]);
        assert_eq!(opt.state().tensors[0].slots, vec![vec![4.5, 0.0, 0.0, 6.0]]);
        assert_eq!(opt.steps(), 2);
        opt.reset();
        assert_eq!(opt.steps(), 0);
        assert!(opt.state().tensors.is_empty());
    }

    #[test]
    fn the_update_buffer_is_allocated_only_by_rules_that_store_an_update() {
        use crate::optim::pytorch::Adafactor;
        use crate::{Optimizer, Params, Tensor};
        // Adafactor on a matrix computes its update where it applies it: no buffer as
        // long as the matrix (its memory is sublinear in the matrix's size); on a
        // vector it stores one.
        let mut opt = Tensorwise::<f64, Adafactor>::new(Default::default()).unwrap();
        let mut params: Params<f64> = [("w", Tensor::new([30, 20], vec![0.5; 600]).unwrap())]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("w", Tensor::new([30, 20], vec![0.1; 600]).unwrap())]
            .into_iter()
            .collect();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(opt.runner.update.len(), 0);
        assert_ne!(params.get("w").unwrap().data()[0], 0.5);

        let mut params: Params<f64> = [("b", Tensor::new([7], vec![0.5; 7]).unwrap())]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("b", Tensor::new([7], vec![0.1; 7]).unwrap())]
            .into_iter()
            .collect();
        let mut opt = Tensorwise::<f64, Adafactor>::new(Default::default()).unwrap();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(opt.runner.update.len(), 7);
    }

    #[test]
    fn learning_rate_can_be_set_to_zero_but_not_below() {
        let mut sgd = registry::parse::<f64>("sgd:lr=0.1", crate::Convention::Article).unwrap();
        assert_eq!(sgd.learning_rate(), Some(0.1));
        sgd.set_learning_rate(0.0).unwrap();
        assert_eq!(sgd.learning_rate(), Some(0.0));
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            let e = sgd.set_learning_rate(bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!("sgd: lr = {bad} is out of range; allowed: lr >= 0 and finite")
            );
        }
        let mut lamb =
            registry::build_in::<f32>(&"lamb".parse().unwrap(), Convention::Optax).unwrap();
        lamb.set_learning_rate(0.25).unwrap();
        assert_eq!(lamb.learning_rate(), Some(0.25));
        assert!(lamb.label().starts_with("lamb(learning_rate=0.25,"));
    }

    #[test]
    fn hyperparameters_are_checked_when_set() {
        let mut opt =
            registry::parse::<f64>("momentum:lr=0.1,momentum=0.9", crate::Convention::Article)
                .unwrap();
        let e = opt
            .set_hyperparameter("momentum", Value::Num(1.5))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "momentum: momentum = 1.5 is out of range; allowed: 0 <= momentum < 1"
        );
        assert!(opt
            .set_hyperparameter("beta", Value::Num(0.5))
            .unwrap_err()
            .to_string()
            .contains("momentum has no hyperparameter 'beta'"));
        assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.9)");
        opt.set_hyperparameter("momentum", Value::Num(0.5)).unwrap();
        assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.5)");
    }
}
