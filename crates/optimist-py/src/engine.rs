//! [`Engine`]: one optimist optimizer stepping numpy arrays in place.

use crate::step::{describe_type, step_typed, Dtype};
use crate::{type_error, value_error, value_to_py};
use numpy::PyArrayDyn;
use optimist::groups::{self, GroupSpec};
use optimist::hyper::Value;
use optimist::{Convention, Float, NonFinite, Optimizer, Spec};
use optimist_lab::race::Wrapping;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyList, PyTuple};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The optimizer a spec names with its groups, non-finite policy, clipping and
/// schedule, in `F`.
fn build<F: Float>(
    spec: &Spec,
    groups: &[GroupSpec],
    convention: Convention,
    nonfinite: NonFinite,
    wrapping: &Wrapping,
) -> Result<Box<dyn Optimizer<F>>, optimist::Error> {
    let mut opt = groups::build::<F>(spec, groups, convention)?;
    opt.set_nonfinite(nonfinite)?;
    wrapping.wrap(opt)
}

/// One optimist optimizer over numpy arrays, built from its spec.
///
/// It holds the optimizer in float32 and in float64; the first step picks the one its
/// arrays need, and later steps must keep to it (the state is of that type).
///
/// Methods that change it take `&mut self`, which pyo3 grants one caller at a time, and
/// reach the optimizers without locking; those that read lock the mutex, which nothing
/// holds across a released GIL.
#[pyclass(module = "optimist._optimist")]
pub struct Engine {
    inner: Mutex<Inner>,
}

/// An engine's optimizers and the dtype it steps.
struct Inner {
    f32: Box<dyn Optimizer<f32>>,
    f64: Box<dyn Optimizer<f64>>,
    dtype: Option<Dtype>,
    /// Whether the optimizers clip or schedule (a whole step's work, which tensors
    /// that share memory, stepped in several passes, cannot have).
    wrapped: bool,
    /// Passes taken beyond one per step (tensors that share memory), which the
    /// optimizers count as steps: subtracted from their count.
    extra_passes: u64,
}

/// Which of its two optimizers an engine steps: `$body` with `$opt` bound to it.
macro_rules! with_active {
    ($engine:expr, $dtype:expr, |$opt:ident| $body:expr) => {
        match $dtype {
            Dtype::F32 => {
                let $opt = &mut $engine.f32;
                $body
            }
            Dtype::F64 => {
                let $opt = &mut $engine.f64;
                $body
            }
        }
    };
}

impl Engine {
    /// The optimizers, to read.
    fn read(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The optimizers, to change.
    fn write(&mut self) -> &mut Inner {
        self.inner.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// The optimizer that answers questions about the configuration (both hold the
    /// same).
    fn current(&self) -> &dyn Optimizer<f64> {
        self.f64.as_ref()
    }

    /// Applies `change` to both optimizers, the float64 one first: they share a
    /// configuration, so both succeed or the first fails and nothing changed.
    fn change(
        &mut self,
        change32: impl FnOnce(&mut dyn Optimizer<f32>) -> Result<(), optimist::Error>,
        change64: impl FnOnce(&mut dyn Optimizer<f64>) -> Result<(), optimist::Error>,
    ) -> PyResult<()> {
        change64(self.f64.as_mut()).map_err(value_error)?;
        change32(self.f32.as_mut()).map_err(value_error)
    }
}

/// The dtype of a parameter, or the error for one that is not a float32 or float64
/// numpy array.
fn dtype_of(name: &str, param: &Bound<'_, PyAny>) -> PyResult<Dtype> {
    if param.cast::<PyArrayDyn<f64>>().is_ok() {
        return Ok(Dtype::F64);
    }
    if param.cast::<PyArrayDyn<f32>>().is_ok() {
        return Ok(Dtype::F32);
    }
    Err(type_error(format!(
        "parameter '{name}' is {}; expected a numpy array of float32 or float64",
        describe_type(param)
    )))
}

/// A hyperparameter value from Python: a bool, a real number, or a pair of them.
fn value_from_py(key: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::Int(n));
        }
    }
    if let Ok(x) = obj.extract::<f64>() {
        return Ok(Value::Num(x));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        if let Ok((a, b)) = t.extract::<(f64, f64)>() {
            return Ok(Value::Pair(a, b));
        }
    }
    if let Ok(l) = obj.cast::<PyList>() {
        if let Ok((a, b)) = l.extract::<(f64, f64)>() {
            return Ok(Value::Pair(a, b));
        }
    }
    Err(type_error(format!(
        "hyperparameter '{key}' is {}; expected a number, a bool or a pair of numbers",
        describe_type(obj)
    )))
}

