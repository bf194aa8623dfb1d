//! The one driver of the engine's optimizers: [`Driver`] runs any [`Runner`] (an
//! elementwise rule, a tensor-level rule) as an [`Optimizer`]. It keeps the state and
//! the policy for non-finite gradients, binds each step's tensors to their state,
//! computes the per-step scalars, and saves and loads; a runner only updates tensors.

use super::finite::{Guard, NonFinite};
use super::state::{next_count, step_scalars, CarryState, NamedState, State, TensorState};
use super::{Optimizer, LEARNING_RATE_KEYS};
use crate::hyper::{Configurable, Value};
use crate::saved;
use crate::{Error, Float, Param};

/// What differs between the kinds of rule the engine runs ([`PerElement`](super::PerElement),
/// [`PerTensor`](super::PerTensor)): the state a tensor keeps and how a step updates the tensors.
pub trait Runner<F: Float>: Send + Sync + 'static {
    /// The rule's configuration: name, hyperparameters and their checks.
    type Config: Configurable;
    /// Scalars computed once per step (learning rate, bias corrections).
    type Step: Copy + Send + Sync;
    /// Scalar state each tensor carries from one of its steps to the next.
    type Carry: CarryState;

    /// The rule's configuration.
    fn config(&self) -> &Self::Config;

    /// The rule's configuration, to change between steps.
    fn config_mut(&mut self) -> &mut Self::Config;

    /// The name of each state buffer of a tensor of `shape`, in order.
    fn state_names(&self, shape: &[usize]) -> Vec<&'static str>;

    /// The lengths of the state buffers of a tensor named `name` of `shape`, or an
    /// error if the rule cannot update such a tensor.
    fn state_sizes(&self, name: &str, shape: &[usize]) -> Result<Vec<usize>, Error>;

    /// The per-step scalars of step `t` (1 for the first step), advancing `carry`.
    fn step(&self, t: u64, carry: &mut Self::Carry) -> Self::Step;

    /// Updates every tensor of a step: `params[i]` with the scalars `ks[i]` and the
    /// state `tensors[index[i]]` (each index once).
    fn run(
        &mut self,
        params: &mut [Param<'_, F>],
        index: &[usize],
        ks: Vec<Self::Step>,
        tensors: &mut [TensorState<F, Self::Carry>],
    );
}

/// A rule run as an [`Optimizer`]: [`crate::Elementwise`] and [`crate::Tensorwise`] are
/// this driver with their [`Runner`].
#[derive(Debug, Clone)]
pub struct Driver<F: Float, X: Runner<F>> {
    pub(super) runner: X,
    state: State<F, X::Carry>,
    guard: Guard,
}

impl<F: Float, X: Runner<F>> Driver<F, X> {
    /// The optimizer running `runner`, after checking its rule's hyperparameters.
    pub(super) fn with_runner(runner: X) -> Result<Self, Error> {
        runner.config().validate()?;
        Ok(Driver {
            runner,
            state: State::default(),
            guard: Guard::default(),
        })
    }

    /// The rule's hyperparameters.
    pub fn rule(&self) -> &X::Config {
        self.runner.config()
    }

    /// The state: step count and per-tensor state (step count, carried scalars,
    /// buffers).
    pub fn state(&self) -> &State<F, X::Carry> {
        &self.state
    }
}

/// A step under way ([`State::begin`]).
pub(crate) struct Begun {
    /// The step's count.
    pub(crate) t: u64,
    /// For each tensor of the step, the index of its state.
    pub(crate) index: Vec<usize>,
    /// The number of tensors that had state before the step.
    known: usize,
}

impl<F: Float, K: CarryState> State<F, K> {
    /// Starts a step: binds each tensor to its state (created, with the buffer lengths
    /// `sizes` gives, for tensors seen for the first time) and checks the gradients
    /// under `guard`. `None` for a step that changes nothing: one without tensors, or
    /// one skipped for non-finite gradients; a refused or skipped step also drops the
    /// state it created.
    pub(crate) fn begin(
        &mut self,
        guard: &mut Guard,
        params: &[Param<'_, F>],
        sizes: impl Fn(&Param<'_, F>) -> Result<Vec<usize>, Error>,
    ) -> Result<Option<Begun>, Error> {
        if params.is_empty() {
            return Ok(None);
        }
        let t = next_count(self.t, "step count")?;
        let known = self.tensors.len();
        let index = self.bind(params, sizes)?;
        let admitted = guard.admit(params);
        if !matches!(admitted, Ok(true)) {
            self.tensors.truncate(known);
        }
        Ok(admitted?.then_some(Begun { t, index, known }))
    }

    /// The per-step scalars of each tensor of `begun` (see [`step_scalars`]); on an
    /// error, drops the state the step created, so that nothing changed.
    pub(crate) fn scalars<S: Copy>(
        &mut self,
        begun: &Begun,
        step: impl Fn(u64, &mut K) -> S,
    ) -> Result<Vec<S>, Error> {
        step_scalars(&mut self.tensors, &begun.index, step)
            .inspect_err(|_| self.tensors.truncate(begun.known))
    }
}

impl<F: Float, X: Runner<F>> Optimizer<F> for Driver<F, X> {
    fn name(&self) -> &'static str {
        X::Config::info().name
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.runner.config().values()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        let runner = &self.runner;
        let sizes = |p: &Param<'_, F>| runner.state_sizes(p.name, p.shape);
        let Some(begun) = self.state.begin(&mut self.guard, params, sizes)? else {
            return Ok(());
        };
        let ks = self.state.scalars(&begun, |t, c| runner.step(t, c))?;
        self.runner
            .run(params, &begun.index, ks, &mut self.state.tensors);
        self.state.t = begun.t;
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
        set_learning_rate(self.runner.config_mut(), lr)
    }

    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        set_hyperparameter(self.runner.config_mut(), key, value)
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
        let (config, skipped) = (self.runner.config(), self.guard.skipped);
        Ok(saved::save_engine(config, &self.state, skipped))
    }

    fn state_tensors(&self) -> Vec<String> {
        self.state.tensors.iter().map(|s| s.name.clone()).collect()
    }

    fn state_of(&self, tensor: &str) -> Option<NamedState<F>> {
        self.state
            .named(tensor, |shape| self.runner.state_names(shape))
    }

    fn load_tensor_state(&mut self, tensor: &str, state: NamedState<F>) -> Result<(), Error> {
        let runner = &self.runner;
        self.state.load_named(
            X::Config::info().name,
            tensor,
            state,
            |shape| runner.state_names(shape),
            |name, shape| runner.state_sizes(name, shape),
        )
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let runner = &self.runner;
        let loaded = saved::load_engine(
            bytes,
            runner.config(),
            &self.state,
            |name, shape| runner.state_sizes(name, shape),
            |shape| runner.state_names(shape),
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
