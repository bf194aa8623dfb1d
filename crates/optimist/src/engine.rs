//! The shared engine: the [`Optimizer`] interface, and [`Elementwise`], which runs any
//! per-element update [`Rule`] over named tensors.
//!
//! An optimizer's file states only its rule: the scalars it computes once per step
//! ([`Rule::step`]) and how one element and its state change ([`Rule::apply`]). The
//! engine owns everything else: pairing tensors with their state, creating the state on
//! the first step, checking names and shapes on later ones, and the loops over
//! elements, so that making those loops faster makes every optimizer faster.
//!
//! Optimizers whose update of an element also needs reductions over its tensor (norms,
//! row and column means) or matrix products state a [`TensorRule`] instead, run by
//! [`Tensorwise`]: its passes over a [`TensorStep`] (compute an update, reduce, apply)
//! are the engine's loops too, and `linalg` holds its matrix products.
//!
//! The loops are compiled for the widest instructions the CPU has (`kernel`) and
//! large steps are cut into pieces shared among rayon's threads (`share.rs`: the
//! calling thread works from the front, the others from the back); no result depends
//! on either.
//!
//! Every optimizer's learning rate and hyperparameters can be changed between steps
//! ([`Optimizer::set_learning_rate`], [`Optimizer::set_hyperparameter`]): this is how
//! [`crate::schedule::Scheduled`] applies a schedule without any optimizer repeating it.
//!
//! The engine also checks every step's gradients for NaN and infinities before it
//! changes anything ([`NonFinite`]), and saves and loads its state
//! ([`Optimizer::save_state`], format in [`crate::saved`]).
//!
//! Files: `rule.rs` the elementwise rule API; `state.rs` the per-tensor state (a leaf
//! the file format builds on); `driver.rs` the one [`Optimizer`] implementation,
//! [`Driver`], which runs either kind of rule through its [`Runner`]
//! (`elementwise.rs`, `tensorwise.rs` with `tensorwise/step.rs` and
//! `tensorwise/reduce.rs`); `finite.rs` the check of gradients; `kernel.rs`,
//! `share.rs` and `linalg.rs` the loops, threads and matrix products.

use crate::hyper::Value;
use crate::{Error, Float, Param, Params};
use std::path::Path;

mod driver;
mod elementwise;
mod finite;
#[cfg(feature = "internals")]
pub mod kernel;
#[cfg(not(feature = "internals"))]
#[allow(dead_code)]
pub(crate) mod kernel;
#[cfg(feature = "internals")]
pub mod linalg;
#[cfg(not(feature = "internals"))]
#[allow(dead_code)]
pub(crate) mod linalg;
mod rule;
mod share;
pub(crate) mod state;
mod tensorwise;

pub use driver::{Driver, Runner};
pub use elementwise::{Elementwise, PerElement};
pub use rule::{Rule, Slots};
pub(crate) use state::{checked_len, next_count};
pub use state::{CarryState, NamedState, State, TensorState, MAX_STEPS};
pub use tensorwise::{PerTensor, TensorRule, TensorStep, Tensorwise};

#[cfg(not(feature = "internals"))]
pub(crate) use finite::first_nonfinite;
pub(crate) use finite::Guard;
pub use finite::NonFinite;
#[cfg(feature = "internals")]
pub use finite::{all_finite, first_nonfinite};
#[cfg(feature = "internals")]
pub use tensorwise::sum_squares;
#[cfg(not(feature = "internals"))]
pub(crate) use tensorwise::sum_squares;

/// The keys that name a configuration's learning rate: `lr` (the article's and torch's
/// conventions) and `learning_rate` (optax's).
pub const LEARNING_RATE_KEYS: [&str; 2] = ["lr", "learning_rate"];

/// A gradient-descent optimizer: updates named parameter tensors in place from their
/// gradients.
///
/// State (moments, step count) is created for each tensor on the first update that
/// gives it, and kept per tensor name. As in PyTorch, an update may leave tensors out
/// (frozen, or without a gradient this time): they keep their values, state and own
/// step count, so that bias corrections follow each tensor's own steps. A known name
/// with another shape is an error ([`Error::StateMismatch`]) that changes nothing,
/// never a silent reset: call [`Optimizer::reset`] to start over. An update without
/// tensors changes nothing.
pub trait Optimizer<F: Float>: Send {
    /// The optimizer's name, e.g. `adam`.
    fn name(&self) -> &'static str;