#[pymethods]
impl Engine {
    /// Builds the optimizer `spec` names (`NAME[:KEY=VALUE,...]`) in `convention`, with
    /// parameter groups (`PATTERN:KEY=VALUE,...`), a non-finite policy (`refuse`,
    /// `skip`, `trust`), gradient clipping and a learning-rate schedule (their specs).
    #[new]
    #[pyo3(signature = (spec, convention="article", groups=Vec::new(), nonfinite="refuse", clip=None, schedule=None))]
    fn new(
        spec: &str,
        convention: &str,
        groups: Vec<String>,
        nonfinite: &str,
        clip: Option<&str>,
        schedule: Option<&str>,
    ) -> PyResult<Self> {
        let spec: Spec = spec.parse().map_err(value_error)?;
        let convention: Convention = convention.parse().map_err(value_error)?;
        let groups = groups
            .iter()
            .map(|g| g.parse::<GroupSpec>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(value_error)?;
        let nonfinite: NonFinite = nonfinite.parse().map_err(value_error)?;
        let wrapping = Wrapping {
            clip: clip.map(|c| c.parse()).transpose().map_err(value_error)?,
            schedule: schedule
                .map(|s| s.parse())
                .transpose()
                .map_err(value_error)?,
        };
        let wrapped = wrapping.clip.is_some() || wrapping.schedule.is_some();
        Ok(Engine {
            inner: Mutex::new(Inner {
                f32: build(&spec, &groups, convention, nonfinite, &wrapping)
                    .map_err(value_error)?,
                f64: build(&spec, &groups, convention, nonfinite, &wrapping)
                    .map_err(value_error)?,
                dtype: None,
                wrapped,
                extra_passes: 0,
            }),
        })
    }

    /// One step: each of `params` (numpy float32 or float64 arrays, C-contiguous and
    /// writeable) is updated in place from the gradient at the same index, its state
    /// keyed by the name at that index. Everything is checked before anything changes.
    fn step(
        &mut self,
        py: Python<'_>,
        names: Vec<String>,
        params: Vec<Bound<'_, PyAny>>,
        grads: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if names.len() != params.len() || grads.len() != params.len() {
            return Err(value_error(format!(
                "parameters and gradients do not match: {} names, {} parameters, {} gradients",
                names.len(),
                params.len(),
                grads.len()
            )));
        }
        let e = self.write();
        let dtype = match (params.first(), e.dtype) {
            (Some(p), _) => dtype_of(&names[0], p)?,
            (None, Some(d)) => d,
            (None, None) => Dtype::F64,
        };
        if let Some(have) = e.dtype {
            if have != dtype {
                return Err(type_error(format!(
                    "this optimizer's state is for {} tensors, and this step's are {}; use one optimizer per dtype",
                    have.name(),
                    dtype.name()
                )));
            }
        }
        let wrapped = e.wrapped;
        let extra = with_active!(e, dtype, |opt| step_typed(
            py,
            opt.as_mut(),
            dtype,
            &names,
            &params,
            &grads,
            wrapped
        ))?;
        e.extra_passes += extra;
        e.dtype = Some(dtype);
        Ok(())
    }

    /// The optimizer's name, e.g. `adam`.
    #[getter]
    fn name(&self) -> &'static str {
        self.read().current().name()
    }

    /// `adam(lr=0.3, beta1=0.9, ...)`.
    #[getter]
    fn label(&self) -> String {
        self.read().current().label()
    }

