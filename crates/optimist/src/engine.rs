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
mod tensorwise;

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
/// State (moments, step count) is created on the first update for the tensors given
/// then, and kept per tensor name. A later update with other names or shapes is an
/// error ([`Error::StateMismatch`]), never a silent reset: call [`Optimizer::reset`]
/// to start over.
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

/// One tensor's optimizer state by name, in the layout of torch's `optimizer.state[p]`
/// (optax's names for optax's rules): what [`Optimizer::state_of`] gives and
/// [`Optimizer::load_tensor_state`] takes.
///
/// ```
/// use optimist::{optim::pytorch, Build, Optimizer, Params, Tensor};
///
/// let mut adam = pytorch::Adam { lr: 0.1, ..Default::default() }.build::<f64>()?;
/// let mut params: Params<f64> = [("w", Tensor::vector(vec![1.0, 2.0]))].into_iter().collect();
/// let grads: Params<f64> = [("w", Tensor::vector(vec![0.5, -1.0]))].into_iter().collect();
/// adam.update(&mut params, &grads)?;
/// let state = adam.state_of("w").unwrap();
/// assert_eq!(state.step, 1);
/// // exp_avg = (1 − beta1)·g, exp_avg_sq = (1 − beta2)·g²
/// assert_eq!(state.buffer("exp_avg").unwrap(), &[0.5 * (1.0 - 0.9), -1.0 * (1.0 - 0.9)]);
/// assert_eq!(state.buffer("exp_avg_sq").unwrap().len(), 2);
/// # Ok::<(), optimist::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NamedState<F> {
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// The steps the tensor took (torch's `state['step']`).
    pub step: u64,
    /// Each state buffer by name (e.g. `exp_avg`), its values row-major; a buffer may
    /// be shorter than the tensor (Adafactor's `row_var`, `col_var`).
    pub buffers: Vec<(String, Vec<F>)>,
    /// Each scalar carried from step to step by name (e.g. NAdam's `mu_product`).
    pub scalars: Vec<(String, f64)>,
}

impl<F> NamedState<F> {
    /// The buffer named `name`.
    pub fn buffer(&self, name: &str) -> Option<&[F]> {
        self.buffers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
    }

    /// The scalar named `name`.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, x)| *x)
    }
}

impl<F: Float, K: CarryState> State<F, K> {
    /// The state of `tensor` by name, its buffers named by `names`.
    pub(crate) fn named(
        &self,
        tensor: &str,
        names: impl Fn(&[usize]) -> Vec<&'static str>,
    ) -> Option<NamedState<F>> {
        let s = self.tensors.iter().find(|s| s.name == tensor)?;
        Some(NamedState {
            shape: s.shape.clone(),
            step: s.step,
            buffers: names(&s.shape)
                .into_iter()
                .zip(&s.slots)
                .map(|(n, b)| (n.to_string(), b.clone()))
                .collect(),
            scalars: K::NAMES
                .iter()
                .zip(s.carry.to_numbers())
                .map(|(n, x)| (n.to_string(), x))
                .collect(),
        })
    }

