//! [`Optimizer`]: an optimist optimizer over candle vars, as a
//! [`candle_nn::optim::Optimizer`].

use crate::inplace::{self, Elem, GradLocks, Views};
use crate::Config;
use candle_core::backprop::GradStore;
use candle_core::{DType, DeviceLocation, Tensor, Var};
use candle_nn::VarMap;
use std::collections::HashMap;
use std::path::Path;

/// Any optimist optimizer as a candle optimizer: [`candle_nn::optim::Optimizer`] over
/// f32 or f64 vars in CPU memory, updated in place.
///
/// Each [`step`](candle_nn::optim::Optimizer::step) hands every var that has a gradient
/// in the `GradStore` to one step of the optimist engine, which updates the vars' storage
/// in place with its SIMD loops and threads: no var or gradient is copied. A var with no
/// gradient is left out of the step.
///
/// Vars are named, so that the optimizer's state and parameter groups follow names:
/// [`Optimizer::from_varmap`] names them by their VarMap paths,
/// [`candle_nn::optim::Optimizer::new`] `var0`, `var1`, ... in order.
///
/// All vars are of one dtype, f32 or f64, in CPU memory. A var of another float dtype
/// (f16, bf16, ...) or on another device (CUDA, Metal) is an error naming it when the
/// optimizer is built; integer vars, which have no gradients, are left out, as
/// candle_nn's optimizers leave them.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use candle_nn::{Optimizer as _, VarBuilder, VarMap};
///
/// let varmap = VarMap::new();
/// let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
/// let w = vb.get_with_hints((2,), "w", candle_nn::Init::Const(1.0))?;
/// let config = optimist_candle::Config::parse("adamw:lr=0.1")?;
/// let mut opt = optimist_candle::Optimizer::from_varmap(&varmap, config)?;
/// let loss = w.sqr()?.sum_all()?;
/// opt.backward_step(&loss)?;
/// // AdamW's first step moves each weight by lr (and decays it by lr·weight_decay).
/// for x in w.to_vec1::<f32>()? {
///     assert!((x - 0.899).abs() < 1e-6, "{x}");
/// }
/// # Ok::<(), candle_core::Error>(())
/// ```
pub struct Optimizer {
    vars: Vec<Named>,
    /// Each var's storage key, sorted, to find gradients that share a var's storage.
    var_keys: Vec<usize>,
    inner: Inner,
    config: Config,
    /// The error of the last [`candle_nn::optim::Optimizer::set_learning_rate`], which
    /// cannot return it: the next step does.
    pending: Option<optimist::Error>,
}

/// A var and its name.
struct Named {
    name: String,
    var: Var,
    key: usize,
}

/// The optimist optimizer, in the vars' element type.
enum Inner {
    F32(Box<dyn optimist::Optimizer<f32>>),
    F64(Box<dyn optimist::Optimizer<f64>>),
}