    /// Every hyperparameter with its value, as (key, value) pairs in declaration order.
    fn hyperparameters<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        self.read()
            .current()
            .hyperparameters()
            .into_iter()
            .map(|(k, v)| Ok((k.to_string(), value_to_py(py, v)?)))
            .collect()
    }

    /// The learning rate of the next step (`None` for an optimizer without one).
    #[getter]
    fn get_lr(&self) -> Option<f64> {
        self.read().current().learning_rate()
    }

    /// Sets the learning rate of the following steps (the base rate, under a schedule).
    #[setter]
    fn set_lr(&mut self, lr: f64) -> PyResult<()> {
        self.write()
            .change(|o| o.set_learning_rate(lr), |o| o.set_learning_rate(lr))
    }

    /// Sets one hyperparameter of the following steps, checked against its range.
    fn set_hyperparameter(&mut self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value_from_py(key, value)?;
        self.write().change(
            |o| o.set_hyperparameter(key, value),
            |o| o.set_hyperparameter(key, value),
        )
    }

    /// What a step does with a gradient holding NaN or an infinity: `refuse`, `skip` or
    /// `trust`.
    #[getter]
    fn get_nonfinite(&self) -> &'static str {
        self.read().current().nonfinite().name()
    }

    /// Sets the non-finite policy of the following steps.
    #[setter]
    fn set_nonfinite(&mut self, policy: &str) -> PyResult<()> {
        let policy: NonFinite = policy.parse().map_err(value_error)?;
        self.write()
            .change(|o| o.set_nonfinite(policy), |o| o.set_nonfinite(policy))
    }

    /// Steps taken since creation or the last reset.
    #[getter]
    fn steps(&self) -> u64 {
        let e = self.read();
        let passes = match e.dtype {
            Some(Dtype::F32) => e.f32.steps(),
            _ => e.f64.steps(),
        };
        passes.saturating_sub(e.extra_passes)
    }

    /// Passes taken beyond one per step, for tensors that share memory (stepped one
    /// pass after another); `steps` leaves them out. Saved beside the state.
    #[getter]
    fn extra_passes(&self) -> u64 {
        self.read().extra_passes
    }

    /// Steps skipped for non-finite gradients (policy `skip`).
    #[getter]
    fn skipped_steps(&self) -> u64 {
        let e = self.read();
        match e.dtype {
            Some(Dtype::F32) => e.f32.skipped_steps(),
            _ => e.f64.skipped_steps(),
        }
    }

    /// The dtype of the tensors stepped (`None` before the first step).
    #[getter]
    fn dtype(&self) -> Option<&'static str> {
        self.read().dtype.map(Dtype::name)
    }

    /// Forgets all state, as if newly built.
    fn reset(&mut self) {
        let e = self.write();
        e.f32.reset();
        e.f64.reset();
        e.dtype = None;
        e.extra_passes = 0;
    }

    /// The state as `(dtype, bytes)`: the library's saved-state format, from which
    /// [`Engine::load_state`] resumes bit for bit.
    fn save_state<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Option<&'static str>, Bound<'py, PyBytes>)> {
        let e = self.read();
        let bytes = match e.dtype {
            Some(Dtype::F32) => e.f32.save_state(),
            _ => e.f64.save_state(),
        }
        .map_err(value_error)?;
        Ok((e.dtype.map(Dtype::name), PyBytes::new(py, &bytes)))
    }

    /// Replaces the state with one [`Engine::save_state`] gave (`dtype` None: no step
    /// was taken), with the saved `extra_passes`; on an error nothing changes.
    #[pyo3(signature = (dtype, state, extra_passes=0))]
    fn load_state(&mut self, dtype: Option<&str>, state: &[u8], extra_passes: u64) -> PyResult<()> {
        let dtype = dtype.map(Dtype::parse).transpose()?;
        let e = self.write();
        match dtype {
            Some(Dtype::F32) => e.f32.load_state(state),
            _ => e.f64.load_state(state),
        }
        .map_err(value_error)?;
        match dtype {
            Some(Dtype::F32) => e.f64.reset(),
            _ => e.f32.reset(),
        }
        e.dtype = dtype;
        e.extra_passes = extra_passes;
        Ok(())
    }
}