    /// Sets the state of `tensor` from `state`, checked against the buffers a tensor of
    /// its shape has (`names`, `sizes`); on an error nothing changes.
    pub(crate) fn load_named(
        &mut self,
        optimizer: &str,
        tensor: &str,
        state: NamedState<F>,
        names: impl Fn(&[usize]) -> Vec<&'static str>,
        sizes: impl Fn(&str, &[usize]) -> Result<Vec<usize>, Error>,
    ) -> Result<(), Error> {
        let bad = |why: String| Error::Unsupported {
            optimizer: optimizer.to_string(),
            why: format!("cannot load the state of tensor '{tensor}': {why}"),
        };
        let NamedState {
            shape,
            step,
            mut buffers,
            scalars,
        } = state;
        checked_len(&shape)?;
        if let Some(s) = self.tensors.iter().find(|s| s.name == tensor) {
            if s.shape != shape {
                return Err(bad(format!(
                    "it has shape {shape:?}, and its state here shape {:?}",
                    s.shape
                )));
            }
        }
        if step > MAX_STEPS {
            return Err(bad(format!("its step count {step} is above {MAX_STEPS}")));
        }
        let want = names(&shape);
        let lengths = sizes(tensor, &shape).map_err(|e| bad(e.to_string()))?;
        let given: Vec<&str> = buffers.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted = given.clone();
        sorted.sort_unstable();
        let mut expected = want.clone();
        expected.sort_unstable();
        if sorted != expected {
            return Err(bad(format!(
                "its buffers are [{}], and a tensor of shape {shape:?} has [{}]",
                given.join(", "),
                want.join(", ")
            )));
        }
        let mut slots = Vec::with_capacity(want.len());
        for (name, len) in want.iter().zip(&lengths) {
            let i = buffers
                .iter()
                .position(|(n, _)| n == name)
                .expect("checked above");
            let values = buffers.swap_remove(i).1;
            if values.len() != *len {
                return Err(bad(format!(
                    "its {name} holds {} values, and a tensor of shape {shape:?} has {len}",
                    values.len()
                )));
            }
            crate::saved::check_buffer(tensor, name, &values).map_err(|e| bad(e.to_string()))?;
            slots.push(values);
        }
        let numbers: Option<Vec<f64>> = K::NAMES
            .iter()
            .map(|n| scalars.iter().find(|(k, _)| k == n).map(|(_, x)| *x))
            .collect();
        let carry = match numbers {
            Some(numbers) if scalars.len() == K::NAMES.len() => K::from_numbers(&numbers)
                .ok_or_else(|| bad(format!("its scalars {scalars:?} are out of range")))?,
            _ => {
                let given: Vec<&str> = scalars.iter().map(|(n, _)| n.as_str()).collect();
                return Err(bad(format!(
                    "its scalars are [{}], and this optimizer carries [{}]",
                    given.join(", "),
                    K::NAMES.join(", ")
                )));
            }
        };
        let loaded = TensorState {
            name: tensor.to_string(),
            shape,
            step,
            carry,
            slots,
        };
        match self.tensors.iter_mut().find(|s| s.name == tensor) {
            Some(s) => *s = loaded,
            None => self.tensors.push(loaded),
        }
        Ok(())
    }
}

/// One tensor's optimizer state.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorState<F, K = ()> {
    /// The parameter's name.
    pub name: String,
    /// The parameter's shape.
    pub shape: Vec<usize>,
    /// The steps this tensor took (torch's `state['step']`): a step that leaves the
    /// tensor out does not count, so that its bias corrections follow its own count.
    pub step: u64,
    /// The scalar state this tensor carries from one of its steps to the next (e.g.
    /// NAdam's `mu_product`), [`Rule::Carry`].
    pub carry: K,
    /// One buffer per state slot: each as long as the tensor for an elementwise
    /// [`Rule`]; a [`TensorRule`] may declare other lengths (e.g. Adafactor's row and
    /// column factors).
    pub slots: Vec<Vec<F>>,
}

/// All of an optimizer's state: the number of steps and each tensor's state.
#[derive(Debug, Clone, PartialEq)]
pub struct State<F, K = ()> {
    /// Steps taken (each updating one tensor or more).
    pub t: u64,
    /// Per-tensor state, in the order the tensors were first seen.
    pub tensors: Vec<TensorState<F, K>>,
}

impl<F, K> Default for State<F, K> {
    fn default() -> Self {
        State {
            t: 0,
            tensors: Vec::new(),
        }
    }
}

/// The most steps a count may hold: far beyond any run, and far enough below
/// `u64::MAX` that no count wraps (a saved state with a larger count is refused).
pub const MAX_STEPS: u64 = 1 << 53;

/// `count + 1`, or an error past [`MAX_STEPS`].
pub(crate) fn next_count(count: u64, what: &str) -> Result<u64, Error> {
    match count.checked_add(1) {
        Some(n) if n <= MAX_STEPS => Ok(n),
        _ => Err(Error::Unsupported {
            optimizer: "optimist".to_string(),
            why: format!("the {what} would pass {MAX_STEPS}"),
        }),
    }
}

/// The number of elements of `shape`, or an error if the product overflows.
pub(crate) fn checked_len(shape: &[usize]) -> Result<usize, Error> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })
}