/// Calls `$body` with `$opt` bound to the optimizer of either element type.
macro_rules! with_inner {
    ($inner:expr, $opt:ident => $body:expr) => {
        match $inner {
            Inner::F32($opt) => $body,
            Inner::F64($opt) => $body,
        }
    };
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("label", &self.label())
            .field("vars", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl Optimizer {
    /// The optimizer for named vars: the names key the optimizer's state and match the
    /// patterns of parameter groups. Names must be distinct, and so must the vars.
    pub fn from_named<S: Into<String>>(
        vars: impl IntoIterator<Item = (S, Var)>,
        config: Config,
    ) -> candle_core::Result<Self> {
        let mut named: Vec<Named> = Vec::new();
        // Each name's and storage's index in `named`.
        let (mut names, mut keys) = (HashMap::new(), HashMap::<usize, usize>::new());
        for (name, var) in vars {
            let name = name.into();
            if !check_var(&name, var.dtype(), var.device().location())? {
                continue;
            }
            if !var.is_contiguous() {
                return Err(msg(format!(
                    "var '{name}' is not contiguous; optimist-candle updates contiguous vars"
                )));
            }
            if names.insert(name.clone(), named.len()).is_some() {
                return Err(msg(format!(
                    "two vars are named '{name}'; each name may be given once"
                )));
            }
            let key = inplace::storage_key(&var);
            if let Some(&other) = keys.get(&key) {
                return Err(msg(format!(
                    "vars '{}' and '{name}' share their storage (the same var given twice?); each var may be given once",
                    named[other].name
                )));
            }
            keys.insert(key, named.len());
            named.push(Named { name, var, key });
        }
        let all: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
        let inner = match named.first().map(|n| n.var.dtype()) {
            Some(DType::F64) => {
                Inner::F64(config.build_for(&all).map_err(candle_core::Error::wrap)?)
            }
            _ => Inner::F32(config.build_for(&all).map_err(candle_core::Error::wrap)?),
        };
        if let Some((first, other)) = named
            .first()
            .and_then(|f| Some((f, named.iter().find(|n| n.var.dtype() != f.var.dtype())?)))
        {
            return Err(msg(format!(
                "var '{}' is {:?} but var '{}' is {:?}; one optimizer updates vars of one dtype (build one per dtype)",
                other.name,
                other.var.dtype(),
                first.name,
                first.var.dtype()
            )));
        }
        let mut var_keys: Vec<usize> = named.iter().map(|n| n.key).collect();
        var_keys.sort_unstable();
        Ok(Optimizer {
            vars: named,
            var_keys,
            inner,
            config,
            pending: None,
        })
    }

    /// The optimizer for every var of `varmap`, each named by its path (e.g.
    /// `fc1.weight`), in the order of their names.
    pub fn from_varmap(varmap: &VarMap, config: Config) -> candle_core::Result<Self> {
        let mut vars: Vec<(String, Var)> = {
            let data = varmap
                .data()
                .lock()
                .map_err(|_| msg("the VarMap's lock is poisoned (a thread panicked holding it)"))?;
            data.iter().map(|(n, v)| (n.clone(), v.clone())).collect()
        };
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Self::from_named(vars, config)
    }

    /// The vars' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|n| n.name.as_str())
    }

    /// The configuration built.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The optimizer with its hyperparameters, e.g. `adamw(lr=0.001, betas=0.9/0.999, ...)`.
    pub fn label(&self) -> String {
        with_inner!(&self.inner, o => o.label())
    }

    /// Steps taken (steps skipped for non-finite gradients not counted).
    pub fn steps(&self) -> u64 {
        with_inner!(&self.inner, o => o.steps())
    }

    /// Sets the learning rate of the following steps (the base that a schedule scales),
    /// or says why it cannot: a negative or non-finite value, or an optimizer without
    /// one. On an error the learning rate stays as it was.
    pub fn try_set_learning_rate(&mut self, lr: f64) -> candle_core::Result<()> {
        with_inner!(&mut self.inner, o => o.set_learning_rate(lr)).map_err(candle_core::Error::wrap)
    }

    /// Saves the optimizer's state (moments, step counts, schedule position) to `path`,
    /// written whole or not at all.
    pub fn save(&self, path: &Path) -> candle_core::Result<()> {
        with_inner!(&self.inner, o => o.save(path)).map_err(candle_core::Error::wrap)
    }

    /// Loads the state [`Optimizer::save`] wrote, from an optimizer built alike; on an
    /// error nothing changes.
    pub fn load(&mut self, path: &Path) -> candle_core::Result<()> {
        with_inner!(&mut self.inner, o => o.load(path)).map_err(candle_core::Error::wrap)
    }

    /// The vars that have a gradient in `grads`, each with its gradient in CPU memory,
    /// of its dtype and shape, and contiguous (copied if it was not), and the key of
    /// the gradient's storage; a gradient that shares a var's storage is copied too
    /// (see `inplace`).
    fn stepped(&self, grads: &GradStore) -> candle_core::Result<Vec<(usize, Tensor, usize)>> {
        let mut stepped = Vec::with_capacity(self.vars.len());
        for (i, n) in self.vars.iter().enumerate() {
            let Some(grad) = grads.get(&n.var) else {
                continue;
            };
            if grad.device().location() != DeviceLocation::Cpu {
                return Err(msg(format!(
                    "the gradient of var '{}' is on {:?}; optimist-candle updates vars in CPU memory",
                    n.name,
                    grad.device().location()
                )));
            }
            if grad.dtype() != n.var.dtype() || grad.dims() != n.var.dims() {
                return Err(msg(format!(
                    "the gradient of var '{}' is {:?} of shape {:?}, but the var is {:?} of shape {:?}",
                    n.name,
                    grad.dtype(),
                    grad.dims(),
                    n.var.dtype(),
                    n.var.dims()
                )));
            }
            let mut grad = grad.contiguous()?;
            let mut key = inplace::storage_key(&grad);
            if self.var_keys.binary_search(&key).is_ok() {
                grad = grad.copy()?;
                key = inplace::storage_key(&grad);
            }
            stepped.push((i, grad, key));
        }
        Ok(stepped)
    }

    /// One engine step over the stepped vars, in place.
    fn step_in<F: Elem>(
        vars: &[Named],
        opt: &mut dyn optimist::Optimizer<F>,
        stepped: &[(usize, Tensor, usize)],
    ) -> candle_core::Result<()> {
        let grad_locks = GradLocks::new(stepped.iter().map(|(_, g, key)| (g, *key)));
        let views = grad_locks.views::<F>()?;
        let mut order: Vec<(&Tensor, usize)> = stepped
            .iter()
            .enumerate()
            .map(|(slot, (i, _, _))| (vars[*i].var.as_tensor(), slot))
            .collect();
        order.sort_by_key(|&(_, slot)| vars[stepped[slot].0].key);
        let mut finish = |views: Views<'_, F>| -> candle_core::Result<()> {
            let mut params = Vec::with_capacity(stepped.len());
            for ((value, grad), (i, _, _)) in views.values.into_iter().zip(views.grads).zip(stepped)
            {
                let (Some(value), Some(grad)) = (value, grad) else {
                    return Err(msg("a var or gradient was not locked"));
                };
                let n = &vars[*i];
                params.push(optimist::Param {
                    name: &n.name,
                    shape: n.var.dims(),
                    value,
                    grad,
                });
            }
            opt.step(&mut params).map_err(candle_core::Error::wrap)
        };
        if order.len() <= NEST_ON_CALLER {
            return inplace::nest(&order, views, &mut finish);
        }
        // One level of recursion per var: many vars nest on a thread with the stack
        // they need, whatever the caller's.
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("optimist-candle step".to_string())
                .stack_size(STACK_BASE + STACK_PER_VAR * order.len())
                .spawn_scoped(s, || inplace::nest(&order, views, &mut finish))
                .map_err(|e| {
                    msg(format!(
                        "cannot start the thread of a step of {} vars: {e}",
                        order.len()
                    ))
                })?
                .join()
                .map_err(|_| msg("the thread of a step panicked"))?
        })
    }
}