    /// Every hyperparameter with its value, in declaration order.
    fn hyperparameters(&self) -> Vec<(&'static str, Value)>;

    /// One step over the given tensors, each with its gradient.
    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error>;

    /// The number of steps taken since creation or the last reset.
    fn steps(&self) -> u64;

    /// Forgets all state, as if newly built.
    fn reset(&mut self);

    /// The learning rate: the value of the configuration's `lr` or `learning_rate` key
    /// ([`LEARNING_RATE_KEYS`]); `None` for an optimizer that has neither.
    fn learning_rate(&self) -> Option<f64> {
        self.hyperparameters()
            .into_iter()
            .find_map(|(key, value)| match value {
                Value::Num(x) if LEARNING_RATE_KEYS.contains(&key) => Some(x),
                Value::Int(n) if LEARNING_RATE_KEYS.contains(&key) => Some(n as f64),
                _ => None,
            })
    }

    /// Sets the learning rate of the following steps, as a schedule does. Any finite
    /// value >= 0 is allowed, even where a configuration asks for lr > 0, since a
    /// schedule may reach 0 (e.g. cosine annealing at `T_max`).
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        let _ = lr;
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: "its learning rate cannot be changed".to_string(),
        })
    }

    /// Sets one hyperparameter of the following steps, checked against its range as in
    /// a spec; e.g. the momentum that OneCycleLR cycles.
    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        let _ = value;
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: format!("its hyperparameter '{key}' cannot be changed"),
        })
    }

    /// Sets what the following steps do with gradients that hold NaN or an infinity:
    /// [`NonFinite::Refuse`] (the default), [`NonFinite::Skip`] or [`NonFinite::Trust`].
    fn set_nonfinite(&mut self, policy: NonFinite) -> Result<(), Error> {
        let _ = policy;
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: "it has no policy for non-finite gradients".to_string(),
        })
    }

    /// What steps do with gradients that hold NaN or an infinity; an optimizer without
    /// a policy trusts them.
    fn nonfinite(&self) -> NonFinite {
        NonFinite::Trust
    }

    /// The number of steps skipped for non-finite gradients ([`NonFinite::Skip`]) since
    /// creation or the last reset; they are not counted in [`Optimizer::steps`].
    fn skipped_steps(&self) -> u64 {
        0
    }

    /// The state as bytes ([`crate::saved`]): everything a later step reads, so that
    /// an optimizer built alike and loaded with it takes bit-identical steps.
    fn save_state(&self) -> Result<Vec<u8>, Error> {
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: "its state cannot be saved".to_string(),
        })
    }

    /// Replaces the state with one [`Optimizer::save_state`] gave, after checking that
    /// it is the state of an optimizer built alike (and, if this one has state, for the
    /// same tensors); on an error nothing changes.
    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let _ = bytes;
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: "its state cannot be loaded".to_string(),
        })
    }

    /// Saves the state to `path`, through a temporary file renamed over it so that the
    /// file is always whole.
    fn save(&self, path: &Path) -> Result<(), Error> {
        crate::saved::write_file(path, &self.save_state()?)
    }

    /// Loads the state from `path` (see [`Optimizer::load_state`]).
    fn load(&mut self, path: &Path) -> Result<(), Error> {
        crate::saved::load_file(path, |bytes| self.load_state(bytes))
    }

    /// One step, the article's way: `params` and `grads` pair up by name.
    fn update(&mut self, params: &mut Params<F>, grads: &Params<F>) -> Result<(), Error> {
        let mut views = params.with_grads(grads)?;
        self.step(&mut views)
    }

    /// The names of the tensors this optimizer keeps state for, in the order first
    /// seen.
    fn state_tensors(&self) -> Vec<String> {
        Vec::new()
    }

    /// The state of the tensor named `tensor` by name, as torch's `optimizer.state[p]`
    /// holds it (its step count, buffers such as `exp_avg`, carried scalars such as
    /// `mu_product`); `None` if it has none yet.
    fn state_of(&self, tensor: &str) -> Option<NamedState<F>> {
        let _ = tensor;
        None
    }

    /// Sets the state of the tensor named `tensor` (creating it, for a tensor not seen
    /// yet) from named buffers and scalars, e.g. converted from a torch `state_dict`:
    /// the names must be those [`Optimizer::state_of`] gives for a tensor of that
    /// shape, the values ones a run can reach (finite, second moments >= 0); on an error
    /// nothing changes.
    fn load_tensor_state(&mut self, tensor: &str, state: NamedState<F>) -> Result<(), Error> {
        let _ = (tensor, state);
        Err(Error::Unsupported {
            optimizer: self.name().to_string(),
            why: "its state cannot be set by name".to_string(),
        })
    }

    /// The name and hyperparameters in one line: `adam(lr=0.3, beta1=0.9, ...)`.
    fn label(&self) -> String {
        let hp: Vec<String> = self
            .hyperparameters()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}({})", self.name(), hp.join(", "))
    }
}

/// The `Optimizer` methods a wrapper (`Clipped`, `Scheduled`) hands to the optimizer it
/// wraps unchanged, as a field `inner: Box<dyn Optimizer<F>>`: its non-finite policy,
/// its skipped steps and its per-tensor state. Written once, used inside each
/// wrapper's `impl Optimizer<F>`.
macro_rules! forward_policy_and_state_to_inner {
    () => {
        fn set_nonfinite(&mut self, policy: $crate::NonFinite) -> Result<(), $crate::Error> {
            self.inner.set_nonfinite(policy)
        }

        fn nonfinite(&self) -> $crate::NonFinite {
            self.inner.nonfinite()
        }

        fn skipped_steps(&self) -> u64 {
            self.inner.skipped_steps()
        }

        fn state_tensors(&self) -> Vec<String> {
            self.inner.state_tensors()
        }

        fn state_of(&self, tensor: &str) -> Option<$crate::engine::NamedState<F>> {
            self.inner.state_of(tensor)
        }

        fn load_tensor_state(
            &mut self,
            tensor: &str,
            state: $crate::engine::NamedState<F>,
        ) -> Result<(), $crate::Error> {
            self.inner.load_tensor_state(tensor, state)
        }
    };
}
pub(crate) use forward_policy_and_state_to_inner;
