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

use crate::hyper::{Configurable, Value};
use crate::saved::{self, CarryState};
use crate::{Error, Float, Lane, Param, Params};
use std::path::Path;

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
mod share;
mod state;
mod tensorwise;

pub(crate) use state::{checked_len, next_count, step_scalars};
pub use state::{NamedState, State, TensorState, MAX_STEPS};

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
pub use tensorwise::{TensorRule, TensorStep, Tensorwise};

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
        saved::write_file(path, &self.save_state()?)
    }

    /// Loads the state from `path` (see [`Optimizer::load_state`]).
    fn load(&mut self, path: &Path) -> Result<(), Error> {
        saved::load_file(self, path)
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

/// The per-element state of a rule: a fixed number of slots, e.g. `[T; 2]` for Adam's
/// first and second moments.
pub trait Slots<T: Copy>: Copy {
    /// The number of slots.
    const N: usize;
    /// Slot `k` set to `f(k)` for every `k`.
    fn from_fn(f: impl FnMut(usize) -> T) -> Self;
    /// Slot `k`.
    fn get(&self, k: usize) -> T;
}

impl<T: Copy, const N: usize> Slots<T> for [T; N] {
    const N: usize = N;
    #[inline(always)]
    fn from_fn(f: impl FnMut(usize) -> T) -> Self {
        std::array::from_fn(f)
    }
    #[inline(always)]
    fn get(&self, k: usize) -> T {
        self[k]
    }
}

/// An optimizer whose update of each element depends only on that element, its
/// gradient, its state and per-step scalars: SGD, Momentum, Adam and most others.
///
/// The rule is written against [`Lane`], so the engine may run it on one element or
/// on a vector of them at once.
pub trait Rule<F: Float>: Configurable + Send + Sync + 'static {
    /// Per-element state, all zeros at the start: `[T; 0]` when there is none.
    type State<T: Copy>: Slots<T>;

    /// Scalars computed once per step (learning rate, bias corrections).
    type Step: Copy + Send + Sync;

    /// Scalar state each tensor carries from one of its steps to the next (e.g. NAdam's
    /// running product of momentum coefficients), starting at its `Default`; `()` for
    /// most rules.
    type Carry: CarryState;

    /// The name of each state slot, in order ([`Rule::State`]'s length): torch's names
    /// (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...), optax's for optax's rules.
    const SLOT_NAMES: &'static [&'static str];

    /// The per-step scalars of step `t` (1 for the first step), advancing `carry`.
    fn step(&self, t: u64, carry: &mut Self::Carry) -> Self::Step;

    /// Updates one parameter `p` (or lane of them) from its gradient `g`.
    fn apply<T: Lane<F>>(k: Self::Step, p: &mut T, g: T, state: &mut Self::State<T>);
}

/// Runs an elementwise [`Rule`] as an [`Optimizer`].
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
#[derive(Debug, Clone)]
pub struct Elementwise<F: Float, R: Rule<F>> {
    rule: R,
    state: State<F, R::Carry>,
    guard: Guard,
}

impl<F: Float, R: Rule<F>> Elementwise<F, R> {
    /// The optimizer for `rule`, after checking its hyperparameters.
    pub fn new(rule: R) -> Result<Self, Error> {
        debug_assert_eq!(
            R::SLOT_NAMES.len(),
            <R::State<F> as Slots<F>>::N,
            "a name for each state slot"
        );
        rule.validate()?;
        Ok(Elementwise {
            rule,
            state: State::default(),
            guard: Guard::default(),
        })
    }

    /// The rule's hyperparameters.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// The state: step count and per-tensor state (step count, carried scalars,
    /// buffers).
    pub fn state(&self) -> &State<F, R::Carry> {
        &self.state
    }
}