impl<F: Float, K: CarryState> State<F, K> {
    /// For each view, the index of its tensor state; creates fresh state (`slots`
    /// buffers, each as long as its tensor) for the names seen for the first time, and
    /// checks the shapes of the others.
    fn bind(&mut self, params: &[Param<'_, F>], slots: usize) -> Result<Vec<usize>, Error> {
        self.bind_sized(params, |p| Ok(vec![p.value.len(); slots]))
    }

    /// [`State::bind`] with buffers of the lengths `sizes` gives for each new tensor.
    /// Every check comes first: on an error (a tensor given twice, a known name with
    /// another shape, a new tensor the rule cannot update) nothing changes.
    pub(crate) fn bind_sized(
        &mut self,
        params: &[Param<'_, F>],
        sizes: impl Fn(&Param<'_, F>) -> Result<Vec<usize>, Error>,
    ) -> Result<Vec<usize>, Error> {
        check_views(params)?;
        let known = self.tensors.len();
        let mut index = Vec::with_capacity(params.len());
        let mut fresh: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let found = match self.tensors.get(i) {
                // The same order as before is the common case.
                Some(s) if s.name == p.name => Some(i),
                _ => self.tensors.iter().position(|s| s.name == p.name),
            };
            let j = match found {
                Some(j) => {
                    let s = &self.tensors[j];
                    if s.shape != p.shape {
                        return Err(Error::StateMismatch(format!(
                            "parameter '{}' has shape {:?} but its state has shape {:?}",
                            p.name, p.shape, s.shape
                        )));
                    }
                    j
                }
                None => {
                    if fresh.iter().any(|&(k, _)| params[k].name == p.name) {
                        return Err(Error::GradMismatch(format!(
                            "parameter '{}' is given twice",
                            p.name
                        )));
                    }
                    fresh.push((i, sizes(p)?));
                    known + fresh.len() - 1
                }
            };
            index.push(j);
        }
        let mut seen = index.clone();
        seen.sort_unstable();
        if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
            let name = match index.iter().position(|&j| j == w[0]) {
                Some(i) => params[i].name,
                None => "?",
            };
            return Err(Error::GradMismatch(format!(
                "parameter '{name}' is given twice"
            )));
        }
        for (i, sizes) in fresh {
            let p = &params[i];
            self.tensors.push(TensorState {
                name: p.name.to_string(),
                shape: p.shape.to_vec(),
                step: 0,
                carry: K::default(),
                slots: sizes.into_iter().map(|n| vec![F::ZERO; n]).collect(),
            });
        }
        Ok(index)
    }

    /// Whether a step whose state was just bound goes ahead under `guard`; a refused or
    /// skipped step also drops the state `bind` created (the tensors past the first
    /// `known`), so that nothing changed.
    pub(crate) fn admit(
        &mut self,
        guard: &mut Guard,
        params: &[Param<'_, F>],
        known: usize,
    ) -> Result<bool, Error> {
        let admitted = guard.admit(params);
        if !matches!(admitted, Ok(true)) {
            self.tensors.truncate(known);
        }
        admitted
    }
}

/// Checks that each view's gradient and shape agree with its values.
pub(crate) fn check_views<F>(params: &[Param<'_, F>]) -> Result<(), Error> {
    for p in params {
        if p.value.len() != p.grad.len() {
            return Err(Error::GradMismatch(format!(
                "parameter '{}' has {} elements but its gradient has {}",
                p.name,
                p.value.len(),
                p.grad.len()
            )));
        }
        if checked_len(p.shape)? != p.value.len() {
            return Err(Error::ShapeData {
                shape: p.shape.to_vec(),
                len: p.value.len(),
            });
        }
    }
    Ok(())
}

/// The per-step scalars of each tensor of a step, computed once per distinct step
/// count and carried state (all tensors share one in the common case), each tensor's
/// count and carry advanced.
pub(crate) fn step_scalars<F, K: CarryState, S: Copy>(
    tensors: &mut [TensorState<F, K>],
    index: &[usize],
    step: impl Fn(u64, &mut K) -> S,
) -> Result<Vec<S>, Error> {
    // (count and carry before, carry after, scalars)
    let mut distinct: Vec<(u64, K, K, S)> = Vec::new();
    let mut out = Vec::with_capacity(index.len());
    // Checked first, so that an error changes nothing.
    for &j in index {
        next_count(tensors[j].step, "step count")?;
    }
    for &j in index {
        let s = &mut tensors[j];
        let t = s.step + 1;
        let k = match distinct.iter().find(|d| d.0 == s.step && d.1 == s.carry) {
            Some(d) => {
                s.carry = d.2;
                d.3
            }
            None => {
                let before = s.carry;
                let k = step(t, &mut s.carry);
                distinct.push((s.step, before, s.carry, k));
                k
            }
        };
        s.step = t;
        out.push(k);
    }
    Ok(out)
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
