//! Elementwise rules as optimizers: every tensor of a step updated by the kernel's
//! fused loop, one pass over each element.

use super::driver::{Driver, Runner};
use super::kernel;
use super::rule::{Rule, Slots};
use super::state::{checked_len, TensorState};
use crate::{Error, Float, Param};

/// Runs an elementwise [`Rule`] as an [`Optimizer`](crate::Optimizer).
///
/// ```
/// use optimist::{optim::Adam, Elementwise, Optimizer, Params, Tensor};
///
/// let mut opt = Elementwise::<f64, _>::new(Adam { lr: 0.3, ..Adam::default() })?;
/// let mut params: Params<f64> = [("xy", Tensor::vector(vec![-7.0, 2.0]))].into_iter().collect();
/// let grads: Params<f64> = [("xy", Tensor::vector(vec![-0.7, 4.0]))].into_iter().collect();
/// opt.update(&mut params, &grads)?;
/// assert!((params.get("xy").unwrap().data()[0] - -6.7).abs() < 1e-5);
/// # Ok::<(), optimist::Error>(())
/// ```
pub type Elementwise<F, R> = Driver<F, PerElement<R>>;

/// The [`Runner`] of an elementwise [`Rule`]: each tensor keeps `R::State`'s slots, each
/// as long as the tensor.
#[derive(Debug, Clone)]
pub struct PerElement<R>(R);

impl<F: Float, R: Rule<F>> Driver<F, PerElement<R>> {
    /// The optimizer for `rule`, after checking its hyperparameters.
    pub fn new(rule: R) -> Result<Self, Error> {
        debug_assert_eq!(
            R::SLOT_NAMES.len(),
            <R::State<F> as Slots<F>>::N,
            "a name for each state slot"
        );
        Driver::with_runner(PerElement(rule))
    }
}

impl<F: Float, R: Rule<F>> Runner<F> for PerElement<R> {
    type Config = R;
    type Step = R::Step;
    type Carry = R::Carry;

    fn config(&self) -> &R {
        &self.0
    }

    fn config_mut(&mut self) -> &mut R {
        &mut self.0
    }

    fn state_names(&self, _: &[usize]) -> Vec<&'static str> {
        R::SLOT_NAMES.to_vec()
    }

    fn state_sizes(&self, _: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
        Ok(vec![checked_len(shape)?; <R::State<F> as Slots<F>>::N])
    }

    fn step(&self, t: u64, carry: &mut R::Carry) -> R::Step {
        self.0.step(t, carry)
    }

    fn run(
        &mut self,
        params: &mut [Param<'_, F>],
        index: &[usize],
        ks: Vec<R::Step>,
        tensors: &mut [TensorState<F, R::Carry>],
    ) {
        let mut slots: Vec<Option<&mut Vec<Vec<F>>>> =
            tensors.iter_mut().map(|s| Some(&mut s.slots)).collect();
        let jobs: Vec<kernel::Job<F, R>> = params
            .iter_mut()
            .zip(index)
            .zip(ks)
            .map(|((p, &j), k)| {
                let slots = slots[j].take().expect("each tensor once");
                kernel::Job::new(k, p.value, p.grad, slots)
            })
            .collect();
        kernel::run_jobs::<F, R>(&jobs);
    }
}