impl<F: Float, R: Rule<F>> Optimizer<F> for Elementwise<F, R> {
    fn name(&self) -> &'static str {
        R::info().name
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.rule.values()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        if params.is_empty() {
            return Ok(());
        }
        let t = next_count(self.state.t, "step count")?;
        let known = self.state.tensors.len();
        let index = self.state.bind(params, <R::State<F> as Slots<F>>::N)?;
        if !self.state.admit(&mut self.guard, params, known)? {
            return Ok(());
        }
        let rule = &self.rule;
        let tensors = &mut self.state.tensors;
        let ks = match step_scalars(tensors, &index, |t, c| rule.step(t, c)) {
            Ok(ks) => ks,
            Err(e) => {
                tensors.truncate(known);
                return Err(e);
            }
        };
        let mut slots: Vec<Option<&mut Vec<Vec<F>>>> =
            tensors.iter_mut().map(|s| Some(&mut s.slots)).collect();
        let jobs: Vec<kernel::Job<F, R>> = params
            .iter_mut()
            .zip(&index)
            .zip(ks)
            .map(|((p, &j), k)| {
                let slots = slots[j].take().expect("each tensor once");
                kernel::Job::new(k, p.value, p.grad, slots)
            })
            .collect();
        kernel::run_jobs::<F, R>(&jobs);
        self.state.t = t;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.state.t
    }

    fn reset(&mut self) {
        self.state = State::default();
        self.guard.skipped = 0;
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        set_learning_rate(&mut self.rule, lr)
    }

    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        set_hyperparameter(&mut self.rule, key, value)
    }

    fn set_nonfinite(&mut self, policy: NonFinite) -> Result<(), Error> {
        self.guard.policy = policy;
        Ok(())
    }

    fn nonfinite(&self) -> NonFinite {
        self.guard.policy
    }

    fn skipped_steps(&self) -> u64 {
        self.guard.skipped
    }

    fn save_state(&self) -> Result<Vec<u8>, Error> {
        Ok(saved::save_engine(&self.rule, &self.state, &self.guard))
    }

    fn state_tensors(&self) -> Vec<String> {
        self.state.tensors.iter().map(|s| s.name.clone()).collect()
    }

    fn state_of(&self, tensor: &str) -> Option<NamedState<F>> {
        self.state.named(tensor, |_| R::SLOT_NAMES.to_vec())
    }

    fn load_tensor_state(&mut self, tensor: &str, state: NamedState<F>) -> Result<(), Error> {
        let n = <R::State<F> as Slots<F>>::N;
        self.state.load_named(
            R::info().name,
            tensor,
            state,
            |_| R::SLOT_NAMES.to_vec(),
            |_, shape| Ok(vec![checked_len(shape)?; n]),
        )
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let n = <R::State<F> as Slots<F>>::N;
        let loaded = saved::load_engine(
            bytes,
            &self.rule,
            &self.state,
            |_, shape| Ok(vec![checked_len(shape)?; n]),
            |_| R::SLOT_NAMES.to_vec(),
        )?;
        self.state = loaded.state;
        self.guard.skipped = loaded.skipped;
        Ok(())
    }
}

/// Sets the learning-rate key of `config` to `lr` (>= 0 and finite); the other checks
/// of the configuration still apply when lr > 0.
fn set_learning_rate<C: Configurable>(config: &mut C, lr: f64) -> Result<(), Error> {
    let name = C::info().name;
    let key = config
        .values()
        .into_iter()
        .map(|(k, _)| k)
        .find(|k| LEARNING_RATE_KEYS.contains(k))
        .ok_or_else(|| Error::Unsupported {
            optimizer: name.to_string(),
            why: "it has no learning rate ('lr' or 'learning_rate') to set".to_string(),
        })?;
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::OutOfRange {
            optimizer: name.to_string(),
            key: key.to_string(),
            value: lr.to_string(),
            allowed: format!("{key} >= 0 and finite"),
        });
    }
    let mut changed = config.clone();
    changed.set_value(key, Value::Num(lr))?;
    if lr > 0.0 {
        changed.validate()?;
    }
    *config = changed;
    Ok(())
}

/// Sets `key` of `config` to `value`, keeping the old configuration if the new one
/// fails its checks.
fn set_hyperparameter<C: Configurable>(
    config: &mut C,
    key: &str,
    value: Value,
) -> Result<(), Error> {
    let mut changed = config.clone();
    changed.set_value(key, value)?;
    changed.validate()?;
    *config = changed;
    Ok(())
}