/// The most vars whose locks nest on the caller's stack (a few KiB each in a debug
/// build, whose threads may have 2 MiB).
const NEST_ON_CALLER: usize = 64;
/// The stack of a step's own thread: a base, and enough for each var's nested lock
/// (about 4 KiB measured in a debug build; four times that here).
const STACK_BASE: usize = 1 << 20;
const STACK_PER_VAR: usize = 16 << 10;

impl candle_nn::optim::Optimizer for Optimizer {
    type Config = Config;

    /// The optimizer for `vars`, named `var0`, `var1`, ... in order.
    fn new(vars: Vec<Var>, config: Config) -> candle_core::Result<Self> {
        let named = vars
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("var{i}"), v));
        Self::from_named(named, config)
    }

    /// One step of every var that has a gradient in `grads`, in place. An error found
    /// before the update (a learning rate refused since the last step, a gradient of
    /// another shape or dtype, a non-finite gradient, vars other than the state's)
    /// changes nothing.
    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        if let Some(e) = self.pending.take() {
            return Err(candle_core::Error::wrap(e));
        }
        let stepped = self.stepped(grads)?;
        match &mut self.inner {
            Inner::F32(o) => Self::step_in(&self.vars, o.as_mut(), &stepped),
            Inner::F64(o) => Self::step_in(&self.vars, o.as_mut(), &stepped),
        }
    }

    /// The learning rate of the next step (a schedule's current value); NaN for an
    /// optimizer without one.
    fn learning_rate(&self) -> f64 {
        with_inner!(&self.inner, o => o.learning_rate()).unwrap_or(f64::NAN)
    }

    /// Sets the learning rate as [`Optimizer::try_set_learning_rate`] does; since this
    /// method cannot return an error, the next step returns it (changing nothing).
    fn set_learning_rate(&mut self, lr: f64) {
        self.pending = with_inner!(&mut self.inner, o => o.set_learning_rate(lr)).err();
    }
}

/// Whether a var is stepped: `Ok(true)` for f32 and f64 vars in CPU memory, `Ok(false)`
/// for integer vars (no gradients, left out as candle_nn leaves them), and an error
/// naming the var for any other float dtype or device.
fn check_var(name: &str, dtype: DType, location: DeviceLocation) -> candle_core::Result<bool> {
    if location != DeviceLocation::Cpu {
        return Err(msg(format!(
            "var '{name}' is on {location:?}; optimist-candle updates vars in CPU memory only (move it with to_device(&Device::Cpu))"
        )));
    }
    match dtype {
        DType::F32 | DType::F64 => Ok(true),
        d if !d.is_float() => Ok(false),
        d => Err(msg(format!(
            "var '{name}' is {d:?}; optimist-candle updates f32 and f64 vars only (convert it with to_dtype(DType::F32))"
        ))),
    }
}

fn msg(text: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::msg(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_on_other_devices_and_of_other_dtypes_are_errors_naming_them() {
        let err = |dtype, location| {
            check_var("fc1.weight", dtype, location)
                .unwrap_err()
                .to_string()
        };
        let cuda = err(DType::F32, DeviceLocation::Cuda { gpu_id: 1 });
        assert!(cuda.starts_with("var 'fc1.weight' is on Cuda { gpu_id: 1 }; optimist-candle updates vars in CPU memory only"), "{cuda}");
        let metal = err(DType::F64, DeviceLocation::Metal { gpu_id: 0 });
        assert!(metal.starts_with("var 'fc1.weight' is on Metal"), "{metal}");
        for dtype in [DType::F16, DType::BF16, DType::F8E4M3] {
            let e = err(dtype, DeviceLocation::Cpu);
            assert!(
                e.starts_with(&format!(
                    "var 'fc1.weight' is {dtype:?}; optimist-candle updates f32 and f64 vars only"
                )),
                "{e}"
            );
        }
        assert!(check_var("w", DType::F32, DeviceLocation::Cpu).unwrap());
        assert!(check_var("w", DType::F64, DeviceLocation::Cpu).unwrap());
        assert!(!check_var("steps", DType::U32, DeviceLocation::Cpu).unwrap());
    }
}
