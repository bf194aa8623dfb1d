//! Per-tensor state: created for each tensor the first time a step gives it, checked
//! on later steps, read and loaded by name. A leaf: the engine, the optimizers and the
//! file format ([`crate::saved`]) build on these types.

use crate::{Error, Float, Param};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Scalar state carried between steps ([`crate::Rule::Carry`],
/// [`crate::TensorRule::Carry`]), kept per tensor and saved as a list of numbers.
pub trait CarryState: Copy + Default + PartialEq + fmt::Debug + Send + Sync {
    /// The numbers' names, in the order of [`Self::to_numbers`] (torch's or optax's
    /// names, e.g. `mu_product`).
    const NAMES: &'static [&'static str];
    /// The state as numbers, in a fixed order.
    fn to_numbers(&self) -> Vec<f64>;
    /// The state from the numbers [`Self::to_numbers`] gave; `None` if there are not
    /// as many as it holds, or if they are not values the state can take (e.g. NaN).
    fn from_numbers(numbers: &[f64]) -> Option<Self>;
}

impl CarryState for () {
    const NAMES: &'static [&'static str] = &[];
    fn to_numbers(&self) -> Vec<f64> {
        Vec::new()
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        numbers.is_empty().then_some(())
    }
}

/// One tensor's optimizer state by name, in the layout of torch's `optimizer.state[p]`
/// (optax's names for optax's rules): what [`Optimizer::state_of`](crate::Optimizer::state_of) gives and
/// [`Optimizer::load_tensor_state`](crate::Optimizer::load_tensor_state) takes.
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
            check_buffer(tensor, name, &values).map_err(|e| bad(e.to_string()))?;
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
    /// NAdam's `mu_product`), [`Rule::Carry`](crate::Rule::Carry).
    pub carry: K,
    /// One buffer per state slot: each as long as the tensor for an elementwise
    /// [`Rule`](crate::Rule); a [`TensorRule`](crate::TensorRule) may declare other lengths (e.g. Adafactor's row and
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

/// The names of state buffers whose values the math keeps >= 0 (second moments,
/// accumulated squares, step sizes), across conventions.
pub(crate) const NON_NEGATIVE: [&str; 11] = [
    "exp_avg_sq",
    "max_exp_avg_sq",
    "square_avg",
    "acc_delta",
    "sum",
    "exp_inf",
    "step_size",
    "nu",
    "row_var",
    "col_var",
    "variance",
];

/// Checks that a state buffer named `slot` holds values the optimizer can reach:
/// finite, and >= 0 where the math says so.
pub(crate) fn check_buffer<F: Float>(tensor: &str, slot: &str, xs: &[F]) -> Result<(), Error> {
    let nonneg = NON_NEGATIVE.contains(&slot);
    let bad_at = xs
        .iter()
        .position(|x| !x.is_finite() || (nonneg && x.to_f64() < 0.0));
    match bad_at {
        None => Ok(()),
        Some(i) => Err(Error::StateFile {
            file: None,
            why: format!(
                "its tensor '{tensor}' holds {} in {slot}[{i}]; allowed: finite numbers{}",
                xs[i],
                if nonneg { " >= 0" } else { "" }
            ),
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
    /// For each view, the index of its tensor state; creates fresh state (buffers of
    /// the lengths `sizes` gives) for the names seen for the first time, and checks the
    /// shapes of the others. Every check comes first: on an error (a tensor given twice, a known name with
    /// another shape, a new tensor the rule cannot update) nothing changes.
    pub(crate) fn bind(
        &mut self,
        params: &[Param<'_, F>],
        sizes: impl Fn(&Param<'_, F>) -> Result<Vec<usize>, Error>,
    ) -> Result<Vec<usize>, Error> {
        check_views(params)?;
        let known = self.tensors.len();
        let mut index = Vec::with_capacity(params.len());
        let mut fresh: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut fresh_names: HashSet<&str> = HashSet::new();
        // Every known name's index, built on the first name not where expected.
        let mut by_name: Option<HashMap<&str, usize>> = None;
        let mut next = 0;
        for (i, p) in params.iter().enumerate() {
            let is = |j: usize| self.tensors.get(j).is_some_and(|s| s.name == p.name);
            // The same order as before is the common case, or (a group's tensors, a
            // step that leaves some out) the same order with gaps.
            let found = if is(i) {
                Some(i)
            } else if is(next) {
                Some(next)
            } else {
                let by_name = by_name.get_or_insert_with(|| {
                    let names = self.tensors.iter().enumerate();
                    names.map(|(j, s)| (s.name.as_str(), j)).collect()
                });
                by_name.get(p.name).copied()
            };
            if let Some(j) = found {
                next = j + 1;
            }
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
                    if !fresh_names.insert(p.name) {
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
}

/// Checks that each view's gradient and shape agree with its values.
fn check_views<F>(params: &[Param<'_, F>]) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Binds tensor `t{id}` (of shape `[id % 7 + 1]`) for each of `ids`, in order.
    fn bind_ids(state: &mut State<f64>, ids: &[usize]) -> Result<Vec<usize>, Error> {
        let names: Vec<String> = ids.iter().map(|id| format!("t{id}")).collect();
        let shapes: Vec<[usize; 1]> = ids.iter().map(|id| [id % 7 + 1]).collect();
        let mut values: Vec<Vec<f64>> = shapes.iter().map(|s| vec![0.0; s[0]]).collect();
        let grads = values.clone();
        let params: Vec<Param<'_, f64>> = values
            .iter_mut()
            .zip(&grads)
            .zip(names.iter().zip(&shapes))
            .map(|((value, grad), (name, shape))| Param {
                name,
                shape,
                value,
                grad,
            })
            .collect();
        state.bind(&params, |p| Ok(vec![p.value.len()]))
    }

    #[test]
    fn tensors_are_found_by_name_in_any_order() {
        let mut state = State::<f64>::default();
        let all: Vec<usize> = (0..1000).collect();
        assert_eq!(bind_ids(&mut state, &all).unwrap(), all);
        let reversed: Vec<usize> = all.iter().rev().copied().collect();
        let every_other: Vec<usize> = all.iter().step_by(2).copied().collect();
        let shuffled: Vec<usize> = all.iter().map(|i| (i * 379) % 1000).collect();
        // Known tensors in another order, and new ones among them.
        let mixed: Vec<usize> = [&shuffled[..500], &[1000, 1001], &shuffled[990..]].concat();
        for order in [all.clone(), reversed, every_other, shuffled, mixed] {
            let mut here = state.clone();
            let index = bind_ids(&mut here, &order).unwrap();
            assert_eq!(index.len(), order.len());
            for (id, j) in order.iter().zip(index) {
                assert_eq!(here.tensors[j].name, format!("t{id}"));
                assert_eq!(here.tensors[j].shape, [id % 7 + 1]);
            }
            let new = order.iter().filter(|&&id| id >= 1000).count();
            assert_eq!(here.tensors.len(), 1000 + new);
        }
    }

    #[test]
    fn a_name_given_twice_is_an_error_that_changes_nothing() {
        let mut state = State::<f64>::default();
        bind_ids(&mut state, &[0, 1]).unwrap();
        let before = state.clone();
        for twice in [[2, 3, 2], [0, 1, 0], [1, 5, 1]] {
            let e = bind_ids(&mut state, &twice).unwrap_err().to_string();
            assert!(
                e.contains(&format!("'t{}' is given twice", twice[0])),
                "{e}"
            );
            assert_eq!(state, before);
        }
    }
}
