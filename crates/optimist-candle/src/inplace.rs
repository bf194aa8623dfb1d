//! Every stepped var's values as `&mut [F]` and every gradient as `&[F]`, all at once,
//! straight from candle's CPU storage, for one engine step.
//!
//! candle guards each storage with a lock. Read locks are plain guards
//! (`Tensor::storage_and_layout`), so the gradients' are taken first, in a loop; but
//! `&mut CpuStorage` is handed out only inside an in-place custom op
//! ([`InplaceOp1::cpu_fwd`]). The engine wants all tensors in one call (its SIMD loops
//! and threads run over all of them), so the op of each var runs the rest of the step
//! from inside its `cpu_fwd`: a recursion, one level per var, whose innermost level
//! holds every lock and calls the engine. No `unsafe`, no copy; the borrows end with the
//! locks.
//!
//! Vars are locked in the order of their storage's address, as candle's own
//! multi-tensor ops take their locks. Each storage is locked once: the vars' storages
//! are distinct (checked when the optimizer is built), gradients that share a storage
//! share its read lock, and a gradient that shares a var's storage was copied before (a
//! write lock under a read lock of the same storage would wait forever).

use candle_core::{CpuStorage, InplaceOp1, Layout, Storage, StorageRef, Tensor, WithDType};
use std::cell::RefCell;
use std::collections::HashMap;

/// The element types the engine updates: `f32` and `f64`.
pub(crate) trait Elem: optimist::Float + WithDType {
    fn values(s: &CpuStorage) -> Option<&[Self]>;
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
}

impl Elem for f32 {
    fn values(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl Elem for f64 {
    fn values(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn values_mut(s: &mut CpuStorage) -> Option<&mut [f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
}

/// A tensor's storage identity: the address of its storage, fixed while the tensor
/// lives. Takes the read lock for a moment.
pub(crate) fn storage_key(t: &Tensor) -> usize {
    let (storage, _) = t.storage_and_layout();
    std::ptr::from_ref::<Storage>(&storage).addr()
}

/// The slices of one step, by slot: each var's values and its gradient.
pub(crate) struct Views<'a, F> {
    pub values: Vec<Option<&'a mut [F]>>,
    pub grads: Vec<Option<&'a [F]>>,
}

/// Read locks on the gradients' storages, each taken once, and where each slot's
/// gradient lies in them.
pub(crate) struct GradLocks<'t> {
    guards: Vec<StorageRef<'t>>,
    /// Per slot: its guard and its gradient's layout.
    slots: Vec<(usize, &'t Layout)>,
}

impl<'t> GradLocks<'t> {
    /// Locks the storages of `grads` (one per slot, with its storage key) for reading.
    pub fn new(grads: impl IntoIterator<Item = (&'t Tensor, usize)>) -> Self {
        let mut locks = GradLocks {
            guards: Vec::new(),
            slots: Vec::new(),
        };
        let mut keys: HashMap<usize, usize> = HashMap::new();
        for (grad, key) in grads {
            // Keys read with the locks released: a second read lock on a storage this
            // thread holds could wait behind another thread's write.
            let guard = *keys.entry(key).or_insert_with(|| {
                locks.guards.push(grad.storage_and_layout().0);
                locks.guards.len() - 1
            });
            locks.slots.push((guard, grad.layout()));
        }
        locks
    }

    /// The slices, with each var's values still to fill.
    pub fn views<F: Elem>(&self) -> candle_core::Result<Views<'_, F>> {
        let mut grads = Vec::with_capacity(self.slots.len());
        for &(guard, layout) in &self.slots {
            let all = match &*self.guards[guard] {
                Storage::Cpu(cpu) => F::values(cpu),
                _ => None,
            }
            .ok_or_else(|| wrong_storage("gradient", F::DTYPE))?;
            grads.push(Some(&all[range(layout, all.len(), "gradient")?]));
        }
        Ok(Views {
            values: (0..grads.len()).map(|_| None).collect(),
            grads,
        })
    }
}

/// What runs once every lock is held.
pub(crate) type Finish<'f, F> = dyn FnMut(Views<'_, F>) -> candle_core::Result<()> + 'f;

/// Write-locks each var of `vars` (a tensor and its slot, sorted by storage key) in
/// turn, each inside the in-place op of the one before, filling in its values, and
/// calls `finish` with all of them held.
pub(crate) fn nest<F: Elem>(
    vars: &[(&Tensor, usize)],
    views: Views<'_, F>,
    finish: &mut Finish<'_, F>,
) -> candle_core::Result<()> {
    match vars.split_first() {
        None => finish(views),
        Some((&(tensor, slot), rest)) => tensor.inplace_op1(&Level {
            rest,
            slot,
            views: RefCell::new(Some(views)),
            finish: RefCell::new(finish),
        }),
    }
}

/// The in-place op of one var: takes its values and goes on with the next var.
struct Level<'l, 'v, 't, 'f, F> {
    rest: &'l [(&'t Tensor, usize)],
    slot: usize,
    // Cells since `cpu_fwd` takes `&self`; it runs once per op.
    views: RefCell<Option<Views<'v, F>>>,
    finish: RefCell<&'l mut Finish<'f, F>>,
}

impl<F: Elem> InplaceOp1 for Level<'_, '_, '_, '_, F> {
    fn name(&self) -> &'static str {
        "optimist-step"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let views = self.views.borrow_mut().take();
        // Shortened to this op's borrow of the storage.
        let mut views: Views<'_, F> =
            views.ok_or_else(|| candle_core::Error::msg("optimist-step ran twice"))?;
        let all = F::values_mut(storage).ok_or_else(|| wrong_storage("var", F::DTYPE))?;
        let len = all.len();
        views.values[self.slot] = Some(&mut all[range(layout, len, "var")?]);
        let mut finish = self.finish.borrow_mut();
        nest(self.rest, views, &mut **finish)
    }
}

/// The elements a contiguous layout covers.
fn range(layout: &Layout, len: usize, what: &str) -> candle_core::Result<std::ops::Range<usize>> {
    match layout.contiguous_offsets() {
        Some((start, end)) if end <= len => Ok(start..end),
        _ => Err(candle_core::Error::msg(format!(
            "optimist-candle: a {what} is not contiguous in its storage"
        ))),
    }
}

fn wrong_storage(what: &str, dtype: candle_core::DType) -> candle_core::Error {
    candle_core::Error::msg(format!(
        "optimist-candle: a {what} is not {dtype:?} in CPU memory"
    ))
}
